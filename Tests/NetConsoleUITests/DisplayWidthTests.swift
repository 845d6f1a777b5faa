import NetConsoleUI
import XCTest

/// Columns per grapheme cluster, as terminals draw them: a corpus of the clusters that used to corrupt the screen.
final class DisplayWidthTests: XCTestCase {
    static let corpus: [(text: String, width: Int, why: String)] = [
        ("a", 1, "ASCII"),
        ("é", 1, "precomposed"),
        ("e\u{301}", 1, "e and a combining acute"),
        ("文", 2, "CJK ideograph"),
        ("ｱ", 1, "halfwidth katakana"),
        ("Ａ", 2, "fullwidth Latin"),
        ("한", 2, "Hangul syllable"),
        ("\u{1100}\u{1161}\u{11A8}", 2, "Hangul jamo L V T: the vowel and final join"),
        ("😀", 2, "emoji presentation"),
        ("👍🏽", 4, "skin tone: wcwidth per scalar, as xterm and tmux draw it"),
        ("👨‍👩‍👧", 2, "ZWJ family: one wide glyph"),
        ("👩‍💻", 2, "ZWJ profession"),
        ("🏳️‍🌈", 2, "ZWJ with VS16"),
        ("❤️", 2, "text-default emoji with VS16"),
        ("❤", 1, "text-default emoji alone"),
        ("☺︎", 1, "VS15 keeps text presentation"),
        ("1️⃣", 2, "keycap"),
        ("🇺🇦", 2, "regional-indicator pair: one flag"),
        ("🇺", 1, "a lone regional indicator"),
        ("\u{200B}", 0, "zero-width space"),
        ("\u{7}", 0, "control character"),
    ]

    func testTheCorpus() {
        for entry in Self.corpus {
            XCTAssertEqual(Array(entry.text).count, 1, "\(entry.why) is one cluster")
            XCTAssertEqual(DisplayWidth.of(Character(entry.text)), entry.width, entry.why)
        }
        XCTAssertEqual("ok 👨‍👩‍👧 🇺🇦 👍🏽!".displayWidth, 3 + 2 + 1 + 2 + 1 + 4 + 1)
    }

    func testCursesIsBypassedOnlyForClustersItWouldSplit() {
        for text in ["👍🏽", "👨‍👩‍👧", "❤️", "🇺🇦", "1️⃣"] { XCTAssertTrue(DisplayWidth.needsDirectOutput(Character(text)), text) }
        for text in ["a", "文", "e\u{301}", "😀", "\u{1100}\u{1161}"] { XCTAssertFalse(DisplayWidth.needsDirectOutput(Character(text)), text) }
    }

    func testAGridRowKeepsItsWidthWithEveryCluster() {
        for entry in Self.corpus where entry.width > 0 {
            var grid = ScreenGrid(rows: 1, cols: 12)
            grid.write("[" + entry.text + "]│", row: 0, col: 0)
            let row = (0..<12).map { grid[0, $0].text }
            XCTAssertEqual(row.firstIndex(of: "│"), 2 + entry.width, entry.why)
            // Overwriting any part of a wide cluster blanks all of it.
            if entry.width > 1 {
                grid.write("x", row: 0, col: 1 + entry.width - 1)
                XCTAssertFalse((0..<12).contains { grid[0, $0].text == entry.text }, entry.why)
                XCTAssertFalse((0..<12).contains { grid[0, $0].isCovered }, entry.why)
            }
        }
    }
}
