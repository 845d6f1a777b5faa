import Foundation
import NetConsoleUI
import XCTest

/// The history file: what is written comes back, line breaks included, and it stays private and bounded.
final class MessageHistoryFileTests: XCTestCase {
    func testMessagesComeBackInOrderWithTheirLineBreaks() throws {
        let folder = NSTemporaryDirectory() + "history-\(UInt32.random(in: 0...UInt32.max))"
        let file = MessageHistoryFile(path: folder + "/state/netconsole/history", limit: 3)
        XCTAssertEqual(file.load(), [], "no file yet")
        for message in ["one", "two\nlines", "back\\slash", "four"] { file.append(message) }
        XCTAssertEqual(file.load(), ["two\nlines", "back\\slash", "four"])
        var info = stat()
        XCTAssertEqual(stat(file.path, &info), 0)
        XCTAssertEqual(info.st_mode & 0o777, 0o600)
        for index in 0..<20 { file.append("more \(index)") }
        file.trim()
        XCTAssertEqual(file.load(), ["more 17", "more 18", "more 19"])
        var editor = LineEditor()
        editor.loadHistory(["a", "a", "b"])
        XCTAssertEqual(editor.history, ["a", "b"])
    }

    func testTargetsAreKeptOnceWhereTheyWereLastUsed() {
        var editor = LineEditor(historyLimit: 3)
        editor.loadDistinctHistory(["a:1", "b:2", "a:1", "c:3", "d:4"])
        XCTAssertEqual(editor.history, ["a:1", "c:3", "d:4"])
        editor.setText("typed")
        editor.remember("c:3")
        XCTAssertEqual(editor.history, ["a:1", "d:4", "c:3"])
        XCTAssertEqual(editor.text, "typed", "remembering leaves the text alone")
        editor.handle(.up)
        XCTAssertEqual(editor.text, "c:3")
        XCTAssertTrue(MessageHistoryFile.inStateFolder("echo-targets")?.path.hasSuffix("/netconsole/echo-targets") ?? true)
    }
}
