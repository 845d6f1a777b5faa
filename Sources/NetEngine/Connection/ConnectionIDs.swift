#if canImport(Glibc)
import Glibc
#endif
import CLinux

/// Connection ids unique across every server in the process, so one event stream can mix services.
enum ConnectionIDs {
    private static let lock = Lock()
    nonisolated(unsafe) private static var last = 0
    static func next() -> Int {
        lock.withLock {
            last += 1
            return last
        }
    }
}
