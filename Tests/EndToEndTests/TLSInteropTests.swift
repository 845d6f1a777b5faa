import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// `serve --tls` and the `--tls` clients against real TLS peers: openssl s_client and s_server, socat OPENSSL,
/// ncat --ssl and Python's ssl module, each checking the other's certificate where it can.
final class TLSInteropTests: XCTestCase {
    private var tls: TLSTestEnvironment!

    override func setUpWithError() throws {
        tls = try TLSTestEnvironment(self)
    }

    private func payload(_ count: Int) -> Data {
        Data((0..<count).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 11) })
    }

    func testOpenSSLSClientVerifiesTheServerAndGetsItsEcho() throws {
        let openssl = try requireTool("openssl", package: "openssl")
        let (_, port, _) = try tls.startServer(self)
        let client = try tls.start(executable: openssl, ["s_client", "-connect", "127.0.0.1:\(port)", "-servername", "localhost",
                                                         "-CAfile", tls.certificate, "-verify_return_error", "-verify_hostname", "localhost", "-quiet"])
        defer { client.interrupt() }
        client.writeToStdin(Data("hello over tls\n".utf8))
        client.waitForStdout { $0.contains("hello over tls\n") }
        XCTAssertFalse(client.stderr.contains("verify error"), client.stderr)
    }

    func testAClientThatRejectsTheCertificateIsLoggedAndTheServerKeepsServing() throws {
        let openssl = try requireTool("openssl", package: "openssl")
        let (server, port, fingerprint) = try tls.startServer(self)
        // No CA file: s_client cannot verify the self-signed certificate and breaks off with an alert.
        let refusing = try tls.run(executable: openssl, ["s_client", "-connect", "127.0.0.1:\(port)", "-verify_return_error", "-quiet"],
                                   input: Data("x\n".utf8))
        XCTAssertNotEqual(refusing.status, 0, refusing.stderr)
        XCTAssertTrue(server.waitForStderr { $0.contains("TLS handshake failed: the client does not trust this server's certificate") }, server.stderr)
        let echo = try tls.run(["echo", "--tls", "--fingerprint", fingerprint, "127.0.0.1:\(port)"], input: Data("still serving\n".utf8))
        XCTAssertEqual(echo.status, 0, echo.stderr)
        XCTAssertEqual(echo.stdout, "still serving\n")
    }

    func testAClientOfferingOnlyTLS11IsRefusedAndTLS12IsServed() throws {
        let openssl = try requireTool("openssl", package: "openssl")
        let (server, port, _) = try tls.startServer(self)
        let old = try tls.run(executable: openssl, ["s_client", "-connect", "127.0.0.1:\(port)", "-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0"],
                              input: Data("x\n".utf8))
        XCTAssertNotEqual(old.status, 0)
        XCTAssertTrue(server.waitForStderr { $0.contains("TLS handshake failed: the client offers no TLS version this side accepts (TLS 1.2 or newer)") },
                      server.stderr)
        let current = try tls.start(executable: openssl, ["s_client", "-connect", "127.0.0.1:\(port)", "-tls1_2", "-CAfile", tls.certificate,
                                                          "-verify_return_error", "-verify_hostname", "localhost", "-quiet"])
        defer { current.interrupt() }
        current.writeToStdin(Data("tls 1.2\n".utf8))
        current.waitForStdout { $0.contains("tls 1.2\n") }
    }

    func testNcatSSLGetsItsEcho() throws {
        let ncat = try requireTool("ncat", package: "ncat")
        let (_, port, _) = try tls.startServer(self)
        let result = try tls.run(executable: ncat, ["--ssl", "--ssl-verify", "--ssl-trustfile", tls.certificate, "localhost", "\(port)"],
                                 input: Data("one\ntwo\n".utf8))
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(result.stdout, "one\ntwo\n")
    }

    func testPythonsSSLModuleVerifiesTheServerAndGetsItsEcho() throws {
        let python = try requireTool("python3", package: "python3")
        let (_, port, _) = try tls.startServer(self)
        let script = """
        import socket, ssl, sys
        context = ssl.create_default_context(cafile=sys.argv[1])
        with socket.create_connection(("127.0.0.1", int(sys.argv[2]))) as raw:
            with context.wrap_socket(raw, server_hostname="localhost") as s:
                message = bytes(range(256)) * 400
                s.sendall(message)
                echoed = b""
                while len(echoed) < len(message):
                    chunk = s.recv(65536)
                    if not chunk: break
                    echoed += chunk
                print(s.version(), echoed == message)
        """
        let result = try tls.run(executable: python, ["-c", script, tls.certificate, "\(port)"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(["TLSv1.3 True\n", "TLSv1.2 True\n"].contains(result.stdout), result.stdout + result.stderr)
    }

    func testSocatUploadsOverTLSToTheRawFileServer() throws {
        let socat = try requireTool("socat", package: "socat")
        let folder = try makeTemporaryDirectory(self)
        let source = tls.root.appendingPathComponent("upload.bin")
        try payload(2_000_000).write(to: source)
        let (server, port, _) = try tls.startServer(self, ["--files", folder.path, "--raw", "--no-fsync"], service: "files")
        let result = try tls.run(executable: socat, ["-u", "FILE:\(source.path)", "OPENSSL:localhost:\(port),cafile=\(tls.certificate)"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(server.waitForStderr { $0.contains(" saved ") }, server.stderr)
        let saved = try FileManager.default.contentsOfDirectory(atPath: folder.path)
        XCTAssertEqual(saved.count, 1, "\(saved)")
        XCTAssertEqual(try Data(contentsOf: folder.appendingPathComponent(saved[0])), payload(2_000_000))
    }

    func testEchoAndConnectVerifySocatsOpenSSLListener() throws {
        let socat = try requireTool("socat", package: "socat")
        let (cert, key) = try tls.writeCertificate("socat", names: ["localhost"])
        let port = try freePort()
        let listener = try tls.start(executable: socat, ["OPENSSL-LISTEN:\(port),bind=127.0.0.1,reuseaddr,fork,cert=\(cert),key=\(key),verify=0", "PIPE"])
        defer { listener.interrupt() }
        let echo = try tls.runAgainstStartingPeer(["echo", "--tls", "--ca-file", cert, "localhost:\(port)"], input: Data("a\nbb\n".utf8))
        XCTAssertEqual(echo.status, 0, echo.stderr)
        XCTAssertEqual(echo.stdout, "a\nbb\n")
        let connect = try tls.run(["connect", "--tls", "--ca-file", cert, "localhost:\(port)"], input: Data("through socat\n".utf8))
        XCTAssertEqual(connect.status, 0, connect.stderr)
        XCTAssertEqual(connect.stdout, "through socat\n")
        XCTAssertFalse(FileManager.default.fileExists(atPath: tls.knownServers), "a verified certificate is not remembered")
    }

    func testConnectTalksToOpenSSLSServer() throws {
        let openssl = try requireTool("openssl", package: "openssl")
        let (cert, key) = try tls.writeCertificate("s_server", names: ["localhost"])
        let port = try freePort()
        let server = try tls.start(executable: openssl, ["s_server", "-quiet", "-rev", "-naccept", "1", "-cert", cert, "-key", key,
                                                         "-accept", "127.0.0.1:\(port)"])
        defer { server.interrupt() }
        let result = try tls.runAgainstStartingPeer(["connect", "--tls", "--ca-file", cert, "localhost:\(port)"], input: Data("stressed\n".utf8))
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(result.stdout, "desserts\n")
    }

    func testFramedUploadsOverTLSAreVerifiedEndToEnd() throws {
        let folder = try makeTemporaryDirectory(self)
        let secret = tls.root.appendingPathComponent("secret")
        try Data("tea for two\n".utf8).write(to: secret)
        let first = tls.root.appendingPathComponent("first.bin")
        let second = tls.root.appendingPathComponent("second.bin")
        try payload(3_000_000).write(to: first)
        try payload(70_000).write(to: second)
        let (_, port, fingerprint) = try tls.startServer(self, ["--files", folder.path, "--host", "0.0.0.0", "--secret-file", secret.path,
                                                                "--no-fsync"], service: "files")
        let result = try tls.run(["send", "--tls", "--fingerprint", fingerprint, "--secret-file", secret.path, first.path, second.path,
                                  "--to", "127.0.0.1:\(port)"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.contains("first.bin: saved as first.bin"), result.stdout)
        XCTAssertTrue(result.stdout.contains("second.bin: saved as second.bin"), result.stdout)
        XCTAssertEqual(try Data(contentsOf: folder.appendingPathComponent("first.bin")), payload(3_000_000))
        XCTAssertEqual(try Data(contentsOf: folder.appendingPathComponent("second.bin")), payload(70_000))
    }

    func testRawSendOverTLSIntoSocat() throws {
        let socat = try requireTool("socat", package: "socat")
        let (cert, key) = try tls.writeCertificate("socat", names: ["localhost"])
        let source = tls.root.appendingPathComponent("raw.bin")
        let target = tls.root.appendingPathComponent("received.bin")
        try payload(1_500_000).write(to: source)
        let port = try freePort()
        let receiver = try tls.start(executable: socat, ["-u", "OPENSSL-LISTEN:\(port),bind=127.0.0.1,reuseaddr,cert=\(cert),key=\(key),verify=0",
                                                        "CREATE:\(target.path)"])
        defer { receiver.interrupt() }
        let result = try tls.runAgainstStartingPeer(["send", "--raw", "--tls", "--ca-file", cert, source.path, "--to", "localhost:\(port)"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(receiver.waitForExit(timeout: 5), 0)
        XCTAssertEqual(try Data(contentsOf: target), payload(1_500_000))
    }
}
