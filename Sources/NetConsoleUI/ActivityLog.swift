/// A bounded list of timestamped lines with a scroll position counted from the newest line.
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

    public init(capacity: Int = 1000) {
        self.capacity = max(1, capacity)
    }

    /// Adds a line. The text must already be safe to display. A scrolled-back view stays on the lines it shows.
    public mutating func append(_ text: String, time: String, style: CellStyle = .normal, detail: String? = nil) {
        lines.append(Line(time: time, text: text, style: style, detail: detail))
        if scrollOffset > 0 { scrollOffset += 1 }
        if lines.count > capacity { lines.removeFirst(lines.count - capacity) }
        scrollOffset = min(scrollOffset, maxOffset(height: 1))
    }

    /// The lines a view `height` rows tall shows, oldest first.
    public func visibleLines(height: Int) -> ArraySlice<Line> {
        guard height > 0, !lines.isEmpty else { return [] }
        let offset = min(scrollOffset, maxOffset(height: height))
        let end = lines.count - offset
        return lines[max(0, end - height)..<end]
    }

    /// Scrolls towards older lines (positive) or newer ones (negative), within a view `height` rows tall.
    public mutating func scroll(by delta: Int, height: Int) {
        scrollOffset = min(max(0, scrollOffset + delta), maxOffset(height: height))
    }

    public mutating func scrollToNewest() { scrollOffset = 0 }
    public mutating func scrollToOldest(height: Int) { scrollOffset = maxOffset(height: height) }

    public var isFollowing: Bool { scrollOffset == 0 }

    public mutating func clear() {
        lines.removeAll()
        scrollOffset = 0
    }

    private func maxOffset(height: Int) -> Int { max(0, lines.count - max(1, height)) }
}
