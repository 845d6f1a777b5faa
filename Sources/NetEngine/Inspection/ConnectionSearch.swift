/// A look for one connection across the loops of a `ServerGroup`: which of the loops, looking in any order on their
/// own threads, is the last to not find it while none has.
final class ConnectionSearch: @unchecked Sendable {
    private let lock = Lock()
    private var remaining: Int
    private var found = false

    init(remaining: Int) {
        self.remaining = remaining
    }

    func markFound() {
        lock.withLock {
            found = true
            remaining -= 1
        }
    }

    /// Counts one loop that did not find it; true when it was the last to look and none found it.
    func lookedWithoutFinding() -> Bool {
        lock.withLock {
            remaining -= 1
            return remaining == 0 && !found
        }
    }
}
