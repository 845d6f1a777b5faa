/// Bytes per second over the last few seconds, from counts recorded as they happen. Recent, not the average
/// since the start, so a stalled transfer or an idle connection drops to 0 within `window` seconds.
public struct RateMeter: Equatable, Sendable {
    /// Seconds the rate looks back.
    public static let window = 3.0

    private struct Bucket: Equatable, Sendable {
        var second: Int
        var bytes: Int
    }

    /// Whole seconds with what arrived in each, newest last; none older than the window.
    private var buckets: [Bucket] = []
    /// When counting started, so the first seconds are not averaged over time before it.
    private var startedAt: Double?

    public init() {}

    public mutating func record(_ bytes: Int, at now: Double) {
        if startedAt == nil { startedAt = now }
        let second = Int(now.rounded(.down))
        if let last = buckets.last, last.second == second {
            buckets[buckets.count - 1].bytes += bytes
        } else {
            buckets.append(Bucket(second: second, bytes: bytes))
        }
        let oldest = second - Int(Self.window)
        if let first = buckets.first, first.second <= oldest { buckets.removeAll { $0.second <= oldest } }
    }

    /// Bytes per second over the window ending at `now` (this second so far and the whole ones before it); nil
    /// until counting has gone on for a moment.
    public func bytesPerSecond(now: Double) -> Double? {
        guard let startedAt else { return nil }
        let first = Int(now.rounded(.down)) - Int(Self.window) + 1
        let span = now - max(startedAt, Double(first))
        guard span >= 0.25 else { return nil }
        let bytes = buckets.filter { $0.second >= first }.reduce(0) { $0 + $1.bytes }
        return Double(bytes) / span
    }
}
