#if canImport(Glibc)
import Glibc
#endif
import NetEngine

/// One connection of the echo load generator, as a handler on the engine's `Connection`: keeps `pipeline` requests
/// of `requestSize` bytes in flight, checks every echoed byte against the verification pattern, and times each
/// request. Loop thread only.
final class LoadHandler: ConnectionHandler {
    let index: Int
    private let pattern: VerificationPattern
    private let requestSize: Int
    private let pipeline: Int
    /// Owned by the generator, which outlives its connections.
    private unowned(unsafe) let tally: LoadTally
    private let onClose: (LoadHandler, SocketError?) -> Void
    @exclusivity(unchecked) private var connection: Connection?
    @exclusivity(unchecked) private var sendOffset: Int
    @exclusivity(unchecked) private var receiveOffset: Int
    /// Bytes issued and not yet echoed back.
    @exclusivity(unchecked) private var outstandingBytes = 0
    /// Bytes of the oldest outstanding request echoed so far.
    @exclusivity(unchecked) private var receivedOfCurrent = 0
    /// Bytes echoed on this connection since it started, for error messages.
    @exclusivity(unchecked) private var streamPosition: UInt64 = 0
    /// When each in-flight request was issued, oldest at `ringHead`.
    private let issuedAt: UnsafeMutablePointer<UInt64>
    @exclusivity(unchecked) private var ringHead = 0
    @exclusivity(unchecked) private var ringCount = 0
    private var reportedMismatch = false
    /// Hears that the connection is up (after its TLS handshake, if any) and requests may start.
    var onStarted: ((LoadHandler) -> Void)?
    private(set) var hasStarted = false

    /// `onClose` hears of the connection's end (nil: closed by us).
    init(index: Int, pattern: VerificationPattern, requestSize: Int, pipeline: Int, tally: LoadTally,
         onClose: @escaping (LoadHandler, SocketError?) -> Void) {
        precondition(requestSize > 0 && pipeline > 0)
        self.index = index
        self.pattern = pattern
        self.requestSize = requestSize
        self.pipeline = pipeline
        self.tally = tally
        self.onClose = onClose
        sendOffset = pattern.startOffset(forConnection: index)
        receiveOffset = sendOffset
        issuedAt = .allocate(capacity: pipeline)
    }

    deinit { issuedAt.deallocate() }

    var isOpen: Bool { connection.map { !$0.isClosed } ?? false }

    /// Issues the first `pipeline` requests.
    func startRequests() {
        guard let connection else { return }
        issue(pipeline, at: BenchClock.nanoseconds(), on: connection)
    }

    func close() { connection?.close() }

    // MARK: ConnectionHandler

    func connectionStarted(_ connection: Connection) {
        self.connection = connection
        // Requests and their echoes are in flight both ways at once: waiting for our output to drain before reading
        // would deadlock against a server that waits for us to read.
        connection.readsWhileWriting = true
        hasStarted = true
        onStarted?(self)
    }

    func connection(_ connection: Connection, received bytes: UnsafeRawBufferPointer) {
        check(bytes, on: connection)
    }

    func connectionReachedEnd(_ connection: Connection) {
        connection.fail(SocketError(code: ECONNRESET, message: tally.running
            ? "server closed the connection" : "server closed the connection before the run"))
    }

    func connectionClosed(_ connection: Connection, error: SocketError?) {
        self.connection = nil
        onClose(self, error)
    }

    // MARK: Requests

    /// Issues `count` requests at `now` (the connection is passed, not read from `self`: a stored reference costs a
    /// retain and release per request), sent in one write: the pattern windows of consecutive requests are contiguous.
    @inline(__always)
    private func issue(_ count: Int, at now: UInt64, on connection: Connection) {
        for _ in 0..<count {
            issuedAt[(ringHead + ringCount) % pipeline] = now
            ringCount += 1
        }
        var left = count * requestSize
        outstandingBytes += left
        while left > 0 {
            let chunk = min(left, pattern.maxWindow)
            connection.write(pattern.window(at: sendOffset, count: chunk))
            sendOffset = pattern.advance(sendOffset, by: chunk)
            left -= chunk
        }
    }

    private func check(_ bytes: UnsafeRawBufferPointer, on connection: Connection) {
        var count = bytes.count
        if count > outstandingBytes {
            let extra = count - outstandingBytes
            tally.mismatchedBytes += UInt64(extra)
            if !reportedMismatch {
                reportedMismatch = true
                tally.note("connection \(index): \(extra) bytes arrived that were never sent (after byte \(streamPosition + UInt64(outstandingBytes)))")
            }
            count = outstandingBytes
        }
        guard count > 0 else { return }
        let expected = pattern.window(at: receiveOffset, count: min(count, pattern.maxWindow))
        if count > pattern.maxWindow || memcmp(bytes.baseAddress!, expected.baseAddress!, count) != 0 {
            compareSlowly(bytes, count: count)
        }
        receiveOffset = pattern.advance(receiveOffset, by: count)
        streamPosition += UInt64(count)
        outstandingBytes -= count
        if tally.measuring { tally.bytesEchoed += UInt64(count) }

        receivedOfCurrent += count
        guard receivedOfCurrent >= requestSize else { return }
        let now = BenchClock.nanoseconds()
        var completed = 0
        while receivedOfCurrent >= requestSize {
            receivedOfCurrent -= requestSize
            if tally.measuring {
                tally.histogram.record(now &- issuedAt[ringHead])
                tally.completedRequests += 1
            }
            ringHead = (ringHead + 1) % pipeline
            ringCount -= 1
            completed += 1
        }
        if tally.running { issue(completed, at: now, on: connection) }
    }

    /// Counts the bytes that differ (window by window, for reads longer than one pattern window) and notes the first.
    private func compareSlowly(_ bytes: UnsafeRawBufferPointer, count: Int) {
        var wrong: UInt64 = 0
        var first: (position: Int, expected: UInt8)?
        var offset = receiveOffset
        var position = 0
        while position < count {
            let chunk = min(count - position, pattern.maxWindow)
            let expected = pattern.window(at: offset, count: chunk)
            for k in 0..<chunk where bytes[position + k] != expected[k] {
                wrong += 1
                if first == nil { first = (position + k, expected[k]) }
            }
            offset = pattern.advance(offset, by: chunk)
            position += chunk
        }
        tally.mismatchedBytes += wrong
        if let first, !reportedMismatch {
            reportedMismatch = true
            let at = streamPosition + UInt64(first.position)
            tally.note("connection \(index): echoed byte \(at) is \(hex(bytes[first.position])), expected \(hex(first.expected)) (\(wrong) of \(count) bytes in that read differ)")
        }
    }

    private func hex(_ byte: UInt8) -> String {
        let digits = String(byte, radix: 16)
        return byte < 16 ? "0x0\(digits)" : "0x\(digits)"
    }
}
