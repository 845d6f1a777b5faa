/// Turns the name a peer sent into a base name that is safe to create inside the upload folder.
public enum SafeFileName {
    /// Longest name most Linux file systems accept, in bytes.
    public static let maxLength = 255
    /// Used when nothing usable is left of the name.
    public static let fallback = "unnamed"

    /// The last path component of `raw` (after `/` or `\`), with control characters, invisible direction marks and
    /// NUL replaced by `_`, leading dots and surrounding spaces removed, and cut to 255 UTF-8 bytes on a scalar
    /// boundary (keeping a short extension). Never empty, never `.` or `..`, never contains `/`.
    public static func sanitize(_ raw: String) -> String {
        let components = raw.split(whereSeparator: { $0 == "/" || $0 == "\\" })
        let base = components.last { $0 != "." && $0 != ".." }.map(String.init) ?? ""
        var cleaned = String.UnicodeScalarView()
        for scalar in base.unicodeScalars {
            cleaned.append(isUnsafe(scalar) ? "_" : scalar)
        }
        var name = Substring(String(cleaned))
        while let first = name.first, first == "." || first.isWhitespace { name.removeFirst() }
        while let last = name.last, last.isWhitespace { name.removeLast() }
        if name.isEmpty { return fallback }
        return fitted(String(name), suffix: "", limit: maxLength)
    }

    /// `name` with " (n)" before its extension: `notes.txt`, 2 → `notes (2).txt`; still within 255 bytes.
    public static func variant(of name: String, number: Int) -> String {
        guard number > 0 else { return name }
        return fitted(name, suffix: " (\(number))", limit: maxLength)
    }

    /// Splits `name` into stem and extension, inserts `suffix` before the extension and shortens the stem until the
    /// whole fits in `limit` bytes. An extension longer than 32 bytes is treated as part of the stem.
    private static func fitted(_ name: String, suffix: String, limit: Int) -> String {
        var stem = name
        var ext = ""
        if let dot = name.lastIndex(of: "."), dot != name.startIndex {
            let candidate = String(name[dot...])
            if candidate.utf8.count <= 32 {
                stem = String(name[..<dot])
                ext = candidate
            }
        }
        let room = limit - suffix.utf8.count - ext.utf8.count
        if stem.utf8.count > room { stem = stem.truncatedToUTF8Length(max(room, 1)) }
        return stem + suffix + ext
    }

    private static func isUnsafe(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0..<0x20, 0x7F, 0x80..<0xA0: return true  // C0 (incl. NUL, newline, ESC), DEL, C1
        case 0x2028, 0x2029: return true  // line and paragraph separators
        case 0x200E, 0x200F, 0x202A...0x202E, 0x2066...0x2069: return true  // direction marks and overrides
        case 0xFEFF: return true
        default: return false
        }
    }
}
