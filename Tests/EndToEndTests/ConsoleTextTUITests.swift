import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// Text you can read, in a real terminal: round-trip times, fields, small terminals, what the table says.
final class ConsoleTextTUITests: XCTestCase {
    private var console: TmuxConsole!

    override func setUpWithError() throws {
        console = try TmuxConsole(self)
    }

    /// --no-mouse leaves the mouse to the terminal (to select text): no mouse reporting, and the keys still work.
    func testNoMouseLeavesTheMouseToTheTerminal() throws {
        try console.startAndWaitForServers(arguments: ["--no-mouse"])
        XCTAssertEqual(try console.run(["display-message", "-p", "#{mouse_any_flag}#{mouse_sgr_flag}"]), "00\n", "no mouse reporting")
        try console.type("still typed")
        console.waitForScreen("typing works without the mouse") { $0.contains("Message: still typed") }
    }

    func testAt80x24TheRoundTripTimeStaysVisibleBesideALongReply() throws {
        try console.startAndWaitForServers()
        try console.type(String(repeating: "a long line to echo ", count: 6) + "END")
        try console.keys("Enter")
        let screen = console.waitForScreen("the reply") { $0.contains("← a long line") }
        // The Replies pane, left of the file picker.
        let row = String(console.line(containing: "← a long line", in: screen).split(separator: "│")[0]).trimmingCharacters(in: .whitespaces)
        XCTAssertTrue(row.hasSuffix(" ms") || row.hasSuffix(" s"), "the RTT was cut: \(row)")
        XCTAssertTrue(row.contains("…"), row)
    }

    func testAnUnfocusedFieldShowsTheStartOfItsTextAndAFocusedOneMarksWhatIsHidden() throws {
        try console.startAndWaitForServers()
        try console.keys("BTab")
        try console.keys("C-u")
        try console.type("a-very-long-host-name.example.org:12345")
        try console.keys("Tab")
        var screen = console.waitForScreen("the target, unfocused") { $0.contains("Connect to: a-very-long") }
        XCTAssertTrue(console.line(containing: "Connect to:", in: screen).contains("…"), screen)
        try console.keys("BTab")
        try console.keys("Home")
        screen = console.waitForScreen("the focused field from its start, › at its end") {
            console.line(containing: "Connect to:", in: $0).contains("Connect to: a-very-long") && console.line(containing: "Connect to:", in: $0).contains("›")
        }
        try console.keys("End")
        console.waitForScreen("the focused field at its end, ‹ at its start") { console.line(containing: "Connect to:", in: $0).contains("Connect to: ‹") }
    }

    func testBelowTheMinimumSizeTheScreenSaysSoAndQQuits() throws {
        try console.start(cols: 50, rows: 12)
        console.waitForScreen("the minimum size") { $0.contains("50x12, needs 60x16") && $0.contains("q quits") }
        try console.run(["resize-window", "-x", "60", "-y", "16"])
        console.waitForScreen("the console at its minimum") { $0.contains("SERVER") && $0.contains("Message:") }
        try console.run(["resize-window", "-x", "40", "-y", "10"])
        console.waitForScreen("the message again") { $0.contains("40x10, needs 60x16") }
        try console.type("q")
        XCTAssertTrue(console.waitForExit(), "q did not quit:\n\(console.screen())")
    }

    func testTheEmptyConnectionTableSaysHowManyWereAccepted() throws {
        let port = try console.startAndWaitForServers()
        let nc = try XCTUnwrap(which("nc"), "nc is needed")
        XCTAssertEqual(try spawnAndWait(nc, ["-z", "127.0.0.1", "\(port)"]).status, 0)
        console.waitForScreen("what is true once the closed connection is gone", timeout: 15) { $0.contains("none open · 1 accepted") }
    }

    /// Columns of a captured row up to `marker`, with the widths terminals give the clusters these tests type.
    private func column(of marker: Character, in row: String) -> Int? {
        let known: [Character: Int] = ["👨‍👩‍👧": 2, "👍🏽": 4, "🇺🇦": 2]
        var column = 0
        for character in row {
            if character == marker { return column }
            column += known[character] ?? 1
        }
        return nil
    }

    func testEmojiClustersStayWholeAndTheRowsKeepTheirColumns() throws {
        try console.startAndWaitForServers()
        let message = "👨‍👩‍👧 fam 👍🏽 tone 🇺🇦 flag"
        try console.type("a👨‍👩‍👧b")
        try console.keys("Left", "BSpace")
        console.waitForScreen("the family deleted as one") { console.line(containing: "Message:", in: $0).hasSuffix("Message: ab") }
        try console.keys("C-u")
        try console.type(message)
        console.waitForScreen("the message as typed") { console.line(containing: "Message:", in: $0).contains("Message: " + message) }
        try console.keys("Enter")
        let screen = console.waitForScreen("the reply") { $0.contains("← 👨‍👩‍👧 fam 👍🏽 tone") }
        let header = console.line(containing: "─ Replies", in: screen)
        let separator = try XCTUnwrap(column(of: "┬", in: header))
        for marker in ["→ 127.0.0.1", "← 👨‍👩‍👧"] {
            let row = console.line(containing: marker, in: screen)
            XCTAssertEqual(column(of: "│", in: row), separator, "the │ moved in: \(row)")
        }
        XCTAssertFalse(console.line(containing: "Message:", in: screen).contains("👨"), "the sent message left a glyph behind:\n\(screen)")
    }
}

extension ConsoleTextTUITests {
    /// The SGR parameters on the screen that set a colour (30–37, 40–47, 38, 48, 90–97, 100–107).
    private func colourParameters(_ styled: String) -> [Int] {
        var found: [Int] = []
        var rest = Substring(styled)
        while let start = rest.range(of: "\u{1B}[") {
            let body = rest[start.upperBound...].prefix { $0 != "m" && $0.isASCII && ($0.isNumber || $0 == ";") }
            let numbers = body.split(separator: ";").compactMap { Int($0) }
            found += numbers.filter { (30...38).contains($0) || (40...48).contains($0) || (90...97).contains($0) || (100...107).contains($0) }
            rest = rest[start.upperBound...]
        }
        return found
    }

    func testNoColorKeepsAttributesAndDropsColours() throws {
        // Empty is not set, per no-color.org (and the test runner may have set it for itself).
        try console.startAndWaitForServers(environment: ["NO_COLOR": ""])
        let coloured = console.styledScreen()
        XCTAssertFalse(colourParameters(coloured).isEmpty, "colours by default: \(coloured.prefix(300).debugDescription)")
        try console.run(["kill-server"])
        console = try TmuxConsole(self)
        try console.startAndWaitForServers(environment: ["NO_COLOR": "1"])
        let styled = console.styledScreen()
        XCTAssertEqual(colourParameters(styled), [], "a colour with NO_COLOR set")
        XCTAssertTrue(styled.contains("\u{1B}[7m") || styled.contains(";7m") || styled.contains("[7;"), "reverse video still marks titles")
    }
}
