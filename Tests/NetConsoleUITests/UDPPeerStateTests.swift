import NetConsoleUI
import NetEngine
import XCTest

/// `console --udp`: the UDP echo server's peers as rows of the connection list.
final class UDPPeerStateTests: XCTestCase {
    private let first = try! SocketAddress.resolve(host: "127.0.0.1", port: 50001)[0]
    private let second = try! SocketAddress.resolve(host: "127.0.0.1", port: 50002)[0]

    private func screen(_ state: ConsoleState, now: Double) -> String {
        let screen = ConsoleRenderer.render(state, cols: 80, rows: 24, now: now)
        return (0..<screen.grid.rows).map { screen.grid.text(ofRow: $0) }.joined(separator: "\n")
    }

    func testEachPeerIsARowWithItsDatagramsAndBytesAndTheTotalsCountThem() {
        var state = ConsoleState(saveDirectory: "/srv", pickerDirectory: "/tmp")
        state.apply(.listening(service: ConsoleState.udpEchoService, address: first), now: 0, clock: "10:00:00")
        state.apply(.datagramsEchoed(service: ConsoleState.udpEchoService, peer: first, datagrams: 1, bytes: 5), now: 1, clock: "10:00:01")
        state.apply(.datagramsEchoed(service: ConsoleState.udpEchoService, peer: first, datagrams: 3, bytes: 15), now: 2, clock: "10:00:02")
        state.apply(.datagramsEchoed(service: ConsoleState.udpEchoService, peer: second, datagrams: 1, bytes: 100), now: 2, clock: "10:00:02")
        XCTAssertEqual(state.connections.count, 2, "one row per peer, however many datagrams")
        XCTAssertEqual(state.connections.map { $0.udp?.label }, ["u1", "u2"])
        XCTAssertEqual(state.connections[0].bytesIn, 15)
        XCTAssertEqual(state.connections[0].bytesOut, 15)
        XCTAssertEqual(ConsoleState.stateText(state.connections[0]), "3 datagrams")
        XCTAssertEqual(ConsoleState.stateText(state.connections[1]), "1 datagram")
        XCTAssertEqual(state.bytesInTotal, 115)
        XCTAssertEqual(state.acceptedTotal, 2)
        XCTAssertEqual(state.log.lines.filter { $0.text.contains("datagram") }.count, 2, "each peer's first datagram is logged once")
        let text = screen(state, now: 2)
        XCTAssertTrue(text.contains("udp 127.0.0.1:50001 on"), text)
        state.apply(.listening(service: ConsoleState.echoService, address: first), now: 2, clock: "10:00:02")
        let title = screen(state, now: 2).split(separator: "\n")[0]
        XCTAssertTrue(title.contains("echo 127.0.0.1:50001 on +udp") && !title.contains("udp 127"), "UDP beside echo on its address is said with it: \(title)")
        XCTAssertTrue(text.split(separator: "\n").contains { $0.hasPrefix(" u1 ") && $0.contains("3 datagrams") }, text)
    }

    func testAQuietPeerEndsLingersAndGoesAndEnterShowsItsLine() {
        var state = ConsoleState(saveDirectory: "/srv", pickerDirectory: "/tmp")
        state.apply(.datagramsEchoed(service: ConsoleState.udpEchoService, peer: first, datagrams: 2, bytes: 10), now: 1, clock: "t")
        state.focus = .server
        XCTAssertNil(state.handle(.enter), "a UDP peer has no connection to inspect")
        XCTAssertEqual(state.viewer?.title, "UDP peer u1")
        XCTAssertNil(state.inspector)
        _ = state.handle(.escape)
        state.expireClosedConnections(now: 1 + ConsoleState.udpPeerIdle - 1)
        XCTAssertNil(state.connections[0].closedAt, "not quiet long enough yet")
        state.expireClosedConnections(now: 1 + ConsoleState.udpPeerIdle)
        XCTAssertEqual(ConsoleState.stateText(state.connections[0]), "quiet · 2 datagrams")
        state.apply(.datagramsEchoed(service: ConsoleState.udpEchoService, peer: first, datagrams: 3, bytes: 15), now: 40, clock: "t")
        XCTAssertNil(state.connections[0].closedAt, "a datagram wakes its row")
        XCTAssertEqual(state.bytesInTotal, 15)
        state.expireClosedConnections(now: 40 + ConsoleState.udpPeerIdle)
        state.expireClosedConnections(now: 40 + ConsoleState.udpPeerIdle + 60)
        XCTAssertTrue(state.connections.isEmpty, "a quiet peer goes like a closed connection")
    }
}

/// The empty connection list says how to reach the console's own servers, whatever the client pane targets.
final class ServerHintStateTests: XCTestCase {
    func testTheHintNamesTheConsolesOwnEchoServerAndATLSClientUnderTLS() throws {
        var state = ConsoleState(saveDirectory: "/srv", pickerDirectory: "/tmp")
        let echo = try SocketAddress.resolve(host: "0.0.0.0", port: 44897)[0]
        let files = try SocketAddress.resolve(host: "127.0.0.1", port: 44898)[0]
        state.apply(.listening(service: ConsoleState.echoService, address: echo), now: 0, clock: "t")
        state.apply(.listening(service: ConsoleState.filesService, address: files), now: 0, clock: "t")
        state.target.setText("127.0.0.1:40005")  // a session elsewhere: not what the server pane should suggest
        func hint() -> String {
            let screen = ConsoleRenderer.render(state, cols: 100, rows: 30, now: 1)
            return (0..<screen.grid.rows).map { screen.grid.text(ofRow: $0) }.first { $0.contains("no connections yet") } ?? ""
        }
        XCTAssertTrue(hint().contains("try  nc 127.0.0.1 44897"), hint())
        state.tlsFingerprint = "SHA256:ab"
        XCTAssertTrue(hint().contains("try  openssl s_client -quiet -connect 127.0.0.1:44897"), hint())
    }
}
