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
}
