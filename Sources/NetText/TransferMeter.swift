import NetEngine

/// Rate and time left for one transfer, from progress samples, plus the text a progress display shows.
/// Shared by the `send` command's progress bar and the console.
public struct TransferMeter {
    public let total: Int64
    public let startedAt: Double
    public private(set) var done: Int64 = 0
    private var samples: [(time: Double, bytes: Int64)] = []
    /// Seconds of history the rate is measured over: long enough to be steady, short enough to follow changes.
    private let window = 3.0

    public init(total: Int64, startedAt: Double = MonotonicClock.now()) {
        self.total = total
        self.startedAt = startedAt
        samples = [(startedAt, 0)]
    }

    public mutating func update(done bytes: Int64, at now: Double = MonotonicClock.now()) {
        done = bytes
        samples.append((now, bytes))
        while samples.count > 2, let first = samples.first, now - first.time > window { samples.removeFirst() }
    }

    /// Bytes per second over the recent window (0 before any time has passed).
    public var bytesPerSecond: Double {
        guard let first = samples.first, let last = samples.last, last.time > first.time else { return 0 }
        return Double(last.bytes - first.bytes) / (last.time - first.time)
    }

    /// Seconds left at the current rate; nil while the rate is unknown.
    public var secondsLeft: Double? {
        if done >= total { return 0 }
        let rate = bytesPerSecond
        guard rate > 0 else { return nil }
        return Double(total - done) / rate
    }

    public var fraction: Double {
        total == 0 ? 1 : min(1, Double(done) / Double(total))
    }

    /// "[#########.........]" with `width` cells between the brackets.
    public func bar(width: Int) -> String {
        let filled = Int((fraction * Double(width)).rounded(.down))
        return "[" + String(repeating: "#", count: filled) + String(repeating: ".", count: max(0, width - filled)) + "]"
    }

    /// "12.0 MiB of 50.0 MiB (24%), 30.1 MiB/s, ETA 0:02".
    public var summary: String {
        let percent = Int((fraction * 100).rounded(.down))
        let eta = secondsLeft.map(Self.formatDuration) ?? "--:--"
        return "\(ByteCount.format(done)) of \(ByteCount.format(total)) (\(percent)%), \(Self.formatRate(bytesPerSecond)), ETA \(eta)"
    }

    /// "512 B/s", "30.1 MiB/s".
    public static func formatRate(_ bytesPerSecond: Double) -> String {
        ByteCount.format(Int64(max(0, bytesPerSecond).rounded())) + "/s"
    }

    /// "0:07", "12:34", "1:02:03".
    public static func formatDuration(_ seconds: Double) -> String {
        let total = Int(max(0, seconds).rounded(.up))
        let (hours, minutes, secs) = (total / 3600, total / 60 % 60, total % 60)
        let two = { (value: Int) in value < 10 ? "0\(value)" : "\(value)" }
        return hours > 0 ? "\(hours):\(two(minutes)):\(two(secs))" : "\(minutes):\(two(secs))"
    }
}
