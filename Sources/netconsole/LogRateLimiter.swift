/// Limits how many log lines of one kind get through: a burst, then a steady rate (a token bucket per kind). What
/// it holds back is counted, so the log can say "N more like this" instead of growing without bound while a peer
/// repeats the same refused request as fast as it can.
struct LogRateLimiter {
    let burst: Double
    let perSecond: Double
    private var buckets: [String: (tokens: Double, at: Double)] = [:]
    private(set) var suppressed: [String: Int] = [:]

    init(burst: Double = 100, perSecond: Double = 20) {
        self.burst = burst
        self.perSecond = perSecond
    }

    /// Whether a line of kind `key` may be written at time `now` (seconds).
    mutating func admit(_ key: String, now: Double) -> Bool {
        var bucket = buckets[key] ?? (burst, now)
        bucket.tokens = min(burst, bucket.tokens + (now - bucket.at) * perSecond)
        bucket.at = now
        let admitted = bucket.tokens >= 1
        if admitted { bucket.tokens -= 1 } else { suppressed[key, default: 0] += 1 }
        buckets[key] = bucket
        return admitted
    }

    /// The counts held back since the last call, by kind, and forgets them.
    mutating func takeSuppressed() -> [(key: String, count: Int)] {
        defer { suppressed.removeAll() }
        return suppressed.map { (key: $0.key, count: $0.value) }.sorted { $0.key < $1.key }
    }
}
