/// A bounded list of timestamped lines with a scroll position counted from the newest line, and a selected
/// line once the user walks it.
public struct ActivityLog: Equatable, Sendable {
    public struct Line: Equatable, Sendable {
        public var time: String
        public var text: String
        public var style: CellStyle
        /// Shown right-aligned in a column of its own (an echo's round-trip time), so cutting the text never hides it.
        public var detail: String?
    }

    public let capacity: Int
    public private(set) var lines: [Line] = []
    /// Lines hidden below the view; 0 follows the newest line.
    public private(set) var scrollOffset = 0
    /// Index into `lines` of the selected line; nil until the user moves, and again after End.
    public private(set) var selected: Int?
    /// Lines ever appended: a line's number stays valid while older lines are dropped.
    public private(set) var appendedTotal = 0

    public init(capacity: Int = 1000) {
        self.capacity = max(1, capacity)
    }

    /// Adds a line. The text must already be safe to display. A scrolled-back view stays on the lines it shows.
    public mutating func append(_ text: String, time: String, style: CellStyle = .normal, detail: String? = nil) {
        lines.append(Line(time: time, text: text, style: style, detail: detail))
        appendedTotal += 1
        if scrollOffset > 0 { scrollOffset += 1 }
        if lines.count > capacity {
            let dropped = lines.count - capacity
            lines.removeFirst(dropped)
            selected = selected.map { max(0, $0 - dropped) }
        }
        scrollOffset = min(scrollOffset, maxOffset(height: 1))
    }

    /// The number `append` gave the newest line, for `setDetail`.
    public var newestLineNumber: Int { appendedTotal - 1 }

    /// Changes the detail of line `number` (from `newestLineNumber`), if it is still kept.
    public mutating func setDetail(_ detail: String?, ofLine number: Int) {
        let index = number - (appendedTotal - lines.count)
        if lines.indices.contains(index) { lines[index].detail = detail }
    }

    /// The lines a view `height` rows tall shows, oldest first.
    public func visibleLines(height: Int) -> ArraySlice<Line> {
        guard height > 0, !lines.isEmpty else { return [] }
        let offset = min(scrollOffset, maxOffset(height: height))
        let end = lines.count - offset
        return lines[max(0, end - height)..<end]
    }

    /// The index in `lines` of the first line a view `height` rows tall shows.
    public func firstVisibleIndex(height: Int) -> Int {
        max(0, lines.count - min(scrollOffset, maxOffset(height: height)) - max(0, height))
    }

    /// Scrolls towards older lines (positive) or newer ones (negative), within a view `height` rows tall.
    public mutating func scroll(by delta: Int, height: Int) {
        scrollOffset = min(max(0, scrollOffset + delta), maxOffset(height: height))
    }

    public mutating func scrollToNewest() {
        scrollOffset = 0
        selected = nil
    }

    public mutating func scrollToOldest(height: Int) { scrollOffset = maxOffset(height: height) }

    /// Moves the selection `delta` lines (negative is older), starting from the newest line, and scrolls to keep it
    /// in a view `height` rows tall.
    public mutating func moveSelection(by delta: Int, height: Int) {
        guard !lines.isEmpty else { return }
        let from = selected ?? (lines.count - 1 - min(scrollOffset, maxOffset(height: height)))
        select(min(max(0, from + delta), lines.count - 1), height: height)
    }

    public mutating func select(_ index: Int, height: Int) {
        guard lines.indices.contains(index) else { return }
        selected = index
        let view = max(1, height)
        let end = lines.count - scrollOffset
        if index >= end { scrollOffset = lines.count - 1 - index }
        if index < end - view { scrollOffset = lines.count - index - view }
        scrollOffset = min(max(0, scrollOffset), maxOffset(height: height))
    }

    /// The selected line, or the newest one shown.
    public func currentLine(height: Int) -> Line? {
        if let selected, lines.indices.contains(selected) { return lines[selected] }
        return visibleLines(height: height).last
    }

    /// "12/303": where the selection (or the newest line shown) is.
    public func position(height: Int) -> String {
        guard !lines.isEmpty else { return "0/0" }
        let index = selected ?? (lines.count - 1 - min(scrollOffset, maxOffset(height: height)))
        return "\(index + 1)/\(lines.count)"
    }

    public var isFollowing: Bool { scrollOffset == 0 }

    public mutating func clear() {
        lines.removeAll()
        scrollOffset = 0
        selected = nil
    }

    private func maxOffset(height: Int) -> Int { max(0, lines.count - max(1, height)) }
}
