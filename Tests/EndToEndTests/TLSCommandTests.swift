import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// The TLS failures a person meets, each one clear line and a non-zero exit, and the server serving on.
final class TLSCommandTests: XCTestCase {
    private var tls: TLSTestEnvironment!

    override func setUpWithError() throws {
        tls = try TLSTestEnvironment(self)
    }

    func testServeTLSMakesItsCertificateOnceAndLogsTheFingerprintOpenSSLComputes() throws {
        let (first, _, fingerprint) = try tls.startServer(self)
        XCTAssertTrue(first.stderr.contains("TLS fingerprint \(fingerprint) (a self-signed certificate made now: \(tls.certificate))"), first.stderr)
        var info = stat()
        XCTAssertEqual(stat(tls.certificate.replacingOccurrences(of: "tls-cert.pem", with: "tls-key.pem"), &info), 0)
        XCTAssertEqual(info.st_mode & 0o777, 0o600)
        if let openssl = which("openssl") {
            let printed = try tls.run(executable: openssl, ["x509", "-in", tls.certificate, "-noout", "-fingerprint", "-sha256"])
            let hex = printed.stdout.components(separatedBy: "=").last!.replacingOccurrences(of: ":", with: "")
                .trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
            XCTAssertEqual("SHA256:" + hex, fingerprint)
        }
        let (second, _, again) = try tls.startServer(self)
        XCTAssertEqual(again, fingerprint)
        XCTAssertTrue(second.stderr.contains("TLS fingerprint \(again) (certificate \(tls.certificate))"), second.stderr)
    }

    func testTheFirstUseIsRememberedAndAChangedCertificateIsRefused() throws {
        let (first, port, oldPrint) = try tls.startServer(self)
        let trusted = try tls.run(["echo", "--tls", "127.0.0.1:\(port)"], input: Data("hi\n".utf8))
        XCTAssertEqual(trusted.status, 0, trusted.stderr)
        XCTAssertEqual(trusted.stdout, "hi\n")
        XCTAssertTrue(trusted.stderr.contains("first TLS connection to 127.0.0.1:\(port): trusting its certificate \(oldPrint)"), trusted.stderr)
        XCTAssertEqual(try String(contentsOfFile: tls.knownServers, encoding: .utf8), "127.0.0.1:\(port) \(oldPrint)\n")
        let known = try tls.run(["echo", "--tls", "127.0.0.1:\(port)"], input: Data("again\n".utf8))
        XCTAssertEqual(known.status, 0, known.stderr)
        XCTAssertEqual(known.stderr, "")

        // Another server (another certificate) on the same port: the client must refuse it, saying both fingerprints.
        first.interrupt()
        XCTAssertEqual(first.waitForExit(timeout: 5), 0)
        let impostor = try TLSTestEnvironment(self, config: "other-config", root: tls.root)
        let (_, samePort, newPrint) = try impostor.startServer(self, ["--port", "\(port)"])
        XCTAssertEqual(samePort, port)
        let refused = try tls.run(["echo", "--tls", "127.0.0.1:\(port)"], input: Data("secret\n".utf8))
        XCTAssertEqual(refused.status, 1)
        XCTAssertEqual(refused.stdout, "")
        XCTAssertEqual(refused.stderr, "netconsole: the certificate of 127.0.0.1:\(port) has CHANGED since it was first trusted: known \(oldPrint), "
                       + "now \(newPrint); someone may be intercepting the connection. If the server really has a new certificate, "
                       + "remove line 1 (127.0.0.1:\(port)) from \(tls.knownServers)\n")
        let send = try tls.run(["send", "--tls", tls.certificate, "--to", "127.0.0.1:\(port)"])
        XCTAssertEqual(send.status, 1)
        XCTAssertTrue(send.stderr.contains("has CHANGED since it was first trusted"), send.stderr)
    }

    func testAPinnedFingerprintIsTrustedAndAnotherIsRefused() throws {
        let (_, port, fingerprint) = try tls.startServer(self)
        let colons = stride(from: 7, to: 71, by: 2).map { String(Array(fingerprint)[$0..<$0 + 2]).uppercased() }.joined(separator: ":")
        let pinned = try tls.run(["connect", "--tls", "--fingerprint", colons, "127.0.0.1:\(port)"], input: Data("pinned\n".utf8))
        XCTAssertEqual(pinned.status, 0, pinned.stderr)
        XCTAssertEqual(pinned.stdout, "pinned\n")
        XCTAssertFalse(FileManager.default.fileExists(atPath: tls.knownServers), "a pinned server is not remembered")
        let wrong = "SHA256:" + String(repeating: "0", count: 64)
        let refused = try tls.run(["echo", "--tls", "--fingerprint", wrong, "127.0.0.1:\(port)"], input: Data("x\n".utf8))
        XCTAssertEqual(refused.status, 1)
        XCTAssertEqual(refused.stderr, "netconsole: the certificate of 127.0.0.1:\(port) is not the pinned one: --fingerprint \(wrong), the server showed \(fingerprint)\n")
        let bad = try tls.run(["echo", "--tls", "--fingerprint", "SHA256:12", "127.0.0.1:\(port)"])
        XCTAssertEqual(bad.status, 64)
        XCTAssertTrue(bad.stderr.contains("expected SHA256: and 64 hex digits, got 2"), bad.stderr)
    }

    func testPlainClientsOnATLSPortFailClearlyAndTheServerKeepsServing() throws {
        let folder = try makeTemporaryDirectory(self)
        let (server, port, fingerprint) = try tls.startServer(self, ["--echo", "--files", folder.path])
        let echo = try tls.run(["echo", "127.0.0.1:\(port)"], input: Data("plain\n".utf8))
        XCTAssertEqual(echo.status, 1)
        XCTAssertTrue(echo.stderr.hasPrefix("netconsole: server 127.0.0.1:\(port) "), echo.stderr)
        XCTAssertTrue(echo.stderr.contains("if it speaks TLS, connect with --tls"), echo.stderr)
        XCTAssertEqual(echo.stderr.split(separator: "\n").count, 1, echo.stderr)
        XCTAssertTrue(server.waitForStderr { $0.contains("TLS handshake failed: a plain-text client on a TLS port (it sent \"plain\\x0a\")") }, server.stderr)

        let note = tls.root.appendingPathComponent("note.txt")
        try Data("hello\n".utf8).write(to: note)
        let send = try tls.run(["send", note.path, "--to", "127.0.0.1:\(server.listeningPort(service: "files"))"])
        XCTAssertEqual(send.status, 1)
        XCTAssertTrue(send.stderr.contains("(the server said nothing: if it speaks TLS, add --tls)"), send.stderr)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { !$0.hasPrefix(".") }, [])

        let served = try tls.run(["echo", "--tls", "--fingerprint", fingerprint, "127.0.0.1:\(port)"], input: Data("tls\n".utf8))
        XCTAssertEqual(served.status, 0, served.stderr)
        XCTAssertEqual(served.stdout, "tls\n")
    }

    func testTLSClientsOnAPlainPortAreToldTheServerDoesNotSpeakTLS() throws {
        let folder = try makeTemporaryDirectory(self)
        let server = try tls.start(["serve", "--echo", "--files", folder.path, "--framed-only", "--port", "0"])
        defer { server.interrupt() }
        let port = server.listeningPort(service: "echo")
        for command in [["echo", "--tls", "127.0.0.1:\(port)"], ["connect", "--tls", "127.0.0.1:\(port)"]] {
            let result = try tls.run(command, input: Data("hi\n".utf8))
            XCTAssertEqual(result.status, 1, "\(command)")
            XCTAssertTrue(result.stderr.hasPrefix("netconsole: the server does not speak TLS"), "\(command): \(result.stderr)")
            XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, result.stderr)
        }
        let note = tls.root.appendingPathComponent("note.txt")
        try Data("hello\n".utf8).write(to: note)
        let send = try tls.run(["send", "--tls", note.path, "--to", "127.0.0.1:\(server.listeningPort(service: "files"))"])
        XCTAssertEqual(send.status, 1)
        XCTAssertTrue(send.stderr.contains("netconsole: the server does not speak TLS"), send.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: tls.knownServers))
    }

    func testANameMismatchAndAnExpiredCertificateAreRefused() throws {
        let other = try tls.writeCertificate("other", names: ["other.example"])
        let (_, port, _) = try tls.startServer(self, ["--cert", other.cert, "--key", other.key])
        let mismatch = try tls.run(["echo", "--tls", "--ca-file", other.cert, "127.0.0.1:\(port)"], input: Data("x\n".utf8))
        XCTAssertEqual(mismatch.status, 1)
        XCTAssertEqual(mismatch.stderr, "netconsole: the certificate of 127.0.0.1:\(port) is not for 127.0.0.1: it names another host\n")
        let unknown = try tls.run(["connect", "--tls", "--ca-file", tls.writeCertificate("unrelated", names: ["localhost"]).cert, "127.0.0.1:\(port)"])
        XCTAssertEqual(unknown.status, 1)
        XCTAssertTrue(unknown.stderr.contains("is not signed by an authority in "), unknown.stderr)

        let expired = try tls.writeCertificate("expired", names: ["localhost"], validFrom: -2 * 86400, validFor: 86400)
        let (_, expiredPort, _) = try tls.startServer(self, ["--cert", expired.cert, "--key", expired.key])
        let refused = try tls.run(["echo", "--tls", "--ca-file", expired.cert, "localhost:\(expiredPort)"], input: Data("x\n".utf8))
        XCTAssertEqual(refused.status, 1)
        XCTAssertTrue(refused.stderr.hasPrefix("netconsole: the certificate of localhost:\(expiredPort) has expired (it was valid until "), refused.stderr)
        XCTAssertEqual(refused.stderr.split(separator: "\n").count, 1, refused.stderr)
    }

    func testASecretOffLoopbackIsAllowedWithTLS() throws {
        let folder = try makeTemporaryDirectory(self)
        let secret = tls.root.appendingPathComponent("secret")
        try Data("tea for two\n".utf8).write(to: secret)
        let (server, _, _) = try tls.startServer(self, ["--files", folder.path, "--host", "0.0.0.0", "--secret-file", secret.path], service: "files")
        XCTAssertFalse(server.stderr.contains("clear text"), server.stderr)
        let contradiction = try tls.run(["serve", "--tls", "--insecure", "--files", folder.path, "--secret-file", secret.path, "--port", "0"])
        XCTAssertEqual(contradiction.status, 64)
        XCTAssertTrue(contradiction.stderr.contains("--insecure is for serving without --tls"), contradiction.stderr)
    }
}
