/// The last bytes of one direction of a connection, with where each read or write began and when: at most
/// `capacity` bytes and `maxChunks` chunks, whichever runs out first (a peer sending one byte at a time cannot make
/// the bookkeeping outgrow the bytes). Storage starts empty and doubles up to those limits as bytes arrive, so a
/// quiet connection costs little; once full, the oldest bytes are overwritten in place.
public struct PayloadRing {
    public static let defaultCapacity = 64 * 1024
    public static let defaultMaxChunks = 1024

    public let capacity: Int
    public let maxChunks: Int
    public let received: Bool
    /// Bytes ever appended: the stream offset just past the newest byte.
    public private(set) var total = 0

    private var storage: [UInt8] = []
    /// Stream offset and time of each chunk still (at least partly) held, oldest first from `chunkHead`.
    private var chunkOffsets: [Int] = []
    private var chunkTimes: [Double] = []
    private var chunkHead = 0
    private var chunkCount = 0
    /// Stream offset of the oldest byte held.
    private var firstOffset = 0

    /// `startingAt` is the stream offset of the first byte it will see (bytes that crossed before it was made).
    public init(received: Bool, capacity: Int = PayloadRing.defaultCapacity, maxChunks: Int = PayloadRing.defaultMaxChunks,
                startingAt offset: Int = 0) {
        precondition(capacity > 0 && maxChunks > 0)
        self.received = received
        self.capacity = capacity
        self.maxChunks = maxChunks
        total = offset
        firstOffset = offset
    }

    /// Bytes held now (at most `capacity`).
    public var count: Int { total - firstOffset }

    /// Bytes of memory the ring has allocated for its bytes and chunks.
    public var allocatedBytes: Int {
        storage.capacity + chunkOffsets.capacity * MemoryLayout<Int>.stride + chunkTimes.capacity * MemoryLayout<Double>.stride
    }

    public mutating func append(_ bytes: UnsafeRawBufferPointer, time: Double) {
        guard !bytes.isEmpty else { return }
        // Only the newest `capacity` bytes can be kept.
        let kept = bytes.count > capacity ? UnsafeRawBufferPointer(rebasing: bytes.suffix(capacity)) : bytes
        growStorage(toHold: min(capacity, count + kept.count))
        total += bytes.count
        let size = storage.count
        var at = (total - kept.count) % size
        storage.withUnsafeMutableBytes { ring in
            var source = kept
            while !source.isEmpty {
                let run = min(source.count, size - at)
                ring.baseAddress!.advanced(by: at).copyMemory(from: source.baseAddress!, byteCount: run)
                source = UnsafeRawBufferPointer(rebasing: source[run...])
                at = (at + run) % size
            }
        }
        firstOffset = max(firstOffset, total - capacity)
        addChunk(offset: total - kept.count, time: time)
        dropChunksBefore(firstOffset)
    }

    /// The chunks held, oldest first; the oldest may start part way (its `offset` is where the bytes held begin).
    public func chunks() -> [PayloadChunk] {
        var result: [PayloadChunk] = []
        result.reserveCapacity(chunkCount)
        for index in 0..<chunkCount {
            let slot = (chunkHead + index) % chunkOffsets.count
            let from = max(chunkOffsets[slot], firstOffset)
            let to = index + 1 < chunkCount ? chunkOffsets[(slot + 1) % chunkOffsets.count] : total
            guard to > from else { continue }
            result.append(PayloadChunk(received: received, offset: from, time: chunkTimes[slot], bytes: bytes(from: from, to: to)))
        }
        return result
    }

    private func bytes(from: Int, to: Int) -> [UInt8] {
        let size = storage.count
        return [UInt8](unsafeUninitializedCapacity: to - from) { out, initialized in
            var offset = from
            while offset < to {
                let at = offset % size
                let run = min(to - offset, size - at)
                storage.withUnsafeBufferPointer { ring in
                    _ = UnsafeMutableBufferPointer(rebasing: out[(offset - from)...]).initialize(from: ring[at..<(at + run)])
                }
                offset += run
            }
            initialized = to - from
        }
    }

    /// Grows the byte storage (doubling, at most `capacity`) so it holds `needed` bytes, keeping stream offset `o` at
    /// index `o % storage.count`.
    private mutating func growStorage(toHold needed: Int) {
        guard needed > storage.count else { return }
        var size = max(storage.count, 256)
        while size < needed { size *= 2 }
        size = min(size, capacity)
        let held = bytes(from: firstOffset, to: firstOffset + count)
        var grown = [UInt8](repeating: 0, count: size)
        grown.withUnsafeMutableBytes { ring in
            held.withUnsafeBytes { source in
                // At most two runs: up to the end of the new storage, then from its start.
                let at = firstOffset % size
                let first = min(source.count, size - at)
                if first > 0 { ring.baseAddress!.advanced(by: at).copyMemory(from: source.baseAddress!, byteCount: first) }
                if source.count > first {
                    ring.baseAddress!.copyMemory(from: source.baseAddress!.advanced(by: first), byteCount: source.count - first)
                }
            }
        }
        storage = grown
    }

    private mutating func addChunk(offset: Int, time: Double) {
        if chunkCount == maxChunks {
            // The oldest chunk goes, and its bytes with it.
            chunkHead = (chunkHead + 1) % chunkOffsets.count
            chunkCount -= 1
            firstOffset = max(firstOffset, chunkOffsets[chunkHead])
        }
        if chunkCount == chunkOffsets.count {
            // Full: grow, oldest first at index 0.
            let size = min(maxChunks, max(16, chunkOffsets.count * 2))
            var offsets = [Int](repeating: 0, count: size)
            var times = [Double](repeating: 0, count: size)
            for index in 0..<chunkCount {
                offsets[index] = chunkOffsets[(chunkHead + index) % chunkOffsets.count]
                times[index] = chunkTimes[(chunkHead + index) % chunkTimes.count]
            }
            chunkOffsets = offsets
            chunkTimes = times
            chunkHead = 0
        }
        let slot = (chunkHead + chunkCount) % chunkOffsets.count
        chunkOffsets[slot] = offset
        chunkTimes[slot] = time
        chunkCount += 1
    }

    /// Forgets chunks whose bytes have all been overwritten.
    private mutating func dropChunksBefore(_ offset: Int) {
        while chunkCount > 1 {
            let next = chunkOffsets[(chunkHead + 1) % chunkOffsets.count]
            guard next <= offset else { break }
            chunkHead = (chunkHead + 1) % chunkOffsets.count
            chunkCount -= 1
        }
    }
}
