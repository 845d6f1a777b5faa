import NetConsoleUI
import NetEngine
import XCTest

/// The client pane's sessions in the state alone: what the network is asked to do, and what the transcript shows.
final class ConsoleSessionStateTests: XCTestCase {
    private let echo = "127.0.0.1:4000"

    private func state() -> ConsoleState {
        var state = ConsoleState(saveDirectory: "/tmp", pickerDirectory: "/tmp")
        state.target.setText(echo)
        return state
    }

    private func endpoint(_ text: String) -> Endpoint { try! Endpoint(parsing: text) }

    private func texts(_ state: ConsoleState) -> [String] { state.transcript.lines.map(\.text) }

    func testTheFirstMessageOpensASessionThatStaysForTheNext() {
        var state = state()
        var commands = state.sendMessage("one", target: echo, clock: "t", now: 0)
        XCTAssertEqual(commands, [.connect(id: 1, endpoint: endpoint(echo)), .send(id: 1, bytes: Array("one\n".utf8))])
        XCTAssertEqual(state.selectedSession?.statusText, "connecting…")
        state.sessionOpened(1, peer: echo, localAddress: "127.0.0.1:5555", clock: "t", now: 1)
        XCTAssertEqual(state.selectedSession?.statusText, "open")
        commands = state.sendMessage("two", target: echo, clock: "t", now: 2)
        XCTAssertEqual(commands, [.send(id: 1, bytes: Array("two\n".utf8))], "no second connection")
        XCTAssertEqual(state.sessionList.sessions.count, 1)
    }

    func testAnEchoShowsItsRoundTripAndEndsTheWaitingMarker() {
        var state = state()
        _ = state.sendMessage("ping", target: echo, clock: "t", now: 0)
        state.sessionOpened(1, peer: echo, clock: "t", now: 10)
        let sent = try! XCTUnwrap(state.transcript.lines.first { $0.text.hasPrefix("→ ") })
        XCTAssertEqual(sent.detail, ConsoleState.waitingMarker)
        state.sessionReceived(1, Array("pi".utf8), clock: "t", now: 10.001)
        state.sessionReceived(1, Array("ng\n".utf8), clock: "t", now: 10.002)
        XCTAssertEqual(state.transcript.lines.last?.text, "← ng")
        XCTAssertEqual(state.transcript.lines.last?.detail, "2.0 ms", "timed from the connection, not from the typing")
        XCTAssertFalse(state.transcript.lines.contains { $0.detail == ConsoleState.waitingMarker })
    }

    func testAnythingElseIsShownAsItArrivesLineByLine() {
        var state = state()
        state.target.setText("127.0.0.1:8080")
        _ = state.perform(.connect(target: "127.0.0.1:8080"), clock: "t", now: 0)
        state.sessionOpened(1, peer: "127.0.0.1:8080", clock: "t", now: 0)
        _ = state.sendMessage("GET / HTTP/1.0", target: "127.0.0.1:8080", clock: "t", now: 0)
        state.sessionReceived(1, Array("HTTP/1.0 200 OK\r\nServer: x\r\n\r\n<html>".utf8), clock: "12:00:01", now: 1)
        XCTAssertEqual(Array(texts(state).suffix(4)), ["← HTTP/1.0 200 OK", "  Server: x", "  ", "  <html>"])
        let first = state.transcript.lines[state.transcript.lines.count - 4]
        XCTAssertEqual(first.time, "12:00:01")
        XCTAssertEqual(first.detail, "36 B")
        XCTAssertFalse(state.transcript.lines.contains { $0.detail == ConsoleState.waitingMarker }, "not an echo server: nothing waits")
        // Unasked: bytes that come later are shown too, and no longer taken for an echo.
        state.sessionReceived(1, Array("GET".utf8), clock: "t", now: 2)
        XCTAssertEqual(texts(state).last, "← GET")
    }

    func testAHostilePeerCannotReachTheTerminalOrGrowTheTranscriptWithoutBound() {
        var state = state()
        _ = state.perform(.connect(target: echo), clock: "t", now: 0)
        state.sessionOpened(1, peer: echo, clock: "t", now: 0)
        state.sessionReceived(1, [0x1B, 0x5B, 0x32, 0x4A, 0xFF, 0xE2, 0x80, 0xAE] + Array("e\u{301} 👨‍👩‍👧 🇫🇷".utf8), clock: "t", now: 0)
        XCTAssertEqual(texts(state).last, "← \\x1b[2J\\xff\\u{202e}e\u{301} 👨‍👩‍👧 🇫🇷")
        let screen = ConsoleRenderer.render(state, cols: 80, rows: 24, now: 0).grid.text
        XCTAssertFalse(screen.unicodeScalars.contains { $0.value == 0x1B || $0.value == 0x202E }, screen)

        // A long line is cut into bounded lines; a chunk of many lines is counted past its share.
        state.sessionReceived(1, [UInt8](repeating: 0x61, count: 1000), clock: "t", now: 0)
        XCTAssertEqual(Array(texts(state).suffix(4)).map(\.count), [2 + 256, 2 + 256, 2 + 256, 2 + 232])
        state.sessionReceived(1, Array(String(repeating: "x\n", count: 1000).utf8), clock: "t", now: 0)
        XCTAssertEqual(texts(state).last, "  … \(2000 - 2 * ConsoleState.sessionChunkLines) more bytes in this chunk")
        for _ in 0..<100 { state.sessionReceived(1, Array(String(repeating: "y\n", count: 60).utf8), clock: "t", now: 0) }
        XCTAssertEqual(state.transcript.lines.count, ConsoleState.sessionLogCapacity)
        XCTAssertGreaterThan(state.droppedTranscriptLines, 0)
        let title = ConsoleRenderer.render(state, cols: 160, rows: 40, now: 0).grid.text
        XCTAssertTrue(title.contains("\(state.droppedTranscriptLines) earlier lines dropped"), title)
    }

    func testLineEndingsHexAndEscapesFollowTheSession() {
        var state = state()
        XCTAssertNil(state.handle(.control("t")))
        XCTAssertEqual(state.messageHint, "each message ends with CR LF")
        var commands = state.sendMessage("a\\tb", target: echo, clock: "t", now: 0)
        XCTAssertEqual(commands.last, .send(id: 1, bytes: Array("a\tb\r\n".utf8)))
        XCTAssertEqual(state.selectedSession?.lineEnding, .crlf, "a new session takes the setting")
        _ = state.handle(.control("o"))
        XCTAssertTrue(state.sendingHex)
        commands = state.sendMessage("00 ff", target: echo, clock: "t", now: 0)
        XCTAssertEqual(commands, [.send(id: 1, bytes: [0x00, 0xFF])], "hex goes as it is, no line end")
        XCTAssertEqual(texts(state).last, "→ \(echo)  \\x00\\xff")

        // A message that is not valid stays in the field and says why.
        state.message.setText("zz")
        XCTAssertNil(state.handle(.enter))
        XCTAssertEqual(state.message.text, "zz")
        XCTAssertTrue(state.messageHint?.contains("'z' is not a hex digit") ?? false, state.messageHint ?? "")
        _ = state.handle(.control("o"))
        state.message.setText("bad \\q")
        XCTAssertNil(state.handle(.enter))
        XCTAssertTrue(state.messageHint?.contains("\\q is not an escape") ?? false, state.messageHint ?? "")
        state.message.setText("")
        _ = state.handle(.control("t"))
        _ = state.handle(.control("t"))
        XCTAssertEqual(state.sendingLineEnding, .lf)
    }

    func testEnterOnAnEmptyMessageSendsALineEndOnlyOnAnOpenSession() {
        var state = state()
        XCTAssertNil(state.handle(.enter), "no session: a hint")
        _ = state.perform(.connect(target: echo), clock: "t", now: 0)
        state.sessionOpened(1, peer: echo, clock: "t", now: 0)
        XCTAssertEqual(state.handle(.enter), .sendEcho(target: echo, message: ""))
        XCTAssertEqual(state.sendMessage("", target: echo, clock: "t", now: 0), [.send(id: 1, bytes: [0x0A])])
    }

    func testEnterOnTheTargetConnectsAndSessionsSwitchWithTheirOwnTranscripts() {
        var state = state()
        state.focus = .target
        XCTAssertEqual(state.handle(.enter), .session(.connect(target: echo)))
        XCTAssertEqual(state.focus, .message)
        XCTAssertEqual(state.perform(.connect(target: echo), clock: "t", now: 0), [.connect(id: 1, endpoint: endpoint(echo))])
        _ = state.sendMessage("to one", target: echo, clock: "t", now: 0)
        XCTAssertEqual(state.perform(.connect(target: "localhost:9"), clock: "t", now: 0), [.connect(id: 2, endpoint: endpoint("localhost:9"))])
        XCTAssertEqual(state.target.text, "localhost:9")
        XCTAssertFalse(texts(state).contains { $0.contains("to one") }, "a new session's own transcript")
        state.sessionReceived(1, Array("late".utf8), clock: "t", now: 0)
        state.sessionConnectFailed(2, reason: "cannot connect to localhost:9: connection refused", clock: "12:00:02")
        XCTAssertEqual(state.selectedSession?.statusText, "closed: cannot connect to localhost:9: connection refused at 12:00:02")
        XCTAssertNil(state.handle(.control("n")))
        XCTAssertEqual(state.selectedSession?.id, 1)
        XCTAssertEqual(state.target.text, echo)
        XCTAssertTrue(texts(state).contains { $0.contains("to one") })
        XCTAssertEqual(texts(state).last, "← late", "what came while it was not shown")
        let title = ConsoleRenderer.render(state, cols: 80, rows: 24, now: 0).grid.text
        XCTAssertTrue(title.contains("[1… 127.0.0.1:4000]  2✗ localhost:9"), title)
        // Back on the closed one, Enter connects it again rather than opening a third.
        _ = state.handle(.control("p"))
        XCTAssertEqual(state.perform(.connect(target: "localhost:9"), clock: "t", now: 0), [.connect(id: 2, endpoint: endpoint("localhost:9"))])
        XCTAssertEqual(state.sessionList.sessions.count, 2)
    }

    func testHalfCloseDisconnectReconnectAndWhyItEnded() {
        var state = state()
        _ = state.perform(.connect(target: echo), clock: "t", now: 0)
        XCTAssertEqual(state.handle(.function(6)), .session(.finishSending))
        XCTAssertEqual(state.perform(.finishSending, clock: "t", now: 0), [], "not open yet")
        state.sessionOpened(1, peer: echo, clock: "t", now: 0)
        XCTAssertEqual(state.perform(.finishSending, clock: "t", now: 0), [.finishSending(id: 1)])
        XCTAssertEqual(state.selectedSession?.statusText, "FIN sent, reading")
        state.sessionReceived(1, Array("bye".utf8), clock: "t", now: 0)
        state.sessionPeerFinished(1, clock: "t")
        state.sessionClosed(1, error: nil, clock: "12:00:03")
        XCTAssertEqual(state.selectedSession?.statusText, "closed: closed by the peer at 12:00:03")
        XCTAssertTrue(texts(state).last?.hasPrefix("✗ closed by the peer · 3 B in") ?? false, texts(state).last ?? "")

        XCTAssertEqual(state.handle(.function(5)), .session(.reconnect))
        XCTAssertEqual(state.perform(.reconnect, clock: "t", now: 0), [.connect(id: 1, endpoint: endpoint(echo))])
        state.sessionOpened(1, peer: echo, clock: "t", now: 0)
        XCTAssertEqual(state.perform(.disconnect, clock: "t", now: 0), [.close(id: 1)])
        state.sessionClosed(1, error: nil, clock: "t")
        XCTAssertEqual(state.selectedSession?.statusText, "closed: closed by you at t")
        _ = state.perform(.reconnect, clock: "t", now: 0)
        state.sessionOpened(1, peer: echo, clock: "t", now: 0)
        state.sessionClosed(1, error: "connection reset by peer", clock: "t")
        XCTAssertEqual(texts(state).last?.hasPrefix("✗ connection reset by peer"), true)
        XCTAssertEqual(state.transcript.lines.last?.style, .bad)
    }

    func testResendTheSelectedMessage() {
        var state = state()
        _ = state.sendMessage("first", target: echo, clock: "t", now: 0)
        state.sessionOpened(1, peer: echo, clock: "t", now: 0)
        state.focus = .replies
        _ = state.handle(.home)
        XCTAssertEqual(state.handle(.character("r")), .session(.resend(index: 0)))
        XCTAssertEqual(state.perform(.resend(index: 0), clock: "t", now: 0), [], "the first line is not a message")
        XCTAssertEqual(state.messageHint, "select a → line in Replies to send it again")
        let sentIndex = state.transcript.lines.firstIndex { $0.text.hasPrefix("→ ") }!
        XCTAssertEqual(state.perform(.resend(index: sentIndex), clock: "t", now: 0), [.send(id: 1, bytes: Array("first\n".utf8))])
        XCTAssertTrue(KeyBindings.helpLines(for: .replies).contains { $0.contains("r ") && $0.contains("again") })
    }

    func testAnEchoThatNeverComesIsGivenUpAfterTheTimeout() {
        var state = state()
        _ = state.sendMessage("anyone?", target: echo, clock: "t", now: 0)
        state.sessionOpened(1, peer: echo, clock: "t", now: 0.5)
        state.expireEchoes(now: 2, timeout: 2, clock: "t")
        XCTAssertEqual(state.transcript.lines.first { $0.text.hasPrefix("→ ") }?.detail, ConsoleState.waitingMarker)
        state.expireEchoes(now: 2.6, timeout: 2, clock: "t")
        XCTAssertEqual(texts(state).last, "… no complete echo (0 of 8 bytes) within 2 s")
        XCTAssertFalse(state.transcript.lines.contains { $0.detail == ConsoleState.waitingMarker })
    }

    func testTheConsolesOwnSessionIsNotALossWhenQuitting() {
        var state = state()
        state.apply(.connectionOpened(id: 7, service: ConsoleState.echoService, peer: try! SocketAddress.resolve(host: "127.0.0.1", port: 5555)[0]),
                    now: 0, clock: "t")
        XCTAssertNil(state.handle(.control("c")), "a peer's connection: asks first")
        _ = state.handle(.character("n"))
        _ = state.perform(.connect(target: echo), clock: "t", now: 0)
        state.sessionOpened(1, peer: echo, localAddress: "127.0.0.1:5555", clock: "t", now: 0)
        XCTAssertEqual(state.handle(.control("c")), .quit)
    }

    /// The listener was stopped and its side of the session closed; the session (half-closed) is still the console's
    /// own, not "a session to other servers".
    func testTheConsolesOwnSessionStaysItsOwnAfterTheServerSideClosed() {
        var state = state()
        let local = try! SocketAddress.resolve(host: "127.0.0.1", port: 5555)[0]
        state.apply(.connectionOpened(id: 7, service: ConsoleState.echoService, peer: local), now: 0, clock: "t")
        _ = state.perform(.connect(target: echo), clock: "t", now: 0)
        state.sessionOpened(1, peer: echo, localAddress: "127.0.0.1:5555", clock: "t", now: 0)
        state.apply(.connectionClosed(id: 7, peer: local, bytesIn: 0, bytesOut: 0, reason: nil), now: 1, clock: "t")
        XCTAssertEqual(state.handle(.control("c")), .quit, "\(state.confirmation?.detail ?? [])")
    }

    func testASessionToAnotherServerIsALossWhenQuitting() {
        var state = state()
        _ = state.perform(.connect(target: "127.0.0.1:8080"), clock: "t", now: 0)
        state.sessionOpened(1, peer: "127.0.0.1:8080", localAddress: "127.0.0.1:6000", clock: "t", now: 0)
        XCTAssertNil(state.handle(.control("c")), "asks first")
        XCTAssertEqual(state.confirmation?.detail, ["1 session to other servers will be closed"])
        _ = state.handle(.character("n"))
        state.sessionClosed(1, error: nil, clock: "t")
        XCTAssertEqual(state.handle(.control("c")), .quit, "nothing open any more")
    }

    func testTargetsNameTCPOrUDP() throws {
        let cases: [(String, String, Bool)] = [
            ("127.0.0.1:80", "127.0.0.1:80", false), ("tcp://localhost:25", "localhost:25", false),
            ("udp://127.0.0.1:7", "127.0.0.1:7", true), ("UDP://[::1]:9", "[::1]:9", true), (":53", "127.0.0.1:53", false),
        ]
        for (text, endpoint, udp) in cases {
            let parsed = try ConsoleState.sessionTarget(text)
            XCTAssertEqual(parsed.endpoint.description, endpoint, text)
            XCTAssertEqual(parsed.udp, udp, text)
        }
        XCTAssertThrowsError(try ConsoleState.sessionTarget("udp://nowhere"))
    }

    func testAUDPSessionMatchesWholeDatagramsAndCountsTheLostOnes() {
        var state = state()
        let target = "udp://127.0.0.1:7"
        XCTAssertEqual(state.sendMessage("one", target: target, clock: "t", now: 0),
                       [.connect(id: 1, endpoint: endpoint("127.0.0.1:7"), udp: true), .send(id: 1, bytes: Array("one\n".utf8))])
        state.sessionOpened(1, peer: "127.0.0.1:7", clock: "t", now: 0)
        _ = state.sendMessage("two", target: target, clock: "t", now: 0.1)
        _ = state.sendMessage("three", target: target, clock: "t", now: 0.2)
        // Out of order, and a datagram that echoes nothing sent.
        state.sessionReceivedDatagram(1, Array("three\n".utf8), truncated: false, clock: "t", now: 0.25)
        XCTAssertEqual(state.transcript.lines.last?.text, "← three")
        XCTAssertEqual(state.transcript.lines.last?.detail, "50.0 ms")
        state.sessionReceivedDatagram(1, Array("one\n".utf8), truncated: false, clock: "t", now: 0.3)
        state.sessionReceivedDatagram(1, Array("stray".utf8), truncated: false, clock: "t", now: 0.3)
        XCTAssertEqual(texts(state).last, "← stray")
        state.expireEchoes(now: 2.05, timeout: 2, clock: "t")
        XCTAssertEqual(state.selectedSession?.statusText, "open · 3 sent · 2 echoed · 0 lost", "two is not 2 s old yet")
        state.expireEchoes(now: 2.1, timeout: 2, clock: "t")
        XCTAssertEqual(state.selectedSession?.statusText, "open · 3 sent · 2 echoed · 1 lost")
        XCTAssertEqual(texts(state).last, "… lost: no echo of 4 B within 2 s")
        XCTAssertFalse(state.transcript.lines.contains { $0.detail == ConsoleState.waitingMarker })
        XCTAssertEqual(state.perform(.finishSending, clock: "t", now: 3), [])
        XCTAssertEqual(state.messageHint, "UDP has no FIN: F7 closes the socket")
        state.sessionProblem(1, "nothing answers on UDP port 127.0.0.1:7 (port unreachable)", clock: "t")
        XCTAssertEqual(state.selectedSession?.isOpen, true, "a UDP problem does not end the session")
    }

    func testNineSessionsFitFromTheSmallestScreenUpAndATenthIsRefusedWhileAllAreOpen() {
        var state = state()
        for port in 1...SessionList.capacity {
            _ = state.perform(.connect(target: "host-with-a-long-name-\(port).example.org:\(port)"), clock: "t", now: 0)
            state.sessionOpened(port, peer: "10.0.0.\(port):\(port)", clock: "t", now: 0)
        }
        XCTAssertEqual(state.perform(.connect(target: "127.0.0.1:10"), clock: "t", now: 0), [])
        XCTAssertEqual(texts(state).last, "✗ 9 sessions are open: close one (F7) first")
        _ = state.handle(.control("n"))
        XCTAssertEqual(state.selectedSession?.id, 1, "from the last, ^N goes round to the first")
        for (cols, rows) in [(60, 16), (80, 24), (100, 30), (160, 45), (250, 60)] {
            let screen = ConsoleRenderer.render(state, cols: cols, rows: rows, now: 0)
            for row in 0..<rows {
                XCTAssertLessThanOrEqual(screen.grid.text(ofRow: row).displayWidth, cols, "\(cols)x\(rows) row \(row)")
            }
            let title = screen.grid.text.split(separator: "\n").first { $0.contains("CLIENT") } ?? ""
            XCTAssertTrue(title.contains("[1●"), "the shown session is always listed at \(cols)x\(rows): \(title)")
        }
        // Once one is closed, a new one takes its place.
        state.sessionClosed(3, error: nil, clock: "t")
        XCTAssertEqual(state.perform(.connect(target: "127.0.0.1:10"), clock: "t", now: 0), [.connect(id: 10, endpoint: endpoint("127.0.0.1:10"))])
        XCTAssertEqual(state.sessionList.sessions.map(\.id), [1, 2, 4, 5, 6, 7, 8, 9, 10])
    }

    func testACharacterCutBetweenTwoChunksIsShownWhole() {
        var state = state()
        _ = state.perform(.connect(target: echo), clock: "t", now: 0)
        state.sessionOpened(1, peer: echo, clock: "t", now: 0)
        state.sessionReceived(1, [0x61, 0xD0], clock: "t", now: 0)
        XCTAssertEqual(texts(state).last, "← a")
        state.sessionReceived(1, [0x9F, 0xF0, 0x9F], clock: "t", now: 0)
        XCTAssertEqual(texts(state).last, "← П")
        XCTAssertEqual(state.transcript.lines.last?.detail, "3 B", "the size is what arrived")
        state.sessionReceived(1, [0x91, 0x8D], clock: "t", now: 0)
        XCTAssertEqual(texts(state).last, "← 👍")
        // A start that never ends is shown as its bytes when the connection ends.
        state.sessionReceived(1, [0x62, 0xE2, 0x82], clock: "t", now: 0)
        state.sessionPeerFinished(1, clock: "t")
        XCTAssertEqual(Array(texts(state).suffix(3)), ["← b", "← \\xe2\\x82", "← FIN: the peer sends nothing more"])
        for (bytes, cut) in [([UInt8](), 0), ([0x61], 0), ([0xC3], 1), ([0xC3, 0xA9], 0), ([0xF0, 0x9F, 0x91], 3), ([0xFF], 0), ([0x80, 0x80, 0x80], 0)] {
            XCTAssertEqual(ConsoleState.unfinishedCharacterLength(bytes), cut, "\(bytes)")
        }
    }

    func testAClickOnASessionInTheClientTitleShowsIt() {
        var state = state()
        state.screenCols = 80
        state.screenRows = 24
        _ = state.perform(.connect(target: echo), clock: "t", now: 0)
        _ = state.perform(.connect(target: "127.0.0.1:4001"), clock: "t", now: 0)
        let screen = ConsoleRenderer.render(state, cols: 80, rows: 24, now: 0)
        let row = (0..<24).first { screen.grid.text(ofRow: $0).contains("CLIENT") }!
        let text = screen.grid.text(ofRow: row)
        XCTAssertTrue(text.contains(" 1… 127.0.0.1:4000  [2… 127.0.0.1:4001]"), text)
        let column = text.distance(from: text.startIndex, to: text.range(of: "1… 127.0.0.1:4000")!.lowerBound)
        XCTAssertNil(state.handle(.click(row: row, col: column + 3)))
        XCTAssertEqual(state.selectedSession?.id, 1)
        XCTAssertEqual(state.target.text, echo)
        XCTAssertNil(state.handle(.click(row: row, col: 2)), "a click on CLIENT itself changes nothing")
        XCTAssertEqual(state.selectedSession?.id, 1)
    }
}
