/// A one-line text field with a cursor and, optionally, a history browsed with Up and Down.
public struct LineEditor: Equatable, Sendable {
    public private(set) var characters: [Character] = []
    public private(set) var cursor = 0
    public private(set) var history: [String] = []
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
        case .character(let c):
            characters.insert(c, at: cursor)
            cursor += 1
        case .backspace:
            if cursor > 0 {
                characters.remove(at: cursor - 1)
                cursor -= 1
            }
        case .delete, .control("d"):
            if cursor < characters.count { characters.remove(at: cursor) }
        case .left, .control("b"): cursor = max(0, cursor - 1)
        case .right, .control("f"): cursor = min(characters.count, cursor + 1)
        case .home, .control("a"): cursor = 0
        case .end, .control("e"): cursor = characters.count
        case .control("u"):
            characters.removeSubrange(0..<cursor)
            cursor = 0
        case .control("k"):
            characters.removeSubrange(cursor...)
        case .up: olderEntry()
        case .down: newerEntry()
        default:
            return false
        }
        return true
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

    /// The part of the text to show in a field `width` columns wide so that the cursor stays visible,
    /// and the cursor's column inside it.
    public func visibleSlice(width: Int) -> (text: String, cursorColumn: Int) {
        guard width > 1 else { return ("", 0) }
        var start = 0
        var widthBeforeCursor = characters[0..<cursor].reduce(0) { $0 + DisplayWidth.of($1) }
        while widthBeforeCursor > width - 1 && start < cursor {
            widthBeforeCursor -= DisplayWidth.of(characters[start])
            start += 1
        }
        var shown = ""
        var used = 0
        for character in characters[start...] {
            let w = DisplayWidth.of(character)
            if used + w > width { break }
            shown.append(character)
            used += w
        }
        return (shown, widthBeforeCursor)
    }
}
