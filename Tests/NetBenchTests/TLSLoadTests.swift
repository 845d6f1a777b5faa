import Foundation
import XCTest
import NetEngine
@testable import NetBench

/// The load generators over TLS, against an in-process TLS echo server: `bench echo --tls` and `--handshakes`.
final class TLSLoadTests: XCTestCase {
    private var loop: EventLoop!
    private var server: TCPServer!
    private var fingerprint: CertificateFingerprint!
    private let stopped = DispatchSemaphore(value: 0)

    override func setUpWithError() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("netconsole-tlsload-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: folder) }
        let pair = try ServerCertificate.generate(commonName: "localhost", names: ["localhost", "127.0.0.1"])
        let cert = folder.appendingPathComponent("cert.pem")
        let key = folder.appendingPathComponent("key.pem")
        try Data(pair.certificate).write(to: cert)
        try Data(pair.key).write(to: key)
        let context = try TLSContext.server(certificateFile: cert.path, keyFile: key.path)
        fingerprint = context.certificateFingerprint
        let loop = try EventLoop()
        self.loop = loop
        let server = TCPServer(service: "echo", loop: loop, sink: nil) { EchoHandler() }
        server.tls = context
        self.server = server
        let ready = DispatchSemaphore(value: 0)
        let stopped = self.stopped
        Thread {
            loop.run()
            stopped.signal()
        }.start()
        loop.execute { try? server.start(at: SocketAddress.resolve(host: "127.0.0.1", port: 0)[0]); ready.signal() }
        ready.wait()
    }

    override func tearDown() {
        let server = self.server!
        loop.execute { server.stop() }
        loop.stop()
        stopped.wait()
    }

    private var port: UInt16 { server.localAddress!.port }

    /// The generator's connections are owned by nobody but the loop while they shake hands.
    func testTheEchoGeneratorDrivesATLSServerAndChecksEveryByte() throws {
        let generator = try EchoLoadGenerator(configuration: EchoLoadConfiguration(host: "127.0.0.1", port: port, connections: 4,
                                                                                requestSize: 20_000, duration: 0.3))
        generator.tls = try TLSClientConfiguration(pinned: fingerprint, knownServers: nil)
        let report = try generator.run()
        XCTAssertGreaterThan(report.requests, 0)
        XCTAssertEqual(report.mismatchedBytes, 0)
        XCTAssertEqual(report.errors, 0, "\(report.problems)")
    }

    func testAWrongPinFailsEveryConnectionWithTheReason() throws {
        let generator = try EchoLoadGenerator(configuration: EchoLoadConfiguration(host: "127.0.0.1", port: port, connections: 2,
                                                                                requestSize: 64, duration: 0.2))
        generator.tls = try TLSClientConfiguration(pinned: CertificateFingerprint(parsing: String(repeating: "0", count: 64)), knownServers: nil)
        XCTAssertThrowsError(try generator.run()) { error in
            XCTAssertTrue("\(error)".contains("is not the pinned one"), "\(error)")
        }
    }

    func testTheHandshakeGeneratorCountsCompleteHandshakes() throws {
        let generator = try HandshakeLoadGenerator(endpoint: Endpoint(host: "127.0.0.1", port: port),
                                                   tls: TLSClientConfiguration(pinned: fingerprint, knownServers: nil),
                                                   concurrency: 2, duration: 0.3, warmup: 0)
        let report = generator.run()
        XCTAssertGreaterThan(report.handshakes, 0)
        XCTAssertEqual(report.errors, 0, "\(report.problems)")
    }
}
