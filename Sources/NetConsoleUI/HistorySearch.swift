/// Ctrl-R in the message field: a query typed finds the newest earlier message that contains it (ignoring case);
/// Ctrl-R again finds the next older one.
public struct HistorySearch: Equatable, Sendable {
    public private(set) var query = ""
    /// Index into the history of the message found; nil while nothing matches.
    public private(set) var match: Int?
    /// Ctrl-R found nothing older: the match stays, and the prompt says so.
    public private(set) var failed = false
    /// The field's text before the search, put back when it is cancelled.
    public let original: String

    public init(original: String, history: [String]) {
        self.original = original
        match = history.indices.last
    }

    public mutating func type(_ text: String, history: [String]) {
        query += text
        find(from: match ?? history.count - 1, history: history)
    }

    public mutating func deleteBack(history: [String]) {
        guard !query.isEmpty else { return }
        query.removeLast()
        find(from: history.count - 1, history: history)
    }

    public mutating func older(history: [String]) {
        guard let match else { return }
        let before = self.match
        find(from: match - 1, history: history)
        if self.match == nil {
            self.match = before
            failed = true
        }
    }

    private mutating func find(from start: Int, history: [String]) {
        failed = false
        guard start >= 0, !history.isEmpty else {
            match = nil
            return
        }
        let needle = query.lowercased()
        match = stride(from: min(start, history.count - 1), through: 0, by: -1).first { needle.isEmpty || history[$0].lowercased().contains(needle) }
    }
}
