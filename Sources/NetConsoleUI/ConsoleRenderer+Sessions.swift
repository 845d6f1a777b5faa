/// The client pane's sessions on screen: the list in the pane's title bar, the shown one's state above its transcript.
extension ConsoleRenderer {
    /// Room the client title leaves for the session list, which starts one column after " CLIENT ".
    static let clientTitleUsed = " CLIENT ".displayWidth + 1

    /// "[1● 127.0.0.1:12345]  2✗ localhost:8000": every session that fits in `width` columns, the shown one in
    /// brackets and always among them.
    static func sessionTabs(_ state: ConsoleState, width: Int) -> String { sessionTabLayout(state, width: width).text }

    /// The session list's text and where each session in it is (its index, first column, width), for a click.
    static func sessionTabLayout(_ state: ConsoleState, width: Int) -> (text: String, spans: [(index: Int, start: Int, width: Int)]) {
        let sessions = state.sessionList.sessions
        guard !sessions.isEmpty else { return ("", []) }
        let shown = state.sessionList.selectedIndex ?? 0
        let tabs = sessions.enumerated().map { index, session in
            let tab = "\(session.id)\(session.statusMark) \(session.target.sanitizedForDisplay)"
            return index == shown ? "[\(tab)]" : " \(tab) "
        }
        // From the shown one, take neighbours on both sides while they fit.
        var first = shown, last = shown
        var used = tabs[shown].displayWidth
        while true {
            let grown = used
            if last + 1 < tabs.count, used + tabs[last + 1].displayWidth + 1 <= width - 4 {
                last += 1
                used += tabs[last].displayWidth + 1
            }
            if first > 0, used + tabs[first - 1].displayWidth + 1 <= width - 4 {
                first -= 1
                used += tabs[first].displayWidth + 1
            }
            if used == grown { break }
        }
        let before = first > 0 ? "+\(first) " : ""
        let after = last < tabs.count - 1 ? " +\(tabs.count - 1 - last)" : ""
        var spans: [(index: Int, start: Int, width: Int)] = []
        var column = before.displayWidth
        for index in first...last {
            spans.append((index, column, tabs[index].displayWidth))
            column += tabs[index].displayWidth + 1
        }
        return (before + tabs[first...last].joined(separator: " ") + after, spans)
    }

    /// " · #2 open · CRLF · hex · 12 dropped" for the Replies title.
    static func sessionSummary(_ state: ConsoleState) -> String {
        var parts: [String] = []
        if let session = state.selectedSession { parts.append("#\(session.id) \(session.statusText)") }
        if state.selectedSession != nil || state.sendingLineEnding != .lf || state.sendingHex {
            parts.append(state.sendingLineEnding.rawValue)
        }
        if state.sendingHex { parts.append("hex") }
        if state.droppedTranscriptLines > 0 { parts.append("\(state.droppedTranscriptLines) earlier lines dropped") }
        return parts.isEmpty ? "" : " · " + parts.joined(separator: " · ")
    }
}
