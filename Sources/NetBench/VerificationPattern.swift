/// A cyclic stream of pseudo-random bytes that load-generator connections send from and check echoes against.
/// Each connection starts at its own offset, so bytes that come back out of order, twice, or on the wrong
/// connection do not match. The buffer repeats its first `maxWindow` bytes after the period, so any window
/// up to that size starting inside the period is contiguous memory (sends and compares need no copying).
/// A struct (no reference counting on the hot path): its owner calls `deallocate()` once nothing uses it.
struct VerificationPattern {
    /// A prime, so that no request size divides the period and consecutive requests differ.
    let period: Int
    let maxWindow: Int
    private let storage: UnsafeMutableRawBufferPointer

    init(period: Int = 1_048_573, maxWindow: Int) {
        precondition(maxWindow > 0 && maxWindow <= period)
        self.period = period
        self.maxWindow = maxWindow
        storage = .allocate(byteCount: period + maxWindow, alignment: 64)
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        for index in 0..<period {
            // xorshift64*: cheap and without short cycles.
            state ^= state >> 12
            state ^= state << 25
            state ^= state >> 27
            storage[index] = UInt8(truncatingIfNeeded: (state &* 0x2545_F491_4F6C_DD1D) >> 56)
        }
        for index in 0..<maxWindow { storage[period + index] = storage[index] }
    }

    func deallocate() { storage.deallocate() }

    /// Where connection number `index` starts in the period.
    func startOffset(forConnection index: Int) -> Int {
        (index &* 104_729) % period
    }

    /// `count` (at most `maxWindow`) bytes of the stream from `offset` (in 0..<period).
    @inline(__always)
    func window(at offset: Int, count: Int) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: storage.baseAddress! + offset, count: count)
    }

    @inline(__always)
    func advance(_ offset: Int, by count: Int) -> Int {
        let next = offset + count
        return next >= period ? next - period : next
    }
}
