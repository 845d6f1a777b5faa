import NetConsoleUI
import XCTest

/// What a typed message means on the wire, and how a peer's bytes are shown: tables of cases.
final class MessageEscapesTests: XCTestCase {
    func testEscapesBecomeTheirBytes() throws {
        let cases: [(String, [UInt8])] = [
            ("", []),
            ("plain", Array("plain".utf8)),
            ("\\x41\\x7f\\xFF", [0x41, 0x7F, 0xFF]),
            ("a\\r\\nb", [0x61, 0x0D, 0x0A, 0x62]),
            ("\\t\\0", [0x09, 0x00]),
            ("back\\\\slash", Array("back\\slash".utf8)),
            ("\\\\x41", Array("\\x41".utf8)),
            ("é\\x00", [0xC3, 0xA9, 0x00]),
        ]
        for (text, bytes) in cases {
            XCTAssertEqual(try MessageEscapes.bytes(from: text), bytes, text)
        }
    }

    func testABadEscapeSaysWhereAndWhatToType() {
        let cases: [(String, String)] = [
            ("ab\\q", "\\q is not an escape (column 3)"),
            ("trailing\\", "a lone \\ at the end (column 9)"),
            ("\\x4", "\\x needs two hex digits (column 1)"),
            ("\\xzz", "\\x needs two hex digits (column 1)"),
            ("\\\u{1B}", "\\\\u{1b} is not an escape"),
        ]
        for (text, message) in cases {
            XCTAssertThrowsError(try MessageEscapes.bytes(from: text), text) { error in
                XCTAssertTrue((error as? MessageSyntaxError)?.message.contains(message) ?? false, "\(text): \(error)")
            }
        }
    }

    func testHexInputTakesTheUsualSpellings() throws {
        let cases: [(String, [UInt8])] = [
            ("de ad be ef", [0xDE, 0xAD, 0xBE, 0xEF]),
            ("DEADBEEF", [0xDE, 0xAD, 0xBE, 0xEF]),
            ("de:ad,be\tef", [0xDE, 0xAD, 0xBE, 0xEF]),
            ("0x00 0xff", [0x00, 0xFF]),
            ("  ", []),
        ]
        for (text, bytes) in cases {
            XCTAssertEqual(try MessageEscapes.hexBytes(from: text), bytes, text)
        }
        for (text, message) in [("d ea", "a lone hex digit before column 2"), ("abc", "a lone hex digit at the end"), ("zz", "'z' is not a hex digit (column 1)")] {
            XCTAssertThrowsError(try MessageEscapes.hexBytes(from: text), text) { error in
                XCTAssertTrue((error as? MessageSyntaxError)?.message.contains(message) ?? false, "\(text): \(error)")
            }
        }
        let all = (0...255).map { String(format: "%02x", $0) }.joined(separator: " ")
        XCTAssertEqual(try MessageEscapes.hexBytes(from: all), (0...255).map { UInt8($0) })
    }

    func testAMessageEndsAsItsSessionSays() throws {
        let cases: [(String, LineEnding, Bool, [UInt8])] = [
            ("hi", .lf, false, Array("hi\n".utf8)),
            ("hi", .crlf, false, Array("hi\r\n".utf8)),
            ("hi", .none, false, Array("hi".utf8)),
            ("a\nb", .crlf, false, Array("a\r\nb\r\n".utf8)),
            ("a\r\nb", .lf, false, Array("a\nb\n".utf8)),
            ("a\nb", .none, false, Array("a\nb".utf8)),
            ("x\\n", .none, false, Array("x\n".utf8)),
            ("00 0a", .crlf, true, [0x00, 0x0A]),
            ("", .crlf, false, [0x0D, 0x0A]),
        ]
        for (text, ending, hex, bytes) in cases {
            XCTAssertEqual(try MessageEscapes.messageBytes(text, ending: ending, hex: hex), bytes, "\(text) \(ending) \(hex)")
        }
    }

    func testAPeersBytesAreShownSafely() {
        let cases: [([UInt8], String)] = [
            (Array("HTTP/1.0 200 OK".utf8), "HTTP/1.0 200 OK"),
            ([0x1B] + Array("[2J".utf8) + [0x1B, 0x5D, 0x30, 0x3B, 0x07], "\\x1b[2J\\x1b]0;\\x07"),
            ([0x61, 0x0D, 0x0A, 0x09], "a\\r\\n\\t"),
            ([0xFF, 0x61, 0xC3], "\\xffa\\xc3"),
            ([0xC3, 0xA9], "é"),
            ([0xC0, 0x80], "\\xc0\\x80"),
            ([0xED, 0xA0, 0x80], "\\xed\\xa0\\x80"),
            ([0xF4, 0x90, 0x80, 0x80], "\\xf4\\x90\\x80\\x80"),
            ([0xE2, 0x80, 0xAE, 0x61], "\\u{202e}a"),
            ([0xC2, 0x9B], "\\u{9b}"),
            (Array("👨‍👩‍👧 🇫🇷 e\u{301}".utf8), "👨‍👩‍👧 🇫🇷 e\u{301}"),
            // A mark with no base (hex de ad is U+07AD) would sit on the column's space, where terminals disagree on
            // its width and the row shifts: escaped, at the start and after a space; kept on a base.
            ([0xDE, 0xAD, 0xBE, 0xEF], "\\u{7ad}\\xbe\\xef"),
            (Array("a \u{301}b\u{301}".utf8), "a \\u{301}b\u{301}"),
            (Array("\u{200D}x".utf8), "\\u{200d}x"),
        ]
        for (bytes, shown) in cases {
            XCTAssertEqual(MessageEscapes.displayText(bytes), shown, "\(bytes)")
        }
        // Every byte value: nothing below 0x20 or 0x7f..0x9f is left raw.
        let shown = MessageEscapes.displayText((0...255).map { UInt8($0) })
        XCTAssertFalse(shown.unicodeScalars.contains { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) }, shown)
        // Invalid bytes in bulk cost a loop, not a stack.
        XCTAssertEqual(MessageEscapes.displayText([UInt8](repeating: 0xC3, count: 100_000)).count, 400_000)
    }
}
