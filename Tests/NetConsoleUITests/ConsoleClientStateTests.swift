import NetConsoleUI
import NetEngine
import XCTest

/// The client pane's echoes and transfers, in the state alone.
final class ConsoleClientStateTests: XCTestCase {
    private func state() -> ConsoleState {
        var state = ConsoleState(saveDirectory: "/tmp", pickerDirectory: "/tmp")
        state.target.setText("127.0.0.1:4000")
        return state
    }

    func testCtrlXCancelsATransferFromEveryPartAndOnlyWhileOneRuns() {
        var state = state()
        XCTAssertNil(state.handle(.control("x")), "nothing to cancel")
        state.beginTransfer(name: "photo.jpg")
        for focus in ConsoleFocus.allCases {
            state.focus = focus
            XCTAssertEqual(state.handle(.control("x")), .cancelTransfer, "from \(focus)")
        }
        XCTAssertTrue(KeyBindings.helpLines(for: .message).contains { $0.contains("^X") && $0.contains("cancel") })
        state.noteTransferCancelled(clock: "t")
        XCTAssertNil(state.handle(.control("x")))
    }

    func testEnterOnAnEmptyMessageSaysWhatToDoUntilTheNextKey() {
        var state = state()
        XCTAssertNil(state.handle(.enter))
        XCTAssertEqual(state.messageHint, "nothing to send: type a message, Enter sends it to 127.0.0.1:4000")
        var screen = ConsoleRenderer.render(state, cols: 80, rows: 24, now: 0).grid.text
        XCTAssertTrue(screen.contains("Message: nothing to send"), screen)
        _ = state.handle(.character("h"))
        XCTAssertNil(state.messageHint)
        screen = ConsoleRenderer.render(state, cols: 80, rows: 24, now: 0).grid.text
        XCTAssertFalse(screen.contains("nothing to send"))
        state.target.setText("")
        _ = state.handle(.control("u"))
        _ = state.handle(.enter)
        XCTAssertEqual(state.messageHint, "nothing to send: fill in Connect to (Shift-Tab), then type a message")
    }

    func testASentEchoWaitsUntilItsReplyOrItsFailure() {
        var state = state()
        // The session's own lines first: connecting, connected.
        _ = state.perform(.connect(target: "127.0.0.1:4000"), clock: "t", now: 0)
        state.sessionOpened(1, peer: "127.0.0.1:4000", clock: "t", now: 0)
        _ = state.sendMessage("one", target: "127.0.0.1:4000", clock: "t", now: 0)
        _ = state.sendMessage("two", target: "127.0.0.1:4000", clock: "t", now: 3)
        XCTAssertEqual(state.transcript.lines.map(\.detail), [nil, nil, ConsoleState.waitingMarker, ConsoleState.waitingMarker])
        state.sessionReceived(1, Array("one\n".utf8), clock: "t", now: 0.002)
        XCTAssertEqual(state.transcript.lines.map(\.detail), [nil, nil, nil, ConsoleState.waitingMarker, "2.0 ms"])
        state.expireEchoes(now: 8, timeout: 5, clock: "t")
        XCTAssertEqual(state.transcript.lines.map(\.detail), [nil, nil, nil, nil, "2.0 ms", nil])
    }

    func testTheRateIsRecentAndDropsWhenNothingMoves() {
        var meter = RateMeter()
        XCTAssertNil(meter.bytesPerSecond(now: 10))
        meter.record(0, at: 10)
        for tenth in 1...30 { meter.record(100_000, at: 10 + Double(tenth) / 10) }
        XCTAssertEqual(try XCTUnwrap(meter.bytesPerSecond(now: 13)), 1_000_000, accuracy: 60_000)
        XCTAssertEqual(meter.bytesPerSecond(now: 17), 0, "stalled for longer than the window")
    }

    func testTheProgressSaysBytesRateElapsedAndWhatIsLeft() {
        var state = state()
        state.beginTransfer(name: "big.bin", now: 100)
        state.apply(.fileStarted(index: 0, path: "/tmp/big.bin", size: 10 << 20), clock: "t", now: 100)
        for tenth in 1...20 { state.apply(.progress(index: 0, sent: Int64(tenth) << 18, size: 10 << 20), clock: "t", now: 100 + Double(tenth) / 10) }
        let figures = try? XCTUnwrap(state.transfer).figures(now: 102)
        XCTAssertEqual(figures, "5.0 MiB/10.0 MiB · 2.5 MiB/s · 0:02 · 0:02 left")
        let screen = ConsoleRenderer.render(state, cols: 80, rows: 24, now: 102).grid.text
        XCTAssertTrue(screen.contains("50% big.bin"), screen)
        XCTAssertTrue(screen.contains("│ 5.0/10.0 MiB 2.5 MiB/s 0:02 ETA 0:02"), "narrow, the figures are shorter:\n\(screen)")
        let wide = ConsoleRenderer.render(state, cols: 160, rows: 45, now: 102).grid.text
        XCTAssertTrue(wide.contains(" 5.0 MiB/10.0 MiB · 2.5 MiB/s · 0:02 · 0:02 left"), wide)
        XCTAssertTrue(screen.contains("^X cancel"), "the footer names ^X while a transfer runs:\n\(screen)")
    }

    func testAResumedSendSaysWhereItResumesAndItsRateCountsOnlyWhatMoves() {
        var state = state()
        state.beginTransfer(name: "big.bin", now: 100)
        state.apply(.fileStarted(index: 0, path: "/tmp/big.bin", size: 100 << 20), clock: "t", now: 100)
        state.apply(.resumed(index: 0, offset: 48 << 20, size: 100 << 20), clock: "t", now: 100)
        XCTAssertEqual(state.transcript.lines.last?.text, "resuming big.bin at 48 %")
        for tenth in 1...10 { state.apply(.progress(index: 0, sent: (48 << 20) + Int64(tenth) << 18, size: 100 << 20), clock: "t", now: 100 + Double(tenth) / 10) }
        let figures = try? XCTUnwrap(state.transfer).figures(now: 101)
        XCTAssertEqual(figures, "50.5 MiB/100 MiB · 2.5 MiB/s · 0:01 · 0:20 left", "the 48 MiB already there are no rate")
    }

    func testTheConnectionTableHasARateColumn() throws {
        var state = state()
        let peer = try SocketAddress.resolve(host: "127.0.0.1", port: 5000)[0]
        state.apply(.connectionOpened(id: 1, service: "echo", peer: peer), now: 0, clock: "t")
        for tenth in 1...20 { state.apply(.bytesReceived(id: 1, count: 512), now: Double(tenth) / 10, clock: "t") }
        let screen = ConsoleRenderer.render(state, cols: 80, rows: 24, now: 2).grid.text
        XCTAssertTrue(screen.contains("RATE"), screen)
        XCTAssertTrue(screen.contains(" 5.0 KiB/s "), screen)
    }

    func testCtrlRFindsEarlierMessagesAndEnterTakesOneWithoutSendingIt() {
        var state = state()
        state.message.loadHistory(["ping alpha", "hello world", "Ping beta"])
        _ = state.handle(.character("x"))
        XCTAssertNil(state.handle(.control("r")))
        for character in "ping" { XCTAssertNil(state.handle(.character(character))) }
        XCTAssertEqual(state.historySearch?.match, 2, "the newest match, whatever its case")
        var screen = ConsoleRenderer.render(state, cols: 80, rows: 24, now: 0).grid.text
        XCTAssertTrue(screen.contains("Search: ping") && screen.contains("→ Ping beta"), screen)
        XCTAssertTrue(screen.contains("^R older"), screen)
        _ = state.handle(.control("r"))
        XCTAssertEqual(state.historySearch?.match, 0)
        _ = state.handle(.control("r"))
        XCTAssertEqual(state.historySearch?.failed, true, "nothing older")
        XCTAssertEqual(state.historySearch?.match, 0)
        XCTAssertNil(state.handle(.enter), "Enter takes the message, it does not send it")
        XCTAssertNil(state.historySearch)
        XCTAssertEqual(state.message.text, "ping alpha")
        XCTAssertEqual(state.handle(.enter), .sendEcho(target: "127.0.0.1:4000", message: "ping alpha"))

        _ = state.handle(.character("y"))
        _ = state.handle(.control("r"))
        for character in "zzz" { _ = state.handle(.character(character)) }
        XCTAssertNil(state.historySearch?.match)
        screen = ConsoleRenderer.render(state, cols: 80, rows: 24, now: 0).grid.text
        XCTAssertTrue(screen.contains("no message contains that"), screen)
        _ = state.handle(.escape)
        XCTAssertEqual(state.message.text, "y", "Esc puts the field back")
        XCTAssertEqual(state.focus, .message, "and stays in it")
        _ = state.handle(.control("r"))
        _ = state.handle(.character("a"))
        XCTAssertNil(state.handle(.tab))
        XCTAssertEqual(state.message.text, "ping alpha", "another key takes the match")
        XCTAssertEqual(state.focus, .fileTarget, "and does what it does anywhere")
        XCTAssertTrue(KeyBindings.helpLines(for: .message).contains { $0.contains("^R") && $0.contains("search the history") })
    }
}
