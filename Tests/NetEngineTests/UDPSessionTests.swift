#if canImport(Glibc)
import Glibc
#endif
import NetEngine
import XCTest

/// A UDP session on an event loop with real sockets: datagrams both ways, a closed port and an oversize datagram
/// reported without ending it.
final class UDPSessionTests: XCTestCase {
    private var thread: LoopThread!
    /// What the session reported, as text, touched on the loop's thread only.
    private var reports: [String] = []

    override func setUpWithError() throws {
        thread = try LoopThread()
    }

    override func tearDown() {
        thread.shutdown()
    }

    private func startSession(to port: UInt16) throws -> UDPSession {
        try thread.sync {
            let session = UDPSession(loop: self.thread.loop, endpoint: Endpoint(host: "127.0.0.1", port: port)) { [unowned self] event in
                switch event {
                case let .opened(peer, local): self.reports.append("opened \(peer) from \(local?.host ?? "?")")
                case let .received(bytes, truncated): self.reports.append("received \(String(decoding: bytes, as: UTF8.self)) \(truncated)")
                case .problem(let reason): self.reports.append("problem \(reason)")
                case .failed(let reason): self.reports.append("failed \(reason)")
                }
            }
            session.start()
            return session
        }
    }

    private func waitForReport(_ predicate: @escaping (String) -> Bool, timeout: Double = 5) throws -> [String] {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let now = try thread.sync { self.reports }
            if now.contains(where: predicate) { return now }
            usleep(10_000)
        }
        return try thread.sync { self.reports }
    }

    func testDatagramsGoAndComeBackFromAnEchoServerOnTheSameLoop() throws {
        let server = try thread.sync { () -> UDPEchoServer in
            let server = UDPEchoServer(loop: self.thread.loop, sink: nil)
            try server.start(at: SocketAddress.resolve(host: "127.0.0.1", port: 0)[0])
            return server
        }
        let port = try XCTUnwrap(try thread.sync { server.localAddress?.port })
        let session = try startSession(to: port)
        XCTAssertTrue(try thread.sync { self.reports } == ["opened 127.0.0.1:\(port) from 127.0.0.1"], "a numeric host opens at once")
        try thread.sync { session.send(Array("ping".utf8)); session.send(Array("pong".utf8)) }
        let seen = try waitForReport { $0 == "received pong false" }
        XCTAssertEqual(Array(seen.dropFirst()), ["received ping false", "received pong false"])
        try thread.sync { session.close(); server.stop() }
    }

    func testAClosedPortAndAnOversizeDatagramAreReportedAndTheSessionGoesOn() throws {
        // A port nothing listens on: bound, its number taken, closed.
        let probe = try DatagramSocket.bound(to: SocketAddress.resolve(host: "127.0.0.1", port: 0)[0])
        let port = try XCTUnwrap(probe.localAddress?.port)
        probe.close()
        let session = try startSession(to: port)
        try thread.sync { session.send(Array("anyone?".utf8)) }
        var seen = try waitForReport { $0.hasPrefix("problem") }
        XCTAssertTrue(seen.contains("problem nothing answers on UDP port 127.0.0.1:\(port) (port unreachable)"), "\(seen)")
        try thread.sync { session.send([UInt8](repeating: 1, count: DatagramSocket.maxPayload + 1)) }
        seen = try waitForReport { $0.contains("larger than") }
        XCTAssertTrue(seen.contains("problem a datagram of 65508 bytes is larger than 65507, not sent"), "\(seen)")
        try thread.sync { session.close() }
    }
}
