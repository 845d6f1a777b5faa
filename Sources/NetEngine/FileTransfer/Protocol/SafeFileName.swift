/// Turns the name a peer sent into a base name that is safe to create inside the upload folder.
///
/// Every decision is made on Unicode scalars, never on `Character`s: a `/` followed by a combining mark, ZWJ or
/// variation selector is one `Character` but still a `/` byte to the kernel.
public enum SafeFileName {
    /// Longest name most Linux file systems accept, in bytes.
    public static let maxLength = 255
    /// Used when nothing usable is left of the name.
    public static let fallback = "unnamed"

    /// The last path component of `raw` (after `/` or `\`), with control characters, look-alike slashes, invisible
    /// direction marks and NUL replaced by `_`; leading dots, spaces and combining marks removed; trailing spaces
    /// removed; cut to 255 UTF-8 bytes on a scalar boundary (keeping a short extension).
    /// Never empty, never starts with `.`, never contains `/`, `\` or NUL.
    public static func sanitize(_ raw: String) -> String {
        // The last component with anything left once cleaned: `notes/..` and `notes/\u{301}` are `notes`.
        for component in split(Array(raw.unicodeScalars)).reversed() where !isDotName(component) {
            var scalars = component.map { isUnsafe($0) ? "_" : $0 }
            trim(&scalars)
            if !scalars.isEmpty { return fitted(scalars, suffix: [], limit: maxLength) }
        }
        return fallback
    }

    /// `name` with " (n)" before its extension: `notes.txt`, 2 → `notes (2).txt`; still within 255 bytes.
    public static func variant(of name: String, number: Int) -> String {
        guard number > 0 else { return name }
        return variant(of: name, suffix: " (\(number))")
    }

    /// `name` with `suffix` before its extension, still within 255 bytes.
    public static func variant(of name: String, suffix: String) -> String {
        fitted(Array(name.unicodeScalars), suffix: Array(suffix.unicodeScalars), limit: maxLength)
    }

    // MARK: Pieces

    private static func split(_ scalars: [Unicode.Scalar]) -> [ArraySlice<Unicode.Scalar>] {
        scalars.split(omittingEmptySubsequences: true) { $0 == "/" || $0 == "\\" }
    }

    private static func isDotName(_ component: ArraySlice<Unicode.Scalar>) -> Bool {
        component.elementsEqual(["."]) || component.elementsEqual([".", "."])
    }

    /// Removes what must not lead a name (dots, which hide it; spaces; marks and joiners, which would attach to
    /// whatever is printed before the name) and trailing spaces, with any marks or joiners that ride on them.
    private static func trim(_ scalars: inout [Unicode.Scalar]) {
        let leading = scalars.prefix { $0 == "." || isSpace($0) || isAttaching($0) }.count
        scalars.removeFirst(leading)
        while let last = scalars.last {
            if isSpace(last) || last.properties.isDefaultIgnorableCodePoint {
                scalars.removeLast()
                continue
            }
            let riders = scalars.reversed().prefix { isAttaching($0) }.count
            guard riders > 0, riders < scalars.count, isSpace(scalars[scalars.count - riders - 1]) else { break }
            scalars.removeLast(riders + 1)
        }
    }

    /// Splits `name` into stem and extension (the last `.` that is not the first scalar, if the extension is at most
    /// 32 bytes), inserts `suffix` before the extension and shortens the stem until the whole fits in `limit` bytes.
    private static func fitted(_ name: [Unicode.Scalar], suffix: [Unicode.Scalar], limit: Int) -> String {
        var stem = name[...]
        var ext: ArraySlice<Unicode.Scalar> = []
        if let dot = name.lastIndex(of: "."), dot > 0, utf8Length(name[dot...]) <= 32 {
            stem = name[..<dot]
            ext = name[dot...]
        }
        let room = max(limit - utf8Length(suffix[...]) - utf8Length(ext), 1)
        var used = 0
        var kept = 0
        for scalar in stem {
            let length = UTF8.width(scalar)
            if used + length > room { break }
            used += length
            kept += 1
        }
        var result = String.UnicodeScalarView()
        result.append(contentsOf: stem.prefix(kept))
        result.append(contentsOf: suffix)
        result.append(contentsOf: ext)
        return String(result)
    }

    private static func utf8Length(_ scalars: ArraySlice<Unicode.Scalar>) -> Int {
        scalars.reduce(0) { $0 + UTF8.width($1) }
    }

    /// White space, and the letters and symbols that render as blank (braille blank, Hangul fillers), which would
    /// otherwise make `\u{2800}.profile` look hidden or `x.txt\u{3164}` look like `x.txt`.
    private static func isSpace(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x2800, 0x3164, 0xFFA0, 0x115F, 0x1160: return true
        default: return scalar.properties.isWhitespace
        }
    }

    /// Scalars that render attached to the one before them (marks, joiners, variation selectors).
    private static func isAttaching(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .nonspacingMark, .spacingMark, .enclosingMark: return true
        default: return scalar.properties.isGraphemeExtend || scalar.properties.isDefaultIgnorableCodePoint
        }
    }

    private static func isUnsafe(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0..<0x20, 0x7F, 0x80..<0xA0: return true  // C0 (incl. NUL, newline, ESC), DEL, C1
        case 0x2028, 0x2029: return true  // line and paragraph separators
        case 0x061C, 0x200E, 0x200F, 0x202A...0x202E, 0x2066...0x2069: return true  // direction marks and overrides
        case 0xFEFF, 0xFFF9...0xFFFB: return true  // byte-order mark, interlinear annotation controls
        // Slashes that look like path separators: a name must not seem to name another folder.
        case 0x2044, 0x2215, 0x2216, 0x29F5, 0x29F8, 0x29F9, 0xFE68, 0xFF0F, 0xFF3C: return true
        default: return false
        }
    }
}
