import Foundation
import NetConsoleUI
import XCTest

/// The line editor's readline keys.
final class LineEditorTests: XCTestCase {
    private func editor(_ text: String) -> LineEditor { LineEditor(text: text) }

    func testWordMovesAndCuts() {
        var e = editor("connect to host-name:80")
        e.handle(.alt("b"))
        XCTAssertEqual(e.cursor, 21, "Alt-B: start of '80'")
        e.handle(.wordLeft)
        XCTAssertEqual(e.cursor, 16, "Ctrl-←: start of 'name'")
        e.handle(.alt("f"))
        XCTAssertEqual(e.cursor, 20, "Alt-F: end of 'name'")
        e.handle(.alt("d"))
        XCTAssertEqual(e.text, "connect to host-name")
        e.handle(.control("y"))
        XCTAssertEqual(e.text, "connect to host-name:80", "Ctrl-Y puts back what Alt-D cut")
        e.handle(.control("w"))
        XCTAssertEqual(e.text, "connect to ", "Ctrl-W cuts back to the blank")
        e.handle(.altBackspace)
        XCTAssertEqual(e.text, "connect ")
        e.handle(.home)
        e.handle(.wordRight)
        e.handle(.control("k"))
        XCTAssertEqual(e.text, "connect")
        e.handle(.control("u"))
        XCTAssertEqual(e.text, "")
        e.handle(.control("y"))
        XCTAssertEqual(e.text, "connect")
        e.handle(.home)
        e.handle(.end)
        XCTAssertEqual(e.cursor, 7)
    }

    func testFocusedFieldScrollsWithMarkersAndUnfocusedShowsItsHead() {
        let e = editor("127.0.0.1:39471")
        XCTAssertEqual(e.visibleSlice(width: 8, focused: false).text, "127.0.0…")
        let focused = e.visibleSlice(width: 8)
        XCTAssertEqual(focused.text, "‹:39471")
        XCTAssertEqual(focused.cursorColumn, 7, "the cursor after the end, in the last column")
        var start = e
        start.handle(.home)
        XCTAssertEqual(start.visibleSlice(width: 8).text, "127.0.0›")
        XCTAssertEqual(start.visibleSlice(width: 8).cursorColumn, 0)
        XCTAssertEqual(e.visibleSlice(width: 20).text, "127.0.0.1:39471")
    }
}

extension LineEditorTests {
    func testScalarsTypedOneByOneJoinIntoOneCluster() {
        var e = LineEditor()
        for scalar in "x👨‍👩‍👧y👍🏽z".unicodeScalars { e.handle(.character(Character(scalar))) }
        XCTAssertEqual(e.characters.count, 5)
        e.handle(.left)
        e.handle(.left)
        e.handle(.backspace)
        XCTAssertEqual(e.text, "x👨‍👩‍👧👍🏽z")
        XCTAssertEqual(e.visibleSlice(width: 20).cursorColumn, 3)
    }
}
