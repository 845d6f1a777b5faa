/// Latencies in nanoseconds, counted in log-linear buckets (64 per power of two, so about 1.6 % resolution)
/// to read percentiles from without keeping every sample.
package struct LatencyHistogram {
    private static let subBucketBits = 6
    private static let subBucketCount = 1 << subBucketBits
    private var counts: [UInt64]
    package private(set) var totalCount: UInt64 = 0
    package private(set) var maximum: UInt64 = 0

    package init() {
        counts = [UInt64](repeating: 0, count: (64 - Self.subBucketBits + 1) * Self.subBucketCount)
    }

    @inline(__always)
    static func bucket(for value: UInt64) -> Int {
        if value < UInt64(2 * subBucketCount) { return Int(value) }
        let highestBit = 63 - value.leadingZeroBitCount
        let shift = highestBit - subBucketBits
        return shift * subBucketCount + Int(value >> UInt64(shift))
    }

    /// The middle of the range of values that land in `bucket`.
    static func representativeValue(of bucket: Int) -> UInt64 {
        if bucket < 2 * subBucketCount { return UInt64(bucket) }
        let shift = bucket / subBucketCount - 1
        let top = UInt64(bucket % subBucketCount + subBucketCount)
        return (top << UInt64(shift)) + (UInt64(1) << UInt64(shift)) / 2
    }

    @inline(__always)
    package mutating func record(_ nanoseconds: UInt64) {
        counts[Self.bucket(for: nanoseconds)] &+= 1
        totalCount &+= 1
        if nanoseconds > maximum { maximum = nanoseconds }
    }

    package mutating func reset() {
        for index in counts.indices { counts[index] = 0 }
        totalCount = 0
        maximum = 0
    }

    /// The value below which `fraction` (0...1) of the samples fall; 0 when there are none.
    package func percentile(_ fraction: Double) -> UInt64 {
        guard totalCount > 0 else { return 0 }
        let wanted = max(1, UInt64((Double(totalCount) * fraction).rounded(.up)))
        var seen: UInt64 = 0
        for (bucket, count) in counts.enumerated() where count > 0 {
            seen += count
            if seen >= wanted { return min(Self.representativeValue(of: bucket), maximum) }
        }
        return maximum
    }
}
