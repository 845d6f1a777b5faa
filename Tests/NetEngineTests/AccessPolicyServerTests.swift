#if canImport(Glibc)
import Glibc
#endif
import NetEngine
import NetText
import XCTest

/// The access policy on real listening sockets: 127.0.0.1 and ::1 are both loopback, so one policy can admit one
/// and refuse the other; 127.0.0.2 is a second IPv4 source when the client binds to it.
final class AccessPolicyServerTests: XCTestCase {
    override func setUp() { ignoreBrokenPipeSignal() }

    /// Echo servers on 127.0.0.1 and ::1 on one loop, both under `policy`.
    private func startServers(_ policy: AccessPolicy) throws -> (LoopThread, EventRecorder, v4: UInt16, v6: UInt16) {
        let thread = try LoopThread()
        let recorder = EventRecorder()
        let ports = try thread.sync { () -> (UInt16, UInt16) in
            var ports: [UInt16] = []
            for host in ["127.0.0.1", "::1"] {
                let server = TCPServer(service: "echo", loop: thread.loop, sink: recorder.sink) { EchoHandler() }
                server.accessPolicy = policy
                try server.start(at: SocketAddress.resolve(host: host, port: 0)[0])
                ports.append(server.localAddress!.port)
            }
            return (ports[0], ports[1])
        }
        addTeardownBlock { thread.shutdown() }
        return (thread, recorder, ports.0, ports.1)
    }

    /// Whether an echo comes back from `host`:`port` when the client speaks from `source` (nil: the kernel's choice).
    private func isServed(host: String, port: UInt16, from source: String? = nil) throws -> Bool {
        let connected: Socket
        if let source {
            connected = try XCTUnwrap(connectIPv4(to: host, port: port, from: source))
        } else {
            connected = try Socket.connect(host: host, port: port)
        }
        do {
            try connected.sendAll("ping\n")
            return try receiveExactly(connected, count: 5, timeout: 3) == Array("ping\n".utf8)
        } catch let error as SocketError {
            XCTAssertTrue([ECONNRESET, EPIPE].contains(error.code), "refused peers are reset: \(error)")
            return false
        }
    }

    /// A TCP connection to `host`:`port` from the IPv4 address `source`.
    private func connectIPv4(to host: String, port: UInt16, from source: String) -> Socket? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        let socket = Socket(adopting: fd, family: AF_INET)
        func address(_ text: String, _ port: UInt16) -> sockaddr_in {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr(text)
            address.sin_port = port.bigEndian
            return address
        }
        var local = address(source, 0)
        var remote = address(host, port)
        let length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &local) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        let connected = withUnsafePointer(to: &remote) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, length) } }
        XCTAssertEqual(bound, 0, "bind to \(source)")
        XCTAssertEqual(connected, 0, "connect from \(source)")
        return bound == 0 && connected == 0 ? socket : nil
    }

    private func denials(_ recorder: EventRecorder) -> [String] {
        recorder.events.compactMap {
            if case let .connectionDenied(service, peer, reason) = $0 { return "\(service) \(peer.host) \(reason)" }
            return nil
        }
    }

    func testAllowingIPv4RefusesIPv6() throws {
        let (_, recorder, v4, v6) = try startServers(AccessPolicy(allow: [try CIDRBlock(parsing: "127.0.0.0/8")]))
        XCTAssertTrue(try isServed(host: "127.0.0.1", port: v4))
        XCTAssertFalse(try isServed(host: "::1", port: v6))
        XCTAssertTrue(recorder.wait { _ in self.denials(recorder).count == 1 })
        XCTAssertEqual(denials(recorder), ["echo ::1 not in any --allow block"])
        XCTAssertEqual(recorder.openedCount, 1, "the refused peer never became a connection")
    }

    func testDenyingIPv4ServesIPv6() throws {
        let (_, recorder, v4, v6) = try startServers(AccessPolicy(deny: [try CIDRBlock(parsing: "127.0.0.1")]))
        XCTAssertFalse(try isServed(host: "127.0.0.1", port: v4))
        XCTAssertTrue(try isServed(host: "::1", port: v6))
        XCTAssertTrue(recorder.wait { _ in self.denials(recorder).count == 1 })
        XCTAssertEqual(denials(recorder), ["echo 127.0.0.1 denied by --deny 127.0.0.1/32"])
    }

    func testASecondIPv4SourceIsToldApart() throws {
        let policy = AccessPolicy(allow: [try CIDRBlock(parsing: "127.0.0.0/8")], deny: [try CIDRBlock(parsing: "127.0.0.2")])
        let (_, recorder, v4, _) = try startServers(policy)
        XCTAssertTrue(try isServed(host: "127.0.0.1", port: v4, from: "127.0.0.1"))
        XCTAssertFalse(try isServed(host: "127.0.0.1", port: v4, from: "127.0.0.2"))
        XCTAssertTrue(try isServed(host: "127.0.0.1", port: v4, from: "127.0.0.3"))
        XCTAssertTrue(recorder.wait { _ in self.denials(recorder).count == 1 })
        XCTAssertEqual(denials(recorder), ["echo 127.0.0.2 denied by --deny 127.0.0.2/32"])
    }

    func testTheDeniedLogLineNamesPeerServiceAndRule() throws {
        let peer = try SocketAddress.resolve(host: "10.0.0.7", port: 5000)[0]
        XCTAssertEqual(EventLogFormatter.line(for: .connectionDenied(service: "files", peer: peer, reason: "denied by --deny 10.0.0.0/8")),
                       "10.0.0.7:5000 denied (files): denied by --deny 10.0.0.0/8")
    }
}
