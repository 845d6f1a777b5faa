import NetConsoleUI
import NetEngine
import XCTest

/// Lists you can walk, without a terminal: the connection list, the logs and the key-binding table.
final class ConsoleListStateTests: XCTestCase {
    private let peer = try! SocketAddress.resolve(host: "127.0.0.1", port: 5000)[0]
    private let other = try! SocketAddress.resolve(host: "10.0.0.9", port: 6000)[0]

    private func state(open: Int, closed: Int) -> ConsoleState {
        var state = ConsoleState(saveDirectory: "/tmp", pickerDirectory: "/tmp")
        for id in 1...(open + closed) {
            state.apply(.connectionOpened(id: id, service: "echo", peer: id == 2 ? other : peer), now: Double(id), clock: "t")
        }
        // The first ones closed, so without ordering they would come first.
        for id in 1...max(1, closed) where closed > 0 {
            state.apply(.connectionClosed(id: id, peer: peer, bytesIn: id, bytesOut: id, reason: nil), now: 50, clock: "t")
        }
        _ = state.handle(.escape)
        state.connectionViewHeight = 5
        return state
    }

    func testOpenConnectionsComeBeforeClosedOnes() {
        let state = state(open: 3, closed: 2)
        XCTAssertEqual(state.listedConnections.map(\.id), [3, 4, 5, 1, 2])
    }

    func testTheSelectionWalksAndStaysOnItsConnectionWhileRowsComeAndGo() {
        var state = state(open: 300, closed: 3)
        XCTAssertNil(state.selectedConnectionIndex)
        for _ in 0..<12 { _ = state.handle(.down) }
        XCTAssertEqual(state.selectedConnectionIndex, 11)
        let selected = state.selectedConnectionID
        XCTAssertEqual(selected, 15, "the 12th row: open ones first, from #4")
        state.apply(.connectionOpened(id: 400, service: "echo", peer: peer), now: 60, clock: "t")
        state.expireClosedConnections(now: 100)
        XCTAssertEqual(state.selectedConnectionID, selected, "a connection came and three went: still the same one selected")
        _ = state.handle(.pageDown)
        XCTAssertEqual(state.selectedConnectionIndex, 15)
        _ = state.handle(.end)
        XCTAssertEqual(state.selectedConnectionIndex, state.listedConnections.count - 1)
        XCTAssertGreaterThanOrEqual(state.connectionScroll, state.listedConnections.count - 5, "the selection is in view")
        _ = state.handle(.home)
        XCTAssertEqual(state.selectedConnectionIndex, 0)
        XCTAssertEqual(state.connectionScroll, 0)
        // The selected connection closes: the selection goes with it to the closed ones at the end, and when it
        // is gone the row in its last place is selected.
        state.apply(.connectionClosed(id: 4, peer: peer, bytesIn: 0, bytesOut: 0, reason: nil), now: 200, clock: "t")
        XCTAssertEqual(state.selectedConnectionIndex, state.listedConnections.count - 1)
        state.expireClosedConnections(now: 300)
        XCTAssertEqual(state.selectedConnectionID, 400)
    }

    func testSlashFiltersByPeerOrStateAndSortCyclesKeepingOpenFirst() {
        var state = state(open: 3, closed: 2)
        _ = state.handle(.character("/"))
        XCTAssertTrue(state.editingConnectionFilter)
        for character in "10.0.0" { XCTAssertNil(state.handle(.character(character)), "letters go to the filter, never commands") }
        _ = state.handle(.enter)
        XCTAssertEqual(state.listedConnections.map(\.id), [2])
        _ = state.handle(.character("/"))
        _ = state.handle(.escape)
        XCTAssertEqual(state.listedConnections.count, 5, "Esc clears the filter")
        _ = state.handle(.character("/"))
        for character in "closed" { _ = state.handle(.character(character)) }
        _ = state.handle(.enter)
        XCTAssertEqual(state.listedConnections.map(\.id), [1, 2])
        _ = state.handle(.character("/"))
        _ = state.handle(.escape)
        state.apply(.bytesReceived(id: 4, count: 100), now: 60, clock: "t")
        _ = state.handle(.character("o"))
        _ = state.handle(.character("o"))
        XCTAssertEqual(state.connectionSort, .bytesIn)
        XCTAssertEqual(state.listedConnections.map(\.id), [4, 3, 5, 2, 1], "by bytes in, open ones first")
    }

    func testEnterInspectsAConnectionAndShowsAWholeLogLine() {
        var state = state(open: 1, closed: 0)
        _ = state.handle(.down)
        XCTAssertEqual(state.handle(.enter), .inspect(id: 1), "Enter on a connection opens the inspector")
        XCTAssertEqual(state.inspector?.connectionID, 1)
        XCTAssertEqual(state.handle(.character("q")), .stopInspecting, "q leaves the inspector, it does not quit")
        XCTAssertNil(state.inspector)
        state.apply(.connectionClosed(id: 1, peer: peer, bytesIn: 3, bytesOut: 3, reason: nil), now: 9, clock: "t")
        XCTAssertNil(state.handle(.enter), "a closed connection has nothing to inspect")
        XCTAssertEqual(state.viewer?.title, "Connection #1", "its line is shown whole")
        XCTAssertNil(state.handle(.character("q")), "q closes the popup, it does not quit")
        XCTAssertNil(state.viewer)
        let long = String(repeating: "word ", count: 60)
        state.note(long, clock: "t")
        _ = state.handle(.tab)
        XCTAssertEqual(state.focus, .log)
        _ = state.handle(.up)
        _ = state.handle(.down)
        _ = state.handle(.enter)
        XCTAssertEqual(state.viewer?.text, long)
        let screen = ConsoleRenderer.render(state, cols: 80, rows: 24, now: 5).grid.text
        let popup = screen.split(separator: "\n").filter { $0.contains("│ word") }
        XCTAssertEqual(popup.joined().components(separatedBy: "word").count - 1, 60, "the popup shows every word:\n\(screen)")
    }

    func testTheLogsSelectAndSayWhereTheyAre() {
        var log = ActivityLog(capacity: 100)
        for index in 0..<40 { log.append("line \(index)", time: "t") }
        XCTAssertEqual(log.position(height: 10), "40/40")
        log.moveSelection(by: -5, height: 10)
        XCTAssertEqual(log.selected, 34)
        XCTAssertEqual(log.position(height: 10), "35/40")
        log.moveSelection(by: -30, height: 10)
        XCTAssertEqual(log.visibleLines(height: 10).first?.text, "line 4", "the view follows the selection")
        log.select(0, height: 10)
        XCTAssertEqual(log.visibleLines(height: 10).first?.text, "line 0")
        log.scrollToNewest()
        XCTAssertNil(log.selected)
        XCTAssertTrue(log.isFollowing)
    }

    func testOneKeyTableDrivesTheHandlerTheFooterAndTheHelp() {
        for focus in ConsoleFocus.allCases {
            for context in KeyBindings.contexts(for: focus) {
                for binding in KeyBindings.bindings(context) where binding.label.isEmpty == false {
                    XCTAssertTrue(KeyBindings.helpLines(for: focus).contains { $0.contains(binding.label) && $0.contains(binding.meaning) },
                                  "help misses \(binding.label)")
                }
            }
            for binding in KeyBindings.footer(for: focus) {
                XCTAssertEqual(KeyBindings.binding(for: binding.keys[0], focus: focus), binding, "the footer shows what the key does")
            }
        }
        var state = ConsoleState(saveDirectory: "/tmp", pickerDirectory: "/tmp")
        _ = state.handle(.escape)
        let footer = ConsoleRenderer.render(state, cols: 120, rows: 30, now: 0).grid.text.split(separator: "\n").last ?? ""
        for binding in KeyBindings.footer(for: .server) where binding.command != .toggleListening {
            XCTAssertTrue(footer.contains(binding.footer!), "\(footer)")
        }
        XCTAssertTrue(footer.contains("s start"), "not listening: s starts")
    }

    func testTheHelpScrolls() {
        var state = ConsoleState(saveDirectory: "/tmp", pickerDirectory: "/tmp")
        _ = state.handle(.function(1))
        let before = ConsoleRenderer.render(state, cols: 80, rows: 24, now: 0).grid.text
        _ = state.handle(.pageDown)
        XCTAssertTrue(state.showHelp, "paging keeps the help open")
        let after = ConsoleRenderer.render(state, cols: 80, rows: 24, now: 0).grid.text
        XCTAssertNotEqual(before, after)
        XCTAssertTrue(after.contains("20-39/"), "a page is all but one line of the box:\n" + after)
        _ = state.handle(.character("x"))
        XCTAssertFalse(state.showHelp)
    }

    /// At 80 columns every key's meaning is shown whole, wrapped under itself (it was cut with …), in every pane.
    func testTheHelpWrapsLongMeaningsInsteadOfCuttingThem() {
        for focus in [ConsoleFocus.files, .server, .message] {
            let lines = KeyBindings.helpLines(for: focus, width: ConsoleRenderer.boxTextWidth(cols: 80))
            XCTAssertTrue(lines.allSatisfy { $0.displayWidth <= ConsoleRenderer.boxTextWidth(cols: 80) }, lines.joined(separator: "\n"))
            let joined = lines.joined(separator: " ").split(separator: " ").joined(separator: " ")
            XCTAssertTrue(joined.contains("open the folder or send the file (the marked ones, if any)"), joined)
        }
        var state = ConsoleState(saveDirectory: "/tmp", pickerDirectory: "/tmp")
        state.focus = .files
        _ = state.handle(.function(1))
        var seen = ""
        for _ in 0..<12 {
            seen += ConsoleRenderer.render(state, cols: 80, rows: 24, now: 0).grid.text
            _ = state.handle(.pageDown)
        }
        XCTAssertFalse(seen.contains("…"), seen)
        XCTAssertTrue(seen.contains("the marked"), seen)
        // Paged past the end: the first Up and the first PgUp move the view at once.
        let end = ConsoleRenderer.render(state, cols: 80, rows: 24, now: 0).grid.text
        _ = state.handle(.up)
        XCTAssertNotEqual(ConsoleRenderer.render(state, cols: 80, rows: 24, now: 0).grid.text, end, "Up at the end moves")
        for _ in 0..<12 { _ = state.handle(.pageDown) }
        _ = state.handle(.pageUp)
        XCTAssertNotEqual(ConsoleRenderer.render(state, cols: 80, rows: 24, now: 0).grid.text, end, "PgUp at the end moves")
    }

    func testTheSavedFilesListKeepsItsSelectionAsFilesArrive() {
        var state = ConsoleState(saveDirectory: "/srv", pickerDirectory: "/tmp")
        for name in ["a", "b", "c"] {
            state.apply(.fileSaved(id: 1, path: "/srv/\(name)", size: 10, sha256: "00ff"), now: 0, clock: "t")
        }
        _ = state.handle(.escape)
        _ = state.handle(.tab)
        _ = state.handle(.tab)
        XCTAssertEqual(state.focus, .saved)
        _ = state.handle(.down)
        _ = state.handle(.down)
        XCTAssertEqual(state.selectedSavedFile.map { state.savedFiles[$0].name }, "b", "newest first: c, then b")
        state.apply(.fileSaved(id: 1, path: "/srv/d", size: 10, sha256: "00ff"), now: 0, clock: "t")
        XCTAssertEqual(state.selectedSavedFile.map { state.savedFiles[$0].name }, "b")
        XCTAssertTrue(ConsoleRenderer.render(state, cols: 80, rows: 24, now: 0).grid.text.contains("Saved files 3/4 →"))
        _ = state.handle(.enter)
        XCTAssertEqual(state.viewer?.text.hasPrefix("b · 10 bytes"), true, state.viewer?.text ?? "")
    }
}


extension ConsoleListStateTests {
    func testAClickFocusesWhatIsUnderItAndSelectsTheRow() {
        var state = state(open: 3, closed: 0)
        state.screenCols = 80
        state.screenRows = 24
        let layout = ConsoleLayout(cols: 80, rows: 24)
        state.connectionViewHeight = layout.connections.height - 1
        _ = state.handle(.click(row: layout.messageRow.y, col: 20))
        XCTAssertEqual(state.focus, .message, "\(layout.messageRow)")
        _ = state.handle(.click(row: layout.connections.y + 2, col: 10))
        XCTAssertEqual(state.focus, .server)
        XCTAssertEqual(state.selectedConnectionIndex, 1)
        _ = state.handle(.wheel(row: layout.connections.y + 2, col: 10, up: false))
        XCTAssertEqual(state.selectedConnectionIndex, 2)
        _ = state.handle(.click(row: layout.targetRow.y, col: 60))
        XCTAssertEqual(state.focus, .fileTarget)
    }
}
