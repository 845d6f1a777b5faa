/// How many terminal columns text takes, per grapheme cluster, the way terminals draw it: each scalar's
/// wcwidth added up (East Asian wide characters and emoji two, combining marks and format characters none), except
/// that an emoji ZWJ sequence and an emoji with VS16 are one wide glyph, and a pair of regional indicators is one
/// flag, two columns.
public enum DisplayWidth {
    public static func of(_ character: Character) -> Int {
        let scalars = character.unicodeScalars
        guard let first = scalars.first else { return 0 }
        if scalars.count == 1 { return of(first) }
        if isRegionalIndicator(first) {
            return scalars.filter(isRegionalIndicator).count >= 2 ? 2 : 1
        }
        if first.properties.isEmoji && scalars.contains(where: { $0.value == 0x200D || $0.value == 0xFE0F }) { return 2 }
        return scalars.reduce(0) { $0 + of($1) }
    }

    /// wcwidth of one scalar.
    public static func of(_ scalar: Unicode.Scalar) -> Int {
        let value = scalar.value
        if value < 0x20 || (value >= 0x7F && value < 0xA0) { return 0 }
        if value < 0x300 { return 1 }
        // Hangul medial vowels and final consonants join the syllable before them.
        if (0x1160...0x11FF).contains(value) || (0xD7B0...0xD7FF).contains(value) { return 0 }
        switch scalar.properties.generalCategory {
        case .nonspacingMark, .enclosingMark, .format: return 0
        default: break
        }
        // A regional indicator alone is a letter; only a pair (a flag, see above) is wide.
        if isRegionalIndicator(scalar) { return 1 }
        if scalar.properties.isEmojiPresentation { return 2 }
        return isWide(value) ? 2 : 1
    }

    public static func of(_ text: String) -> Int {
        var total = 0
        for character in text { total += of(character) }
        return total
    }

    /// Clusters curses cannot hold in one cell (it splits them at every scalar that has a width of its own, and
    /// drops what follows a ZWJ): the terminal layer writes these itself.
    public static func needsDirectOutput(_ character: Character) -> Bool {
        let scalars = character.unicodeScalars
        guard scalars.count > 1 else { return false }
        return scalars.dropFirst().contains { scalar in
            scalar.value == 0x200D || scalar.value == 0xFE0F || isRegionalIndicator(scalar) || of(scalar) != 0
                || (0xE0020...0xE007F).contains(scalar.value)
        }
    }

    static func isRegionalIndicator(_ scalar: Unicode.Scalar) -> Bool { (0x1F1E6...0x1F1FF).contains(scalar.value) }

    /// East Asian Wide and Fullwidth blocks (Unicode EastAsianWidth W/F), which terminals draw two columns wide.
    static func isWide(_ value: UInt32) -> Bool {
        switch value {
        case 0x1100...0x115F, 0x231A...0x231B, 0x2329...0x232A, 0x2E80...0x303E, 0x3041...0x33FF,
             0x3400...0x4DBF, 0x4E00...0x9FFF, 0xA000...0xA4CF, 0xA960...0xA97F, 0xAC00...0xD7A3,
             0xF900...0xFAFF, 0xFE10...0xFE19, 0xFE30...0xFE6F, 0xFF00...0xFF60, 0xFFE0...0xFFE6,
             0x16FE0...0x16FE4, 0x17000...0x18CFF, 0x1B000...0x1B2FF, 0x1F300...0x1F64F, 0x1F900...0x1F9FF,
             0x20000...0x2FFFD, 0x30000...0x3FFFD:
            return true
        default:
            return false
        }
    }
}

extension String {
    /// Columns this text takes in a terminal.
    public var displayWidth: Int { DisplayWidth.of(self) }

    /// The text cut to at most `width` columns, ending in "…" when something was cut.
    public func truncated(toWidth width: Int) -> String {
        guard width > 0 else { return "" }
        if displayWidth <= width { return self }
        var result = ""
        var used = 0
        for character in self {
            let w = DisplayWidth.of(character)
            if used + w > width - 1 { break }
            result.append(character)
            used += w
        }
        return result + "…"
    }

    /// The text cut to `width` columns by dropping its middle, so a file name keeps its start and its extension.
    public func truncatedInMiddle(toWidth width: Int) -> String {
        guard width > 0 else { return "" }
        if displayWidth <= width { return self }
        if width < 6 { return truncated(toWidth: width) }
        let tailBudget = (width - 1) / 3
        var tail: [Character] = []
        var tailUsed = 0
        for character in reversed() {
            let w = DisplayWidth.of(character)
            if tailUsed + w > tailBudget { break }
            tail.insert(character, at: 0)
            tailUsed += w
        }
        return truncated(toWidth: width - tailUsed) + String(tail)
    }

    /// The text truncated or padded with spaces to exactly `width` columns.
    public func fitted(toWidth width: Int, alignRight: Bool = false) -> String {
        let cut = truncated(toWidth: width)
        let padding = String(repeating: " ", count: max(0, width - cut.displayWidth))
        return alignRight ? padding + cut : cut + padding
    }
}
