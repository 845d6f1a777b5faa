#if canImport(Glibc)
import Glibc
#endif
import NetEngine
import XCTest

/// The UDP echo server on real sockets: sizes up to the limit, oversize datagrams, the per-turn bound that keeps a
/// flood from starving TCP on the same loop, and the access policy per datagram.
final class UDPEchoServerTests: XCTestCase {
    override func setUp() { ignoreBrokenPipeSignal() }

    private func startServer(host: String = "127.0.0.1", policy: AccessPolicy = AccessPolicy()) throws -> (UDPEchoServer, EventRecorder, SocketAddress) {
        let thread = try LoopThread()
        let recorder = EventRecorder()
        let server = try thread.sync { () -> UDPEchoServer in
            let server = UDPEchoServer(loop: thread.loop, sink: recorder.sink)
            server.accessPolicy = policy
            try server.start(at: SocketAddress.resolve(host: host, port: 0)[0])
            return server
        }
        addTeardownBlock {
            _ = try? thread.sync { server.stop() }
            thread.shutdown()
        }
        return (server, recorder, server.localAddress!)
    }

    /// Sends `bytes` as one datagram from a fresh socket; returns the echo, or nil after `timeout`.
    private func exchange(_ bytes: [UInt8], with address: SocketAddress, timeout: Double = 1) throws -> [UInt8]? {
        let socket = try DatagramSocket(family: address.family)
        try socket.connect(to: address)
        XCTAssertTrue(try bytes.withUnsafeBytes { try socket.send($0) })
        guard try socket.waitReadable(timeout: timeout) else { return nil }
        var buffer = [UInt8](repeating: 0, count: 70_000)
        let received = try XCTUnwrap(try buffer.withUnsafeMutableBytes { try socket.receive(into: $0) })
        return Array(buffer[0..<received.stored])
    }

    func testDatagramsUpToTheLimitComeBackUnchanged() throws {
        let (_, recorder, address) = try startServer()
        for size in [0, 1, 1472, 9000, DatagramSocket.maxPayload] {
            let payload = randomBytes(count: size, seed: UInt64(size) + 1)
            XCTAssertEqual(try exchange(payload, with: address), payload, "\(size) bytes")
        }
        XCTAssertTrue(recorder.wait { events in
            events.contains { if case let .datagramsEchoed(_, _, 1, bytes) = $0 { return bytes == DatagramSocket.maxPayload } else { return false } }
        }, "\(recorder.events)")
    }

    func testAnOversizeDatagramIsReportedNotEchoedAndTheServerGoesOn() throws {
        // Over IPv6 a datagram can be larger than IPv4's 65,507-byte limit.
        let (server, recorder, address) = try startServer(host: "::1")
        XCTAssertNil(try exchange([UInt8](repeating: 7, count: DatagramSocket.maxPayload + 1), with: address, timeout: 0.3))
        XCTAssertNil(try exchange([UInt8](repeating: 7, count: 65_527), with: address, timeout: 0.3))
        XCTAssertEqual(try exchange(Array("still here".utf8), with: address), Array("still here".utf8))
        XCTAssertTrue(recorder.wait { events in
            events.contains { if case let .datagramsDropped(_, _, 1, reason) = $0 { return reason == "a datagram of 65508 bytes is larger than 65507, not echoed" } else { return false } }
        }, "\(recorder.events)")
        XCTAssertEqual(server.datagramsDropped, 2)
    }

    /// One loop turn reads at most `datagramsPerTurn` datagrams, and a TCP client waiting on the same loop is served
    /// in that same turn: the flood is read in bounded batches between everyone else's turns.
    func testOneTurnReadsABoundedBatchAndServesTCPToo() throws {
        let loop = try EventLoop()
        let server = UDPEchoServer(loop: loop, datagramsPerTurn: 8, sink: nil)
        try server.start(at: SocketAddress.resolve(host: "127.0.0.1", port: 0)[0])
        let tcp = TCPServer(service: "echo", loop: loop, sink: nil) { EchoHandler() }
        try tcp.start(at: SocketAddress.resolve(host: "127.0.0.1", port: 0)[0])
        defer { server.stop(); tcp.stop() }

        let flood = try DatagramSocket(family: AF_INET)
        try flood.connect(to: server.localAddress!)
        for index in 0..<100 { XCTAssertTrue(try [UInt8(index)].withUnsafeBytes { try flood.send($0) }) }
        let client = try Socket.connect(host: "127.0.0.1", port: tcp.localAddress!.port)
        loop.runOnce(timeoutMilliseconds: 100)  // accepts the TCP client, reads 8 datagrams
        try client.sendAll("ping\n")
        usleep(20_000)
        loop.runOnce(timeoutMilliseconds: 100)  // the client's bytes and 8 more datagrams
        XCTAssertEqual(server.datagramsEchoed, 16, "two turns, 8 datagrams each")
        XCTAssertEqual(try receiveExactly(client, count: 5, timeout: 1), Array("ping\n".utf8), "TCP was served in between")
        for _ in 0..<20 { loop.runOnce(timeoutMilliseconds: 10) }
        XCTAssertEqual(server.datagramsEchoed, 100, "the rest in later turns")
    }

    func testARefusedSourceGetsNoEchoAndIsReported() throws {
        let policy = AccessPolicy(deny: [try CIDRBlock(parsing: "127.0.0.2")])
        let (server, recorder, address) = try startServer(policy: policy)
        let socket = try DatagramSocket(family: AF_INET)
        var local = sockaddr_in()
        local.sin_family = sa_family_t(AF_INET)
        local.sin_addr.s_addr = inet_addr("127.0.0.2")
        let bound = withUnsafePointer(to: &local) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket.descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        XCTAssertEqual(bound, 0)
        try socket.connect(to: address)
        XCTAssertTrue(try Array("hi".utf8).withUnsafeBytes { try socket.send($0) })
        XCTAssertFalse(try socket.waitReadable(timeout: 0.3), "no echo for a denied source")
        XCTAssertEqual(try exchange(Array("hi".utf8), with: address), Array("hi".utf8), "127.0.0.1 is still served")
        XCTAssertTrue(recorder.wait { events in
            events.contains { if case let .connectionDenied(service, peer, reason) = $0 {
                return service == "udp echo" && peer.host == "127.0.0.2" && reason == "denied by --deny 127.0.0.2/32"
            } else { return false } }
        }, "\(recorder.events)")
        XCTAssertEqual(server.datagramsDropped, 1)
    }
}
