import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// Lists you can walk, in a real terminal: the connection list, the Replies pane and the help.
final class ConsoleListsTUITests: XCTestCase {
    private var console: TmuxConsole!

    override func setUpWithError() throws {
        console = try TmuxConsole(self)
    }

    private func raw(_ port: UInt16) throws -> Int32 {
        try XCTUnwrap(connectToLoopback(port: port), "cannot connect to 127.0.0.1:\(port)")
    }

    func testTheConnectionListWalksWithAPositionOpenAboveClosedAndFilters() throws {
        let port = try console.startAndWaitForServers()
        // Two finished echo sessions first, then 14 that stay open: at 80x24 the open ones must not hide.
        for _ in 0..<2 { close(try raw(port)) }
        let held = try (0..<14).map { _ in try raw(port) }
        defer { held.forEach { close($0) } }
        console.waitForScreen("16 accepted") { $0.contains("14 open · 16 accepted") }
        let table = console.screen().split(separator: "\n").map(String.init)
        XCTAssertTrue(table[3].contains(" open "), "an open connection first:\n\(table.joined(separator: "\n"))")
        XCTAssertFalse(table.contains { $0.contains("not shown") })

        try console.keys("Escape")
        usleep(200_000)
        for _ in 0..<12 { try console.keys("Down") }
        console.waitForScreen("the position of the 12th row") { console.line(containing: "accepted", in: $0).hasSuffix("12/16") }
        try console.keys("End")
        console.waitForScreen("the last row, a closed one") { console.line(containing: "accepted", in: $0).hasSuffix("16/16") && $0.contains("closed") }
        try console.keys("Enter")
        console.waitForScreen("the row whole in a popup") { $0.contains("Connection #") && $0.contains("any key closes") }
        try console.keys("q")
        console.waitForScreen("the popup closed, still running") { !$0.contains("any key closes") }

        try console.keys("/")
        try console.type("closed")
        try console.keys("Enter")
        let filtered = console.waitForScreen("only the closed ones") { console.line(containing: "accepted", in: $0).contains("filter: closed") }
        XCTAssertFalse(filtered.split(separator: "\n")[3...5].contains { $0.contains(" open ") }, filtered)
        XCTAssertTrue(console.isAlive(), "letters typed into the filter are not commands")
    }

    func testTheRepliesPaneScrollsAndSaysWhereItIs() throws {
        try console.startAndWaitForServers()
        for index in 1...8 {
            try console.type("message \(index)")
            try console.keys("Enter")
            console.waitForScreen("reply \(index)") { $0.contains("← message \(index)") }
        }
        try console.keys("Tab", "Tab", "Tab")
        try console.keys("Home")
        // 16 lines of messages and echoes, and the session's two: connecting, connected.
        let top = console.waitForScreen("the first reply line and the position") { $0.contains("Replies (End follows) 1/18") }
        XCTAssertTrue(top.contains("message 1"), top)
        XCTAssertFalse(top.contains("message 8"), top)
        try console.keys("End")
        console.waitForScreen("back at the newest") { $0.contains("Replies 18/18") && $0.contains("← message 8") }
    }

    func testTheHelpScrollsAndKnowsEveryPane() throws {
        try console.start(cols: 80, rows: 24)
        console.waitForScreen("the console") { $0.contains("quit") }
        try console.keys("F1")
        console.waitForScreen("the help, from the message field's keys") { $0.contains("Help") && $0.contains("Message") && $0.contains("send") }
        try console.keys("PageDown", "PageDown")
        // A page is the box less one line: 19 at 24 rows.
        console.waitForScreen("the help scrolled") { $0.contains("39-58/") }
        // The inspector's keys made the help longer: page on to its end.
        try console.keys("PageDown", "PageDown", "PageDown", "PageDown", "PageDown", "PageDown")
        console.waitForScreen("the end of the help") { $0.contains("Alt-key (Esc and a key together) is never a command") }
        try console.keys("Escape")
        console.waitForScreen("the help closed") { !$0.contains("Help ─") && !$0.contains("─ Help") }
    }

    func testTheSavedFilesListWalksAndShowsAFileWhole() throws {
        for name in ["alpha.txt", "beta.txt"] {
            try Data("contents of \(name)\n".utf8).write(to: console.pickDirectory.appendingPathComponent(name))
        }
        try console.startAndWaitForServers()
        try console.keys("Tab", "Tab")
        for name in ["alpha", "beta"] {
            try console.type(name)
            try console.keys("Enter")
            console.waitForScreen("\(name) saved") { $0.contains("✓ \(name).txt saved") }
            try console.keys("Escape")
            // Apart from the next letter, or the terminal's Esc-b is Alt-b.
            usleep(200_000)
        }
        console.waitForScreen("the filter cleared") { !$0.contains("filter: beta") }
        try console.keys("Escape")
        usleep(200_000)
        try console.keys("Tab", "Tab")
        // The first ↓ selects the first (newest) file, the second the one below it.
        try console.keys("Down", "Down")
        console.waitForScreen("the second newest file selected") { $0.contains("Saved files 2/2 →") }
        try console.keys("Enter")
        let popup = console.waitForScreen("the file whole") { $0.contains("any key closes") && $0.contains("· sha256 ") }
        XCTAssertTrue(popup.contains("alpha.txt · 22 bytes"), popup)
    }

    /// What an xterm sends for a mouse event in SGR mode (1-based cell), as curses asked for it.
    private func mouse(button: Int, row: Int, col: Int) throws {
        try console.type("\u{1B}[<\(button);\(col + 1);\(row + 1)M")
        // A click is a press and a release; the wheel has no release.
        if button < 64 { try console.type("\u{1B}[<\(button);\(col + 1);\(row + 1)m") }
    }

    func testAClickSelectsAndFocusesAndTheWheelScrolls() throws {
        let port = try console.startAndWaitForServers()
        let held = try (0..<3).map { _ in try raw(port) }
        defer { held.forEach { close($0) } }
        console.waitForScreen("3 open") { $0.contains("3 open") }
        // Rows 3, 4, 5 (0-based) are the connection rows at 80x24.
        try mouse(button: 0, row: 4, col: 10)
        console.waitForScreen("the clicked connection selected, the list focused") {
            console.line(containing: "accepted", in: $0).hasSuffix("2/3") && $0.contains("/ filter")
        }
        try mouse(button: 65, row: 4, col: 10)
        console.waitForScreen("the wheel moved down to the last") { console.line(containing: "accepted", in: $0).hasSuffix("3/3") }
        let message = try XCTUnwrap(console.screen().split(separator: "\n").firstIndex { $0.contains(" Message:") })
        try mouse(button: 0, row: message, col: 20)
        console.waitForScreen("the message field focused after a click on row \(message)") { $0.contains("Enter send") }
        try console.type("typed after a click")
        console.waitForScreen("the typing") { console.line(containing: " Message:", in: $0).contains("typed after a click") }
    }
}

