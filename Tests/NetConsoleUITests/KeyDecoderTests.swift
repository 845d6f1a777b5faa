import NetConsoleUI
import XCTest

/// What terminals send, decoded: Esc-prefixed keys are Alt, sequences curses does not know are keys or nothing,
/// and a bracketed paste is one piece of text.
final class KeyDecoderTests: XCTestCase {
    private func decode(_ text: String, into decoder: inout KeyDecoder) -> [Key] {
        decoder.decode(text.unicodeScalars.map { .scalar($0) })
    }

    private func decode(_ text: String) -> [Key] {
        var decoder = KeyDecoder()
        return decode(text, into: &decoder)
    }

    func testEscAndACharacterTogetherIsAltAndALoneEscIsEsc() {
        XCTAssertEqual(decode("\u{1B}q"), [.alt("q")])
        XCTAssertEqual(decode("\u{1B}\u{7F}"), [.altBackspace])
        XCTAssertEqual(decode("\u{1B}"), [.escape])
        XCTAssertEqual(decode("\u{1B}\u{1B}"), [.escape, .escape])
        XCTAssertEqual(decode("a\u{1B}"), [.character("a"), .escape])
        var decoder = KeyDecoder()
        XCTAssertEqual(decoder.decode([.scalar("\u{1B}"), .key(.backspace)]), [.altBackspace], "curses decodes ^? as KEY_BACKSPACE")
        XCTAssertEqual(decoder.decode([.scalar("\u{1B}"), .key(.left)]), [.wordLeft])
        XCTAssertEqual(decode("\u{1B}\r"), [], "Alt-Enter sends nothing rather than acting as Enter")
    }

    func testControlKeysInRawMode() {
        XCTAssertEqual(decode("\u{13}\u{11}\u{03}\u{0C}"), [.control("s"), .control("q"), .control("c"), .control("l")])
        XCTAssertEqual(decode("\r\t\u{7F}"), [.enter, .tab, .backspace])
    }

    func testEscapeSequencesBecomeKeysOrNothingNeverText() {
        XCTAssertEqual(decode("\u{1B}[1;5D\u{1B}[1;5C\u{1B}[1;3D"), [.wordLeft, .wordRight, .wordLeft])
        XCTAssertEqual(decode("\u{1B}[1~\u{1B}[4~\u{1B}[H\u{1B}[F\u{1B}OH\u{1B}OF"), [.home, .end, .home, .end, .home, .end])
        XCTAssertEqual(decode("\u{1B}[5~\u{1B}[6~\u{1B}[3~\u{1B}[Z"), [.pageUp, .pageDown, .delete, .backTab])
        XCTAssertEqual(decode("\u{1B}OP\u{1B}[21~\u{1B}[24~"), [.function(1), .function(10), .function(12)])
        XCTAssertEqual(decode("\u{1B}[?1;2c\u{1B}[999z"), [], "unknown sequences are dropped whole")
        XCTAssertEqual(decode("\u{1B}[A\u{1B}[1;2B"), [.up, .down])
    }

    func testABracketedPasteIsOneTextWithItsLineBreaksAndTabs() {
        XCTAssertEqual(decode("\u{1B}[200~one\ttwo\rthree\r\nq\u{1B}[201~x"), [.paste("one\ttwo\nthree\nq"), .character("x")])
        XCTAssertEqual(decode("\u{1B}[200~\u{1B}[201~"), [], "an empty paste is nothing")
        XCTAssertEqual(decode("\u{1B}[200~\u{1B}q\u{1B}[201~"), [.paste("\u{1B}q")], "no Alt inside a paste")
    }

    func testAPasteGoesOnAcrossReads() {
        var decoder = KeyDecoder()
        XCTAssertEqual(decode("\u{1B}[200~first\r", into: &decoder), [])
        XCTAssertTrue(decoder.isInPaste)
        XCTAssertEqual(decoder.decode([.scalar("s"), .key(.enter), .scalar("\u{1B}")]), [], "Enter and Esc inside a paste stay in it")
        XCTAssertEqual(decode("[201~", into: &decoder), [.paste("first\ns\n")], "the end marker may span two reads")
        XCTAssertFalse(decoder.isInPaste)
    }

    func testSGRMouseReportsBecomeClicksAndTheWheel() {
        XCTAssertEqual(decode("\u{1B}[<0;10;5M\u{1B}[<0;10;5m"), [.click(row: 4, col: 9)], "a press is the click, the release nothing")
        XCTAssertEqual(decode("\u{1B}[<64;3;2M\u{1B}[<65;3;2M"), [.wheel(row: 1, col: 2, up: true), .wheel(row: 1, col: 2, up: false)])
        XCTAssertEqual(decode("\u{1B}[<2;1;1M\u{1B}[<32;1;1M"), [], "right button and motion are nothing")
        var decoder = KeyDecoder()
        XCTAssertEqual(decoder.decode(["\u{1B}", "[", "<"].map { .scalar($0) } + "1;1M".unicodeScalars.map { .scalar($0) }),
                       [], "button 2 (middle) is nothing")
        XCTAssertEqual(decoder.decode(["\u{1B}", "[", "<"].map { .scalar($0) } + "0;1;1M".unicodeScalars.map { .scalar($0) }),
                       [.click(row: 0, col: 0)], "what curses hands back after matching kmous")
    }
}

