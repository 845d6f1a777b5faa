/// Keeps an upload moving: pushes the connection's stall deadline forward as bytes arrive (at most once a second,
/// since it is checked by a sweep, not per byte), and finds an upload slower than the server's minimum rate, so a peer
/// trickling a byte now and then cannot hold a connection and a temporary file for long.
struct UploadPace {
    private var stallDeadlineSetAt = -Double.infinity
    private var windowStart = MonotonicClock.now()
    private var windowBytes: Int64 = 0

    /// Notes `count` new bytes; returns why the upload must be dropped when it is too slow.
    mutating func received(_ count: Int, of name: String, options: FileServerOptions, on connection: Connection) -> String? {
        let now = MonotonicClock.now()
        windowBytes += Int64(count)
        let elapsed = now - windowStart
        if elapsed >= options.minimumRateWindow {
            let required = Int64((Double(options.minimumRate) * elapsed).rounded(.down))
            if windowBytes < required {
                return "too slow: \(windowBytes) bytes of \(name) in \(Int(elapsed)) s, below this server's minimum of \(options.minimumRate) bytes/s"
            }
            windowStart = now
            windowBytes = 0
        }
        // At most once a second (a quarter of a shorter timeout), not per read: the deadline is a sweep's business.
        if now - stallDeadlineSetAt >= min(1, options.stallTimeout / 4) {
            stallDeadlineSetAt = now
            connection.setDeadline(after: options.stallTimeout,
                                   reason: "no data for \(formatSeconds(options.stallTimeout)) during the upload of \(name)")
        }
        return nil
    }
}
