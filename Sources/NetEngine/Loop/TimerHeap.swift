/// The loop's timers as a binary min-heap on their deadlines: scheduling and taking the next due timer cost
/// O(log n), and the loop's wait timeout is the top's deadline, where a list filtered on every turn cost O(n) each
/// turn. Cancelled timers are dropped lazily when they reach the top.
struct TimerHeap {
    struct Entry {
        let id: Int
        var deadline: Double
        let interval: Double?
        let action: () -> Void
    }

    private var entries: [Entry] = []
    private var cancelled: Set<Int> = []

    var isEmpty: Bool { entries.count == cancelled.count }

    mutating func insert(_ entry: Entry) {
        entries.append(entry)
        siftUp(entries.count - 1)
    }

    mutating func cancel(id: Int) {
        if entries.contains(where: { $0.id == id }) { cancelled.insert(id) }
    }

    /// The earliest deadline of a timer that will still run.
    mutating func nextDeadline() -> Double? {
        dropCancelledTop()
        // The deadline alone: copying the entry would retain and release its action on every turn of the loop.
        return entries.isEmpty ? nil : entries[0].deadline
    }

    /// Removes and returns every timer due at `now`, earliest first; repeating ones are put back for their next turn.
    mutating func takeDue(at now: Double) -> [Entry] {
        var due: [Entry] = []
        while true {
            dropCancelledTop()
            guard !entries.isEmpty, entries[0].deadline <= now else { break }
            due.append(entries[0])
            removeTop()
        }
        for var timer in due {
            if let interval = timer.interval {
                timer.deadline = max(now, timer.deadline + interval)
                insert(timer)
            }
        }
        return due
    }

    private mutating func dropCancelledTop() {
        guard !cancelled.isEmpty else { return }
        while let top = entries.first, cancelled.contains(top.id) {
            cancelled.remove(top.id)
            removeTop()
        }
    }

    private mutating func removeTop() {
        let last = entries.removeLast()
        guard !entries.isEmpty else { return }
        entries[0] = last
        siftDown(0)
    }

    private mutating func siftUp(_ start: Int) {
        var child = start
        while child > 0 {
            let parent = (child - 1) / 2
            guard entries[child].deadline < entries[parent].deadline else { return }
            entries.swapAt(child, parent)
            child = parent
        }
    }

    private mutating func siftDown(_ start: Int) {
        var parent = start
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var smallest = parent
            if left < entries.count && entries[left].deadline < entries[smallest].deadline { smallest = left }
            if right < entries.count && entries[right].deadline < entries[smallest].deadline { smallest = right }
            guard smallest != parent else { return }
            entries.swapAt(parent, smallest)
            parent = smallest
        }
    }
}
