/// Peer bytes as text that is safe on a terminal: printable ASCII and printable UTF-8 as they are; line breaks end a
/// line (shown as `\n`); tabs, carriage returns and other controls, combining marks, joiners, bidi and other
/// format characters, private-use and unassigned scalars as `\u{...}`; bytes that are not UTF-8 as `\xNN`. Decided
/// on bytes and scalars, so no peer byte can move the cursor, recolour the screen or merge into a neighbour.
public enum PayloadText {
    /// The lines of `bytes`; a line ends after each `\n`. A multi-byte character cut at the end shows as `\xNN`.
    public static func lines(_ bytes: [UInt8]) -> [String] {
        var lines: [String] = []
        var line = ""
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte < 0x80 {
                switch byte {
                case 0x0A:
                    line += "\\n"
                    lines.append(line)
                    line = ""
                case 0x09: line += "\\t"
                case 0x0D: line += "\\r"
                case 0x20..<0x7F: line.unicodeScalars.append(Unicode.Scalar(byte))
                default: line += "\\x" + hex(byte)
                }
                index += 1
                continue
            }
            if let (scalar, length) = decode(bytes, at: index) {
                if isShown(scalar) { line.unicodeScalars.append(scalar) } else { line += "\\u{" + String(scalar.value, radix: 16) + "}" }
                index += length
            } else {
                line += "\\x" + hex(byte)
                index += 1
            }
        }
        if !line.isEmpty { lines.append(line) }
        return lines
    }

    /// Whether a (non-ASCII) scalar may be shown as itself: it is visible, takes its own cell and changes no state.
    static func isShown(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .nonspacingMark, .spacingMark, .enclosingMark, .format, .control, .privateUse, .surrogate, .unassigned,
             .lineSeparator, .paragraphSeparator:
            return false
        default:
            // Variation selectors are marks; the emoji modifiers and tag characters change their neighbour.
            return !(0x1F3FB...0x1F3FF).contains(scalar.value) && !(0xE0000...0xE007F).contains(scalar.value)
        }
    }

    /// One well-formed UTF-8 sequence at `index` (no overlongs, no surrogates, nothing above U+10FFFF).
    static func decode(_ bytes: [UInt8], at index: Int) -> (Unicode.Scalar, Int)? {
        let lead = bytes[index]
        let length: Int
        var value: UInt32
        switch lead {
        case 0xC2...0xDF: length = 2; value = UInt32(lead & 0x1F)
        case 0xE0...0xEF: length = 3; value = UInt32(lead & 0x0F)
        case 0xF0...0xF4: length = 4; value = UInt32(lead & 0x07)
        default: return nil
        }
        guard index + length <= bytes.count else { return nil }
        for offset in 1..<length {
            let next = bytes[index + offset]
            guard next & 0xC0 == 0x80 else { return nil }
            value = value << 6 | UInt32(next & 0x3F)
        }
        let minimum: UInt32 = length == 2 ? 0x80 : length == 3 ? 0x800 : 0x10000
        guard value >= minimum, let scalar = Unicode.Scalar(value) else { return nil }
        return (scalar, length)
    }

    private static let digits = Array("0123456789abcdef".unicodeScalars)

    static func hex(_ byte: UInt8) -> String {
        var text = ""
        text.unicodeScalars.append(digits[Int(byte >> 4)])
        text.unicodeScalars.append(digits[Int(byte & 0x0F)])
        return text
    }
}
