import Foundation
import NetConsoleUI
import NetEngine
import XCTest

/// The console rendered to a text grid, with no terminal: layout, truncation and what peers can put on screen.
final class ConsoleRenderingTests: XCTestCase {
    private let peer = try! SocketAddress.resolve(host: "127.0.0.1", port: 50123)[0]
    private let echoAddress = try! SocketAddress.resolve(host: "127.0.0.1", port: 12345)[0]
    private let filesAddress = try! SocketAddress.resolve(host: "127.0.0.1", port: 12346)[0]

    private func busyState() -> ConsoleState {
        var state = ConsoleState(saveDirectory: "/srv/received", pickerDirectory: NSTemporaryDirectory())
        state.apply(.listening(service: "echo", address: echoAddress), now: 0, clock: "10:00:00")
        state.apply(.listening(service: "files", address: filesAddress), now: 0, clock: "10:00:00")
        state.apply(.connectionOpened(id: 1, service: "echo", peer: peer), now: 1, clock: "10:00:01")
        state.apply(.bytesReceived(id: 1, count: 1500), now: 1, clock: "10:00:01")
        state.apply(.bytesSent(id: 1, count: 1500), now: 1, clock: "10:00:01")
        state.apply(.connectionOpened(id: 2, service: "files", peer: peer), now: 2, clock: "10:00:02")
        state.apply(.fileSaved(id: 2, path: "/srv/received/report.pdf", size: 2048, sha256: "deadbeefcafe0123"), now: 3, clock: "10:00:03")
        return state
    }

    private func rows(_ screen: RenderedScreen) -> [String] {
        (0..<screen.grid.rows).map { screen.grid.text(ofRow: $0) }
    }

    private func assertFits(_ screen: RenderedScreen, cols: Int, rows count: Int, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(screen.grid.rows, count, file: file, line: line)
        XCTAssertEqual(screen.grid.cols, cols, file: file, line: line)
        for (index, row) in rows(screen).enumerated() {
            XCTAssertLessThanOrEqual(row.displayWidth, cols, "row \(index) is wider than the screen: \(row)", file: file, line: line)
        }
    }

    func testLayoutAt80x24ShowsBothPanesAndTheKeys() {
        let screen = ConsoleRenderer.render(busyState(), cols: 80, rows: 24, now: 5)
        assertFits(screen, cols: 80, rows: 24)
        let text = rows(screen)
        XCTAssertTrue(text[0].contains("SERVER"), text[0])
        XCTAssertTrue(text[0].contains("echo 127.0.0.1:12345 on"), text[0])
        XCTAssertTrue(text[0].contains("files 127.0.0.1:12346 on"), text[0])
        XCTAssertTrue(text.contains { $0.contains("127.0.0.1:50123") && $0.contains("1.5 KiB") }, "connection row with bytes")
        XCTAssertTrue(text.contains { $0.contains("report.pdf") && $0.contains("2.0 KiB") }, "saved file with its size")
        XCTAssertTrue(text.contains { $0.contains("CLIENT") })
        XCTAssertTrue(text[23].contains("quit"), text[23])
        XCTAssertTrue(text[23].contains("help"), text[23])
    }

    func testLayoutAt200x50UsesTheRoomAndShowsTheDigestAndTime() {
        let screen = ConsoleRenderer.render(busyState(), cols: 200, rows: 50, now: 5)
        assertFits(screen, cols: 200, rows: 50)
        let text = rows(screen)
        XCTAssertTrue(text.contains { $0.contains("report.pdf") && $0.contains("deadbeef") && $0.contains("10:00:03") })
        XCTAssertTrue(text.contains { $0.contains("SERVER") })
        XCTAssertTrue(text.contains { $0.contains("CLIENT") })
        XCTAssertGreaterThan(ConsoleRenderer.viewHeights(cols: 200, rows: 50).log, ConsoleRenderer.viewHeights(cols: 80, rows: 24).log)
    }

    func testSavedFileNameKeepsRoomOnANarrowScreen() {
        var state = busyState()
        state.apply(.fileSaved(id: 2, path: "/srv/received/notes.txt", size: 11, sha256: "702b7d2e"), now: 4, clock: "10:00:04")
        let text = rows(ConsoleRenderer.render(state, cols: 80, rows: 24, now: 5))
        XCTAssertTrue(text.contains { $0.contains("notes.txt") }, text.joined(separator: "\n"))
    }

    func testLongNamesAreTruncatedWithAnEllipsisNotWrapped() {
        var state = busyState()
        let long = String(repeating: "very-long-file-name-", count: 15) + "end.bin"
        state.apply(.fileSaved(id: 2, path: "/srv/received/" + long, size: 1, sha256: "00112233"), now: 4, clock: "10:00:04")
        let screen = ConsoleRenderer.render(state, cols: 80, rows: 24, now: 5)
        assertFits(screen, cols: 80, rows: 24)
        let row = rows(screen).first { $0.contains("very-long") }
        XCTAssertNotNil(row)
        XCTAssertTrue(row!.contains("…"), row!)
        XCTAssertFalse(row!.contains(long))
    }

    func testEscapeSequencesFromPeersAreShownNotObeyed() {
        var state = busyState()
        state.apply(.uploadStarted(id: 2, name: "evil\u{1B}[2J\u{1B}]0;pwned\u{07}.txt", size: 10), now: 4, clock: "10:00:04")
        state.apply(.uploadRejected(id: 2, reason: "bad \u{1B}[31mred\n"), now: 4, clock: "10:00:04")
        let screen = ConsoleRenderer.render(state, cols: 200, rows: 50, now: 5)
        let all = screen.grid.text
        XCTAssertFalse(all.unicodeScalars.contains { $0.value == 0x1B || $0.value == 0x07 }, "a raw control character reached the screen")
        XCTAssertTrue(all.contains("\\u{1b}[2J"), all)
    }

    func testWideCharactersTakeTwoColumnsAndStillFit() {
        var state = busyState()
        state.apply(.fileSaved(id: 2, path: "/srv/received/文件-файл-😀.txt", size: 5, sha256: "abcdef01"), now: 4, clock: "10:00:04")
        let screen = ConsoleRenderer.render(state, cols: 80, rows: 24, now: 5)
        assertFits(screen, cols: 80, rows: 24)
        XCTAssertEqual("文件".displayWidth, 4)
        XCTAssertEqual("e\u{301}".displayWidth, 1)
        XCTAssertEqual("文件abc".truncated(toWidth: 4), "文…", "a wide character that would cross the edge is left out")
    }

    func testSmallTerminalDegradesToTheMinimumAndBelowItSaysSo() {
        let smallest = ConsoleRenderer.render(busyState(), cols: 60, rows: 16, now: 5)
        assertFits(smallest, cols: 60, rows: 16)
        for part in ["SERVER", "PEER", "Activity", "CLIENT", "Message:", "Replies", "quit"] {
            XCTAssertTrue(smallest.grid.text.contains(part), "\(part) missing at 60x16:\n\(smallest.grid.text)")
        }
        for (cols, rows) in [(50, 12), (40, 10), (79, 15), (59, 24)] {
            let small = ConsoleRenderer.render(busyState(), cols: cols, rows: rows, now: 5)
            assertFits(small, cols: cols, rows: rows)
            XCTAssertTrue(small.grid.text.contains("\(cols)x\(rows), needs 60x16."), small.grid.text)
            XCTAssertTrue(small.grid.text.contains("q quits"), small.grid.text)
        }
        var state = busyState()
        state.screenTooSmall = true
        XCTAssertNil(state.handle(.character("x")), "nothing is typed into a hidden field")
        XCTAssertEqual(state.message.text, "")
        XCTAssertNil(state.handle(.character("q")))
        XCTAssertEqual(state.confirmation?.title, "Quit netconsole?", "open connections: asks, even on the small screen")
        XCTAssertTrue(ConsoleRenderer.render(state, cols: 40, rows: 10, now: 5).grid.text.contains("y yes"))
        XCTAssertEqual(state.handle(.character("y")), .quit)
    }

    func testByteColumnsFitAtAGibibyteAndBeyond() {
        XCTAssertEqual(ConsoleState.formatBytes(1023), "1023 B")
        XCTAssertEqual(ConsoleState.formatBytes(1536), "1.5 KiB")
        XCTAssertEqual(ConsoleState.formatBytes(Int(1018.2 * 1048576)), "1018 MiB")
        XCTAssertEqual(ConsoleState.formatBytes(1 << 30), "1.0 GiB")
        XCTAssertEqual(ConsoleState.formatBytes(1023 << 40), "1023 TiB")
        for count in [0, 999, 1023, 1024 * 1000, 1073741823, 1 << 30, 999 << 30, Int.max] {
            XCTAssertLessThanOrEqual(ConsoleState.formatBytes(count).count, 8, "\(count)")
        }
        var state = busyState()
        state.apply(.bytesReceived(id: 1, count: Int(1018.2 * 1048576)), now: 1, clock: "t")
        let text = ConsoleRenderer.render(state, cols: 80, rows: 24, now: 5).grid.text
        XCTAssertTrue(text.contains("1018 MiB"), text)
        XCTAssertFalse(text.contains("M…"), text)
    }

    func testAnEmptyConnectionTableSaysHowManyWereAccepted() {
        var state = busyState()
        state.apply(.connectionClosed(id: 1, peer: peer, bytesIn: 0, bytesOut: 0, reason: nil), now: 2, clock: "t")
        state.apply(.connectionClosed(id: 2, peer: peer, bytesIn: 0, bytesOut: 0, reason: nil), now: 2, clock: "t")
        state.expireClosedConnections(now: 100)
        let text = ConsoleRenderer.render(state, cols: 80, rows: 24, now: 100).grid.text
        XCTAssertTrue(text.contains("none open · 2 accepted"), text)
        XCTAssertTrue(ConsoleRenderer.render(ConsoleState(saveDirectory: "/", pickerDirectory: "/"), cols: 80, rows: 24, now: 0)
            .grid.text.contains("no connections yet"))
    }

    func testTheRoundTripTimeHasItsOwnColumnAndSurvivesALongReply() {
        var state = busyState()
        let long = String(repeating: "a long reply ", count: 10)
        _ = state.sendMessage(long, target: "127.0.0.1:12345", clock: "t", now: 0)
        state.sessionOpened(1, peer: "127.0.0.1:12345", clock: "t", now: 0)
        state.sessionReceived(1, Array((long + "\n").utf8), clock: "t", now: 0.000_14)
        let screen = ConsoleRenderer.render(state, cols: 80, rows: 24, now: 5)
        let row = rows(screen).first { $0.contains("← a long reply") } ?? ""
        XCTAssertTrue(row.contains("…"), row)
        XCTAssertTrue(row.contains("0.14 ms"), row)
    }

    func testHelpOverlayListsTheKeys() {
        var state = busyState()
        XCTAssertNil(state.handle(.function(1)))
        XCTAssertTrue(state.showHelp)
        let text = ConsoleRenderer.render(state, cols: 80, rows: 24, now: 5).grid.text
        XCTAssertTrue(text.contains("Tab"), text)
        _ = state.handle(.character("x"))
        XCTAssertFalse(state.showHelp, "any key closes the help")
    }
}
