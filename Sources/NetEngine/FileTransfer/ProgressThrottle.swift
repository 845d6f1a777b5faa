#if canImport(Glibc)
import Glibc
#endif

/// Decides when a transfer is worth a progress report: at most every 100 ms, and at the end.
struct ProgressThrottle {
    private var lastReport = 0.0

    mutating func shouldReport(received: Int64, total: Int64?) -> Bool {
        let now = MonotonicClock.now()
        if received == total || now - lastReport >= 0.1 {
            lastReport = now
            return true
        }
        return false
    }
}
