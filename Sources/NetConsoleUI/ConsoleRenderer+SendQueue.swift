import NetEngine

/// The send queue at the bottom of the picker: one row per item, its name and its status.
extension ConsoleRenderer {
    /// Rows the queue takes in a picker area `height` rows high: at most half the list, at least one; once nothing
    /// waits or is sent, the latest two results at most, so finished rows do not crowd out the files.
    static func queueRows(_ state: ConsoleState, height: Int) -> Int {
        let items = state.sendQueue.items.count
        guard items > 0 else { return 0 }
        let half = max(1, (height - 1) / 2)
        let busy = state.sendQueue.items.contains { !$0.status.isDone }
        return max(0, min(items, busy ? half : min(half, Self.finishedRowsShown)))
    }

    static let finishedRowsShown = 2

    /// The first item of a window of `height` rows: the one being sent on top with what waits after it, finished
    /// items above it only where room is left (the queued items were hidden behind older results).
    static func queueFirst(_ queue: SendQueue, height: Int) -> Int {
        let count = queue.items.count
        guard let active = queue.items.firstIndex(where: { !$0.status.isDone }) else { return max(0, count - height) }
        return max(0, min(active, count - height))
    }

    static func drawQueue(_ queue: SendQueue, rows: Int, row: Int, col: Int, width: Int, now: Double, _ grid: inout ScreenGrid) {
        guard rows > 0, width > 4 else { return }
        let first = queueFirst(queue, height: rows)
        for (offset, item) in queue.items[first..<min(queue.items.count, first + rows)].enumerated() {
            let style: CellStyle
            let mark: String
            switch item.status {
            case .queued: (style, mark) = (.muted, "·")
            case .sending: (style, mark) = (.accent, "→")
            case .saved: (style, mark) = (.good, "✓")
            case .incomplete, .refused, .failed, .cancelled: (style, mark) = (.bad, "✗")
            }
            let status = SendQueue.statusText(item, now: now)
            // The status keeps its room; the name gives way, cut in the middle so its end (the extension) shows.
            let statusWidth = min(status.displayWidth, max(0, width - 14))
            let nameWidth = max(1, width - statusWidth - 4)
            let name = item.name + (item.mark.isFolder ? "/" : "")
            let used = grid.write(" \(mark) " + name.truncatedInMiddle(toWidth: nameWidth - 1).fitted(toWidth: nameWidth - 1), row: row + offset,
                                  col: col, width: width, style: style)
            grid.write(" " + status.truncated(toWidth: statusWidth), row: row + offset, col: col + used, width: width - used, style: style)
        }
    }
}
