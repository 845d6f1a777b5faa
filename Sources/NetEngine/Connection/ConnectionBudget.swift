/// How many connections may be open at once across every server that shares it (all loops and services of one
/// process), so `--max-connections` means the same with one thread or many.
public final class ConnectionBudget: @unchecked Sendable {
    public let limit: Int
    private let lock = Lock()
    private var used = 0

    public init(limit: Int) {
        self.limit = limit
    }

    /// Takes one place; false when all are taken.
    func acquire() -> Bool {
        lock.withLock {
            guard used < limit else { return false }
            used += 1
            return true
        }
    }

    func release() {
        lock.withLock { used = max(0, used - 1) }
    }
}
