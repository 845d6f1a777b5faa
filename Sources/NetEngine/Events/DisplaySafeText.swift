extension String {
    /// The text with control characters (escape sequences, newlines, NUL, DEL, C1) shown as visible escapes,
    /// so a peer's bytes can never drive the terminal.
    public var sanitizedForDisplay: String {
        var out = ""
        out.reserveCapacity(utf8.count)
        for scalar in unicodeScalars {
            switch scalar.value {
            case 0x20..<0x7F: out.unicodeScalars.append(scalar)
            case 0x09: out += "\\t"
            case 0x0A: out += "\\n"
            case 0x0D: out += "\\r"
            case 0..<0x20, 0x7F, 0x80..<0xA0, 0x2028, 0x2029, 0x202A...0x202E, 0x2066...0x2069:
                out += "\\u{\(String(scalar.value, radix: 16))}"
            case _ where (scalar.properties.isGraphemeExtend || scalar.value == 0x200C || scalar.value == 0x200D)
                && (out.unicodeScalars.last.map { $0 == " " } ?? true):
                // A mark with nothing to sit on (at the start, or after a space that separates columns): terminals
                // disagree on its width, so a row could shift; it is shown as an escape instead.
                out += "\\u{\(String(scalar.value, radix: 16))}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
