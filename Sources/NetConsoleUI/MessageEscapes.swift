import NetEngine

/// What a message typed in a session means on the wire, and how bytes from a peer are shown. Pure, so every case
/// is a table in the tests.
public enum MessageEscapes {
    /// Text with `\x41`, `\r`, `\n`, `\t`, `\0` and `\\` turned into their bytes; everything else is its UTF-8.
    public static func bytes(from text: String) throws(MessageSyntaxError) -> [UInt8] {
        var out: [UInt8] = []
        let scalars = Array(text.unicodeScalars)
        var index = 0
        while index < scalars.count {
            let scalar = scalars[index]
            guard scalar == "\\" else {
                out += Array(String(scalar).utf8)
                index += 1
                continue
            }
            let column = index + 1
            guard index + 1 < scalars.count else {
                throw MessageSyntaxError("a lone \\ at the end (column \(column)): type \\\\ for a backslash")
            }
            let next = scalars[index + 1]
            switch next {
            case "\\": out.append(0x5C)
            case "r": out.append(0x0D)
            case "n": out.append(0x0A)
            case "t": out.append(0x09)
            case "0": out.append(0x00)
            case "x":
                guard index + 3 < scalars.count, let high = hexDigitValue(scalars[index + 2]), let low = hexDigitValue(scalars[index + 3]) else {
                    throw MessageSyntaxError("\\x needs two hex digits (column \(column)), like \\x1b")
                }
                out.append(high << 4 | low)
                index += 4
                continue
            default:
                throw MessageSyntaxError("\\\(String(next).sanitizedForDisplay) is not an escape (column \(column)): use \\x.. \\r \\n \\t \\0, or \\\\ for a backslash")
            }
            index += 2
        }
        return out
    }

    /// The bytes of a message typed in a session: hex as it is, or text with its escapes, its line breaks (a
    /// paste's) and its end as `ending` says (a paste's line breaks stay LF when the session sends no line end).
    public static func messageBytes(_ text: String, ending: LineEnding, hex: Bool) throws(MessageSyntaxError) -> [UInt8] {
        if hex { return try hexBytes(from: text) }
        var lines: [String] = []
        var current = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if scalar == "\n" {
                if current.last == "\r" { current.removeLast() }
                lines.append(String(current))
                current = String.UnicodeScalarView()
            } else {
                current.append(scalar)
            }
        }
        lines.append(String(current))
        let separator = ending == .none ? [0x0A] : ending.bytes
        var out: [UInt8] = []
        for (index, line) in lines.enumerated() {
            if index > 0 { out += separator }
            out += try bytes(from: line)
        }
        return out + ending.bytes
    }

    /// Hex bytes as a person types them: "de ad be ef", "deadbeef", "de:ad", "0xde 0xad".
    public static func hexBytes(from text: String) throws(MessageSyntaxError) -> [UInt8] {
        var out: [UInt8] = []
        var high: UInt8?
        let scalars = Array(text.unicodeScalars)
        var index = 0
        while index < scalars.count {
            let scalar = scalars[index]
            let column = index + 1
            if scalar == " " || scalar == ":" || scalar == "," || scalar == "\t" || scalar == "\n" || scalar == "\r" {
                if high != nil { throw MessageSyntaxError("a lone hex digit before column \(column): each byte is two digits, like 0a") }
                index += 1
                continue
            }
            if scalar == "0", high == nil, index + 1 < scalars.count, scalars[index + 1] == "x" || scalars[index + 1] == "X" {
                index += 2
                continue
            }
            guard let value = hexDigitValue(scalar) else {
                throw MessageSyntaxError("'\(String(scalar).sanitizedForDisplay)' is not a hex digit (column \(column)): hex mode sends bytes like de ad be ef")
            }
            if let first = high {
                out.append(first << 4 | value)
                high = nil
            } else {
                high = value
            }
            index += 1
        }
        if high != nil { throw MessageSyntaxError("a lone hex digit at the end: each byte is two digits, like 0a") }
        return out
    }

    /// Bytes from a peer as one line of text that is safe to draw: valid UTF-8 as it is, with control characters,
    /// line breaks and direction overrides escaped, and every byte that is not UTF-8 as `\xNN`. ASCII controls are
    /// `\xNN` too (`\t`, `\n` and `\r` aside), as the message field takes them and the inspector shows them.
    public static func displayText<Bytes: Collection>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        let all = Array(bytes)
        var out = ""
        var text = String.UnicodeScalarView()
        func flushText() {
            guard !text.isEmpty else { return }
            out += String(text).sanitizedForDisplay
            text = String.UnicodeScalarView()
        }
        var index = 0
        while index < all.count {
            let byte = all[index]
            if byte < 0x20 && byte != 0x09 && byte != 0x0A && byte != 0x0D || byte == 0x7F {
                flushText()
                out += "\\x" + hex(byte)
                index += 1
            } else if let (scalar, length) = scalar(in: all, at: index) {
                text.append(scalar)
                index += length
            } else {
                flushText()
                out += "\\x" + hex(all[index])
                index += 1
            }
        }
        flushText()
        return out
    }

    /// The scalar whose UTF-8 starts at `index` and its length, or nil where the bytes are not UTF-8 (overlong
    /// forms and surrogates included).
    private static func scalar(in bytes: [UInt8], at index: Int) -> (Unicode.Scalar, Int)? {
        let first = bytes[index]
        if first < 0x80 { return (Unicode.Scalar(first), 1) }
        let length: Int
        var value: UInt32
        var low: UInt8 = 0x80, high: UInt8 = 0xBF
        switch first {
        case 0xC2...0xDF: length = 2; value = UInt32(first & 0x1F)
        case 0xE0...0xEF:
            length = 3; value = UInt32(first & 0x0F)
            if first == 0xE0 { low = 0xA0 }
            if first == 0xED { high = 0x9F }
        case 0xF0...0xF4:
            length = 4; value = UInt32(first & 0x07)
            if first == 0xF0 { low = 0x90 }
            if first == 0xF4 { high = 0x8F }
        default: return nil
        }
        guard index + length <= bytes.count else { return nil }
        for offset in 1..<length {
            let byte = bytes[index + offset]
            let (min, max) = offset == 1 ? (low, high) : (UInt8(0x80), UInt8(0xBF))
            guard byte >= min, byte <= max else { return nil }
            value = value << 6 | UInt32(byte & 0x3F)
        }
        return Unicode.Scalar(value).map { ($0, length) }
    }

    static func hex(_ byte: UInt8) -> String { hexString([byte]) }

}
