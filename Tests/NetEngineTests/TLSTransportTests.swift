import Foundation
#if canImport(Glibc)
import Glibc
#endif
@testable import NetEngine
import NetText
import XCTest

/// TLS in the engine: a TCPServer speaking TLS to the blocking EchoClient, certificates made in-process,
/// fingerprints and known servers.
final class TLSTransportTests: XCTestCase {
    private var folder: URL!
    private var thread: LoopThread!
    private var server: TCPServer!
    private let recorder = EventRecorder()

    override func setUpWithError() throws {
        folder = try XCTUnwrap(FileManager.default.temporaryDirectory.appendingPathComponent("netconsole-tls-\(UUID().uuidString)"))
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        addTeardownBlock { [folder] in try? FileManager.default.removeItem(at: folder!) }
    }

    override func tearDown() {
        if let thread, let server {
            _ = try? thread.sync { server.stop() }
            thread.shutdown()
        }
    }

    private func startServer(readBufferSize: Int = 64 * 1024, limits: ServerLimits = ServerLimits()) throws -> (Endpoint, CertificateFingerprint) {
        let certificate = try ServerCertificate.selfSigned(in: folder.appendingPathComponent("config").path)
        let context = try TLSContext.server(certificateFile: certificate.certificateFile, keyFile: certificate.keyFile)
        let thread = try LoopThread()
        let loop = thread.loop
        let sink = recorder.sink
        server = try thread.sync {
            let server = TCPServer(service: "echo", loop: loop, limits: limits, readBufferSize: readBufferSize, sink: sink) { EchoHandler() }
            server.tls = context
            try server.start(at: SocketAddress.resolve(host: "127.0.0.1", port: 0)[0])
            return server
        }
        self.thread = thread
        return (Endpoint(host: "127.0.0.1", port: server.localAddress!.port), try XCTUnwrap(context.certificateFingerprint))
    }

    private func pinned(_ fingerprint: CertificateFingerprint) throws -> TLSClientConfiguration {
        try TLSClientConfiguration(pinned: fingerprint, knownServers: nil)
    }

    /// A read buffer far smaller than a TLS record leaves decrypted bytes inside OpenSSL that no readiness event
    /// announces: the connection must still read them, or the echo stalls.
    func testASmallReadBufferStillEchoesEveryByte() throws {
        let (endpoint, fingerprint) = try startServer(readBufferSize: 1000)
        let client = try EchoClient(connectingTo: endpoint, tls: try pinned(fingerprint), timeout: 5)
        defer { client.close() }
        XCTAssertEqual(client.tls?.trustDecision, .pinned)
        let message = randomBytes(count: 300_000, seed: 14)
        XCTAssertEqual(try client.roundTrip(message, timeout: 5), message)
        XCTAssertEqual(try client.roundTrip(Array("one more line\n".utf8), timeout: 5), Array("one more line\n".utf8))
    }

    func testAPlainClientIsToldApartAndTheServerKeepsServing() throws {
        let (endpoint, fingerprint) = try startServer()
        let plain = try Socket.connect(host: endpoint.host, port: endpoint.port)
        try plain.sendAll("GET / HTTP/1.0\r\n\r\n")
        XCTAssertTrue(recorder.wait {
            $0.contains { if case let .tlsHandshakeFailed(_, _, reason) = $0 { return reason.contains("a plain-text client on a TLS port (it sent \"GET / HTTP/1.0\\x0d\\x0a") } else { return false } }
        }, "\(recorder.events)")
        plain.close()
        let client = try EchoClient(connectingTo: endpoint, tls: try pinned(fingerprint), timeout: 5)
        XCTAssertEqual(try client.roundTrip(Array("still here\n".utf8)), Array("still here\n".utf8))
        client.close()
    }

    func testASilentClientIsDroppedAfterTheHandshakeTimeout() throws {
        let (endpoint, _) = try startServer(limits: ServerLimits(headerTimeout: 0.3))
        let silent = try Socket.connect(host: endpoint.host, port: endpoint.port)
        defer { silent.close() }
        XCTAssertTrue(recorder.wait(timeout: 5) {
            $0.contains { if case let .tlsHandshakeFailed(_, _, reason) = $0 { return reason == "no TLS handshake within 0.3 s" } else { return false } }
        }, "\(recorder.events)")
        XCTAssertEqual(try receiveUntilEnd(silent, timeout: 5), [])
    }

    func testAPinThatDoesNotMatchIsRefusedWithBothFingerprints() throws {
        let (endpoint, fingerprint) = try startServer()
        let other = try CertificateFingerprint(parsing: "SHA256:" + String(repeating: "ab", count: 32))
        XCTAssertThrowsError(try EchoClient(connectingTo: endpoint, tls: try pinned(other), timeout: 5)) { error in
            XCTAssertEqual("\(error)", "the certificate of \(endpoint) is not the pinned one: --fingerprint \(other), the server showed \(fingerprint)")
        }
    }

    func testTrustOnFirstUseRemembersAndThenRefusesAnotherCertificate() throws {
        let (endpoint, fingerprint) = try startServer()
        let known = KnownServers(path: folder.appendingPathComponent("state/known_servers").path)
        let first = try EchoClient(connectingTo: endpoint, tls: TLSClientConfiguration(knownServers: known), timeout: 5)
        first.close()
        XCTAssertEqual(first.tls?.trustDecision, .firstUse(path: known.path))
        XCTAssertEqual(known.entry(for: endpoint.description)?.fingerprint, fingerprint)
        let again = try EchoClient(connectingTo: endpoint, tls: TLSClientConfiguration(knownServers: known), timeout: 5)
        again.close()
        XCTAssertEqual(again.tls?.trustDecision, .known(path: known.path))

        // The file now says another certificate belongs to this server: the one shown must be refused.
        let other = try CertificateFingerprint(parsing: String(repeating: "CD:", count: 31) + "CD")
        try "\(endpoint) \(other)\n".write(toFile: known.path, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try EchoClient(connectingTo: endpoint, tls: TLSClientConfiguration(knownServers: known), timeout: 5)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.hasPrefix("the certificate of \(endpoint) has CHANGED since it was first trusted: known \(other), now \(fingerprint)"), text)
            XCTAssertTrue(text.hasSuffix("remove line 1 (\(endpoint)) from \(known.path)"), text)
        }
    }

    func testASelfSignedCertificateIsMadeOnceWithAnOwnerOnlyKey() throws {
        let config = folder.appendingPathComponent("cfg/netconsole").path
        let first = try ServerCertificate.selfSigned(in: config)
        XCTAssertTrue(first.created)
        var info = stat()
        XCTAssertEqual(stat(first.keyFile, &info), 0)
        XCTAssertEqual(info.st_mode & 0o777, 0o600)
        XCTAssertEqual(stat(config, &info), 0)
        XCTAssertEqual(info.st_mode & 0o777, 0o700)
        let firstPrint = try TLSContext.server(certificateFile: first.certificateFile, keyFile: first.keyFile).certificateFingerprint
        let second = try ServerCertificate.selfSigned(in: config)
        XCTAssertFalse(second.created)
        XCTAssertEqual(try TLSContext.server(certificateFile: second.certificateFile, keyFile: second.keyFile).certificateFingerprint, firstPrint)
    }

    func testAKeyThatIsNotTheCertificatesIsRefused() throws {
        let one = try ServerCertificate.generate(commonName: "one", names: ["localhost"])
        let two = try ServerCertificate.generate(commonName: "two", names: ["localhost"])
        let certificate = folder.appendingPathComponent("one.pem").path
        let key = folder.appendingPathComponent("two-key.pem").path
        try Data(one.certificate).write(to: URL(fileURLWithPath: certificate))
        try Data(two.key).write(to: URL(fileURLWithPath: key))
        XCTAssertThrowsError(try TLSContext.server(certificateFile: certificate, keyFile: key)) { error in
            XCTAssertEqual("\(error)", "the key in \(key) does not belong to the certificate in \(certificate)")
        }
    }

    func testFingerprintsParseAsOpenSSLPrintsThem() throws {
        let hex = String(repeating: "0123456789abcdef", count: 4)
        let plain = try CertificateFingerprint(parsing: "SHA256:" + hex)
        XCTAssertEqual(plain.description, "SHA256:" + hex)
        let colons = stride(from: 0, to: 64, by: 2).map { String(Array(hex.uppercased())[$0..<$0 + 2]) }.joined(separator: ":")
        XCTAssertEqual(try CertificateFingerprint(parsing: "sha256 Fingerprint=" + colons), plain)
        XCTAssertThrowsError(try CertificateFingerprint(parsing: "SHA256:abc"))
        XCTAssertThrowsError(try CertificateFingerprint(parsing: "SHA256:" + String(hex.dropLast()) + "g"))
    }

    func testAFailedHandshakeIsOneEscapedLogLineAndOneJSONObject() throws {
        let peer = try SocketAddress.resolve(host: "127.0.0.1", port: 5000)[0]
        let event = NetEvent.tlsHandshakeFailed(id: 3, peer: peer, reason: "bad\u{1b}[2J\nline")
        let line = EventLogFormatter.line(for: event)
        XCTAssertTrue(line.hasPrefix("#3 127.0.0.1:5000 TLS handshake failed: bad"), line)
        XCTAssertFalse(line.unicodeScalars.contains { $0.value < 0x20 }, line)
        let json = EventJSON.line(for: event)
        XCTAssertTrue(json.contains(#""event":"tls_handshake_failed","id":3,"peer":"127.0.0.1:5000","reason":"bad\u001b[2J\nline""#), json)
    }
}
