/// A one-line text field with a cursor, emacs-style editing keys (as in bash's readline) and, optionally,
/// a history browsed with Up and Down.
public struct LineEditor: Equatable, Sendable {
    public private(set) var characters: [Character] = []
    public private(set) var cursor = 0
    public private(set) var history: [String] = []
    /// What the last Ctrl-W, Ctrl-U, Ctrl-K, Alt-D or Alt-Backspace cut, for Ctrl-Y.
    public private(set) var killed: [Character] = []
    /// Index into `history` while browsing it; nil when editing a fresh line.
    private var historyIndex: Int?
    /// The line being typed before browsing started, restored when Down walks past the newest entry.
    private var draft: [Character] = []
    public let historyLimit: Int

    public init(text: String = "", historyLimit: Int = 100) {
        self.historyLimit = historyLimit
        setText(text)
    }

    public var text: String { String(characters) }

    public mutating func setText(_ text: String) {
        characters = Array(text)
        cursor = characters.count
        historyIndex = nil
    }

    /// Applies an editing key; returns false when the key is not an editing key.
    @discardableResult
    public mutating func handle(_ key: Key) -> Bool {
        switch key {
        case .character(let c): insert([c])
        case .paste(let text): insert(Array(text))
        case .backspace:
            if cursor > 0 {
                characters.remove(at: cursor - 1)
                cursor -= 1
            }
        case .delete, .control("d"):
            if cursor < characters.count { characters.remove(at: cursor) }
        case .left, .control("b"): cursor = max(0, cursor - 1)
        case .right, .control("f"): cursor = min(characters.count, cursor + 1)
        case .wordLeft, .alt("b"), .alt("B"): cursor = wordStart(before: cursor)
        case .wordRight, .alt("f"), .alt("F"): cursor = wordEnd(after: cursor)
        case .home, .control("a"): cursor = 0
        case .end, .control("e"): cursor = characters.count
        case .control("u"): kill(0..<cursor)
        case .control("k"): kill(cursor..<characters.count)
        case .control("w"): kill(blankSeparatedWordStart(before: cursor)..<cursor)
        case .altBackspace: kill(wordStart(before: cursor)..<cursor)
        case .alt("d"), .alt("D"): kill(cursor..<wordEnd(after: cursor))
        case .control("y"): insert(killed)
        case .up: olderEntry()
        case .down: newerEntry()
        default:
            return false
        }
        return true
    }

    /// Inserts at the cursor and joins what now forms one grapheme cluster: a terminal delivers 👍🏽 or a ZWJ
    /// family one scalar at a time, and they must edit and measure as one.
    private mutating func insert(_ text: [Character]) {
        characters.insert(contentsOf: text, at: cursor)
        cursor += text.count
        let clustered = Array(String(characters))
        if clustered.count != characters.count {
            let after = Array(String(characters[cursor...])).count
            characters = clustered
            cursor = min(max(0, clustered.count - after), clustered.count)
        }
    }

    private mutating func kill(_ range: Range<Int>) {
        guard !range.isEmpty else { return }
        killed = Array(characters[range])
        characters.removeSubrange(range)
        cursor = range.lowerBound
    }

    private static func isWordCharacter(_ c: Character) -> Bool { c.isLetter || c.isNumber || c == "_" }

    /// Where Alt-B lands: the start of this word or the one before, as readline moves.
    private func wordStart(before index: Int) -> Int {
        var i = index
        while i > 0 && !Self.isWordCharacter(characters[i - 1]) { i -= 1 }
        while i > 0 && Self.isWordCharacter(characters[i - 1]) { i -= 1 }
        return i
    }

    /// Where Alt-F lands: the end of this word or the next.
    private func wordEnd(after index: Int) -> Int {
        var i = index
        while i < characters.count && !Self.isWordCharacter(characters[i]) { i += 1 }
        while i < characters.count && Self.isWordCharacter(characters[i]) { i += 1 }
        return i
    }

    /// Where Ctrl-W cuts back to: the previous blank, so "127.0.0.1:80" goes in one press.
    private func blankSeparatedWordStart(before index: Int) -> Int {
        var i = index
        while i > 0 && characters[i - 1].isWhitespace { i -= 1 }
        while i > 0 && !characters[i - 1].isWhitespace { i -= 1 }
        return i
    }

    /// Starts the history with lines from an earlier run, oldest first.
    public mutating func loadHistory(_ lines: [String]) {
        var kept: [String] = []
        for line in lines where !line.isEmpty && kept.last != line { kept.append(line) }
        history = Array(kept.suffix(historyLimit))
        historyIndex = nil
    }

    /// Starts the history with entries used before, oldest first, each once (where it was last used).
    public mutating func loadDistinctHistory(_ lines: [String]) {
        var kept: [String] = []
        for line in lines.reversed() where !line.isEmpty && !kept.contains(line) { kept.append(line) }
        history = Array(kept.prefix(historyLimit).reversed())
        historyIndex = nil
    }

    /// Records `line` as the newest entry without touching the text (a target used): once, where it was last used.
    public mutating func remember(_ line: String) {
        guard !line.isEmpty else { return }
        history.removeAll { $0 == line }
        history.append(line)
        if history.count > historyLimit { history.removeFirst(history.count - historyLimit) }
        historyIndex = nil
    }

    /// Takes the line for sending: records it in the history (skipping repeats) and clears the field.
    public mutating func commit() -> String {
        let line = text
        if !line.isEmpty && history.last != line {
            history.append(line)
            if history.count > historyLimit { history.removeFirst(history.count - historyLimit) }
        }
        setText("")
        draft = []
        return line
    }

    private mutating func olderEntry() {
        guard !history.isEmpty else { return }
        let index: Int
        if let current = historyIndex {
            index = max(0, current - 1)
        } else {
            draft = characters
            index = history.count - 1
        }
        historyIndex = index
        characters = Array(history[index])
        cursor = characters.count
    }

    private mutating func newerEntry() {
        guard let current = historyIndex else { return }
        if current + 1 < history.count {
            historyIndex = current + 1
            characters = Array(history[current + 1])
        } else {
            historyIndex = nil
            characters = draft
        }
        cursor = characters.count
    }

    /// How a character of the field is drawn: a pasted line break as ⏎, a tab as ⇥, other control characters
    /// as �, so each takes one column and the cursor stays where it is drawn.
    public static func shown(_ character: Character) -> Character {
        switch character {
        case "\n", "\r\n", "\r": return "⏎"
        case "\t": return "⇥"
        default:
            if let scalar = character.unicodeScalars.first, scalar.value < 0x20 || (0x7F..<0xA0).contains(scalar.value) {
                return "�"
            }
            return character
        }
    }

    /// The part of the text to show in a field `width` columns wide, and the cursor's column inside it.
    /// Focused, the view follows the cursor, with ‹ and › where text goes on beyond an edge; unfocused, the
    /// field shows the start of its text, cut with "…".
    public func visibleSlice(width: Int, focused: Bool = true) -> (text: String, cursorColumn: Int) {
        guard width > 1 else { return ("", 0) }
        let shownCharacters = characters.map(Self.shown)
        let widths = shownCharacters.map { DisplayWidth.of($0) }
        let total = widths.reduce(0, +)
        if !focused {
            let text = String(shownCharacters)
            return (total <= width ? text : text.truncated(toWidth: width), 0)
        }
        if total + 1 <= width {
            return (String(shownCharacters), widths[0..<cursor].reduce(0, +))
        }
        var start = 0
        var widthBeforeCursor = widths[0..<cursor].reduce(0, +)
        // Room left of the cursor: the cell under it, and a › after it when text follows, stay free.
        let room = cursor == characters.count ? width - 1 : width - 2
        while start < cursor && (start > 0 ? 1 : 0) + widthBeforeCursor > room {
            widthBeforeCursor -= widths[start]
            start += 1
        }
        let left = start > 0 ? 1 : 0
        var shown = start > 0 ? "‹" : ""
        let restWidth = widths[start...].reduce(0, +)
        let textRoom = restWidth + left < width ? width - left : width - left - 1
        var used = 0
        var index = start
        while index < shownCharacters.count && used + widths[index] <= textRoom {
            shown.append(shownCharacters[index])
            used += widths[index]
            index += 1
        }
        if index < shownCharacters.count { shown.append("›") }
        return (shown, left + widthBeforeCursor)
    }
}
