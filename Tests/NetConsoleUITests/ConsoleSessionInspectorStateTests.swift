import NetConsoleUI
import NetEngine
import XCTest

/// A session's connection seen and acted on from the inspector (F8), and the hints the message field gives.
final class ConsoleSessionInspectorStateTests: XCTestCase {
    private let peer = "127.0.0.1:4000"

    private func openSession() -> ConsoleState {
        var state = ConsoleState(saveDirectory: "/tmp", pickerDirectory: "/tmp")
        state.target.setText(peer)
        _ = state.sendMessage("hello", target: peer, clock: "t", now: 0)
        state.sessionOpened(1, peer: peer, localAddress: "127.0.0.1:6000", clock: "t", now: 0)
        return state
    }

    private func screen(_ state: ConsoleState) -> String {
        let screen = ConsoleRenderer.render(state, cols: 80, rows: 24, now: 1)
        return (0..<screen.grid.rows).map { screen.grid.text(ofRow: $0) }.joined(separator: "\n")
    }

    func testWhatTheInspectorSendsOnASessionIsInItsTranscriptWithItsLineEnd() {
        var state = openSession()
        _ = state.handle(.control("t"))  // CRLF for this session
        XCTAssertEqual(state.selectedSession?.lineEnding, .crlf)
        state.openInspector(connectionID: 42, session: 1)
        let before = state.selectedSession?.bytesOut ?? 0
        let action = state.noteInspectorAction(.sendToConnection(id: 42, bytes: Array("abc\n".utf8)), clock: "t", now: 1)
        XCTAssertEqual(action, .sendToConnection(id: 42, bytes: Array("abc\r\n".utf8)), "the session's line end")
        XCTAssertEqual(state.selectedSession?.bytesOut, before + 5)
        XCTAssertEqual(state.transcript.lines.last?.text, "→ \(peer)  abc")
    }

    func testACloseOrResetFromTheInspectorIsTheUsersDoing() {
        for action in [ConsoleAction.closeConnection(id: 42), .resetConnection(id: 42)] {
            var state = openSession()
            state.openInspector(connectionID: 42, session: 1)
            XCTAssertEqual(state.noteInspectorAction(action, clock: "t", now: 1), action)
            state.sessionClosed(1, error: nil, clock: "t")
            XCTAssertTrue(state.transcript.lines.last?.text.hasPrefix("✗ closed by you") == true, "\(action): \(state.transcript.lines.last?.text ?? "")")
        }
        var state = openSession()
        state.openInspector(connectionID: 42)  // a server-side connection: no session is touched
        _ = state.noteInspectorAction(.closeConnection(id: 42), clock: "t", now: 1)
        state.sessionClosed(1, error: nil, clock: "t")
        XCTAssertEqual(state.transcript.lines.last?.text.hasPrefix("✗ closed by the peer"), true)
    }

    func testF8OnAUDPSessionSaysWhyNothingOpens() {
        var state = ConsoleState(saveDirectory: "/tmp", pickerDirectory: "/tmp")
        _ = state.sendMessage("one", target: "udp://127.0.0.1:7", clock: "t", now: 0)
        state.sessionOpened(1, peer: "127.0.0.1:7", clock: "t", now: 0)
        state.focus = .message
        XCTAssertNil(state.handle(.function(8)))
        XCTAssertTrue(screen(state).contains("a UDP session has no connection to inspect"), screen(state))
    }

    func testEnterWithABadEscapeSaysWhyInTheField() {
        var state = openSession()
        state.focus = .message
        for character in "A\\q" { _ = state.handle(.character(character)) }
        XCTAssertNil(state.handle(.enter))
        XCTAssertEqual(state.message.text, "A\\q", "the text stays to be fixed")
        let text = screen(state)
        XCTAssertTrue(text.contains("\\q"), text)
        XCTAssertNotNil(state.messageHint)
        XCTAssertTrue(text.contains(String(state.messageHint!.prefix(20))), "the reason is on the screen:\n\(text)")
    }

    func testEnterOnAnEmptyMessageWithNoLineEndSaysThereIsNothingToSend() {
        var state = openSession()
        state.focus = .message
        _ = state.handle(.control("t"))
        _ = state.handle(.control("t"))
        XCTAssertEqual(state.selectedSession?.lineEnding, LineEnding.none)
        XCTAssertNil(state.handle(.enter))
        XCTAssertTrue(screen(state).contains("nothing to send"), screen(state))
    }

    func testMessagesTypedWhileConnectingAreMarkedNotSentWhenTheConnectFails() {
        var state = ConsoleState(saveDirectory: "/tmp", pickerDirectory: "/tmp")
        _ = state.sendMessage("lost msg", target: "127.0.0.1:1", clock: "t", now: 0)
        state.sessionConnectFailed(1, reason: "connection refused: 127.0.0.1:1", clock: "t")
        let lines = state.transcript.lines
        let sent = lines.first { $0.text.hasPrefix("→ ") }
        XCTAssertEqual(sent?.detail, "not sent", lines.map { "\($0.text) \($0.detail ?? "")" }.joined(separator: "\n"))
        XCTAssertEqual(lines.last?.text, "✗ 1 message was not sent")

        var opened = ConsoleState(saveDirectory: "/tmp", pickerDirectory: "/tmp")
        _ = opened.sendMessage("made it", target: "127.0.0.1:2", clock: "t", now: 0)
        opened.sessionOpened(1, peer: "127.0.0.1:2", clock: "t", now: 0)
        opened.sessionClosed(1, error: "reset by the peer", clock: "t")
        XCTAssertNil(opened.transcript.lines.first { $0.text.hasPrefix("→ ") }?.detail, "sent once the connection opened")
    }

    func testTheInspectorsHelpDoesNotListThePanesTabAndEsc() {
        let lines = KeyBindings.helpLines(for: .server, inspecting: true)
        let everywhere = lines.drop { !$0.hasPrefix("Everywhere") }.dropFirst().prefix { !$0.isEmpty }
        XCTAssertFalse(everywhere.contains { $0.contains("next part") || $0.contains("server pane") }, everywhere.joined(separator: "\n"))
        XCTAssertTrue(lines.contains { $0.contains("x Tab") && $0.contains("hex + ASCII or text") })
        XCTAssertTrue(KeyBindings.helpLines(for: .server).contains { $0.contains("next part") }, "still listed outside the inspector")
    }

    func testAFileSendsNewsGoesToTheActivityLogNotIntoTheSessionShown() throws {
        var state = openSession()
        let before = state.transcript.lines.count
        state.beginTransfer(name: "b.bin")
        let address = try SocketAddress.resolve(host: "127.0.0.1", port: 4001)[0]
        state.apply(FileSendEvent.connected(address), clock: "t")
        state.apply(FileSendEvent.fileConfirmed(index: 0, savedAs: "b.bin", sha256: "ab"), clock: "t")
        XCTAssertEqual(state.transcript.lines.count, before, "the session's transcript is the session's")
        XCTAssertTrue(state.log.lines.contains { $0.text.hasPrefix("✓ b.bin saved as b.bin") }, state.log.lines.map(\.text).joined(separator: "\n"))

        var alone = ConsoleState(saveDirectory: "/tmp", pickerDirectory: "/tmp")
        alone.beginTransfer(name: "c.bin")
        alone.apply(FileSendEvent.fileConfirmed(index: 0, savedAs: "c.bin", sha256: "cd"), clock: "t")
        XCTAssertTrue(alone.transcript.lines.contains { $0.text.hasPrefix("✓ c.bin saved as c.bin") }, "no session: Replies has it too")
    }
}
