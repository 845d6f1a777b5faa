/// Moves one file's bytes onto a `Connection` without ever blocking the loop: a block is read (and hashed) only when
/// everything handed over before has left, so at most one block waits in the connection's output; a turn sends at
/// most `bytesPerTurn` so a big file leaves the loop time for everything else on it. On a plain socket the kernel
/// sends the file's pages itself (`sendfile`) and the block read only feeds the hash, which saves copying every byte
/// into the socket; anywhere else (TLS, a watched connection) the block is written. Shared by the framed and the raw
/// file client handlers.
final class PayloadPump {
    enum Step {
        /// The connection's output is full: call again from `connectionDrained`.
        case waiting
        /// This turn's share is used: call again on the next turn.
        case yielded
        /// Ahead of the rate limit: call again after this many seconds.
        case paused(Double)
        /// Every byte is handed to the connection and the file is unchanged: its SHA-256.
        case complete([UInt8])
        case failed(String)
    }

    static let blockSize = 1 << 20
    static let bytesPerTurn = 4 * 1024 * 1024

    let source: FileSource
    private let block: UnsafeMutableRawBufferPointer
    /// The part of the last block read (and hashed) that is not handed over yet: in `block`, or (`unsentInBlock`
    /// false) only in the file, hashed where it lies for the kernel to send.
    private var unsent: Range<Int> = 0..<0
    private var unsentInBlock = true
    /// Bytes handed to the connection: written, or sent from the file.
    private var handedOver: Int64 = 0
    /// Whether to try `sendfile`; off for good after the connection or the file says it cannot. A small file is
    /// cheaper copied: mapping it and sending from the page cache cost more system calls than the copy saves.
    private var direct: Bool
    static let directThreshold: Int64 = 256 * 1024
    private var throttle = ProgressThrottle()
    private var lastReported: Int64 = -1
    /// Most bytes a second (`send --limit-rate`), counted from the first byte this pump sent.
    var rateLimit: Int64?
    private var rateStart: (at: Double, sent: Int64)?
    /// A call of `next` is arranged for a `.paused` or `.yielded` step.
    private var nextCallArranged = false

    init(source: FileSource) {
        self.source = source
        direct = source.size >= Self.directThreshold
        block = .allocate(byteCount: Self.blockSize, alignment: 16)
    }

    deinit { block.deallocate() }

    /// Starts at `offset` instead of the beginning: the bytes before it are read and hashed (the trailer covers the
    /// whole file) but not sent, because the server kept them from an earlier try.
    func skip(to offset: Int64) -> Result<Void, FileSendError> {
        let result = source.skip(to: offset)
        if case .success = result { handedOver = offset }
        return result
    }

    /// Bytes the kernel has taken (handed over, less what still waits in the connection's output).
    func sent(on connection: Connection) -> Int64 {
        handedOver - Int64(connection.pendingOutputCount)
    }

    func pump(_ connection: Connection, progress: (Int64) -> Void) -> Step {
        var budget = Self.bytesPerTurn
        while budget > 0 {
            if connection.isClosed { return .waiting }
            if connection.pendingOutputCount > 0 { return .waiting }
            if let rateLimit, rateLimit > 0 {
                let now = MonotonicClock.now()
                let start = rateStart ?? (now, handedOver)
                rateStart = start
                let ahead = Double(handedOver - start.sent) / Double(rateLimit) - (now - start.at)
                if ahead > 0 { return .paused(min(ahead, 0.25)) }
            }
            if unsent.isEmpty {
                if source.isComplete {
                    report(connection, progress: progress, force: true)
                    switch source.finish() {
                    case let .success(digest): return .complete(digest)
                    case let .failure(error): return .failed(error.message)
                    }
                }
                let hashed = direct && source.directDescriptor != nil ? source.hashInPlace(count: block.count) : nil
                switch hashed ?? source.readBlock(into: block) {
                case let .failure(error): return .failed(error.message)
                case let .success(count):
                    unsent = 0..<count
                    unsentInBlock = hashed == nil
                }
            }
            if direct, let file = source.directDescriptor {
                var offset = handedOver
                switch connection.sendFile(file, offset: &offset, count: min(unsent.count, burst)) {
                case let .sent(count):
                    take(count, budget: &budget)
                    report(connection, progress: progress, force: false)
                case .full:
                    return .waiting
                case .endOfFile:
                    return .failed(source.shrankMessage())
                case .unsupported:
                    direct = false
                }
            } else {
                if !unsentInBlock {
                    let target = UnsafeMutableRawBufferPointer(rebasing: block[unsent])
                    if case let .failure(error) = source.reread(at: handedOver, into: target) { return .failed(error.message) }
                    unsentInBlock = true
                }
                let part = unsent.prefix(burst)
                connection.write(UnsafeRawBufferPointer(rebasing: block[part]))
                take(part.count, budget: &budget)
                report(connection, progress: progress, force: false)
            }
        }
        return .yielded
    }

    /// The most handed over at once: a block, or an eighth of a second's worth under a rate limit, so a slow limit
    /// sends small steps instead of a block and a long pause.
    private var burst: Int {
        guard let rateLimit, rateLimit > 0 else { return block.count }
        return Int(max(4096, min(Int64(block.count), rateLimit / 8)))
    }

    private func take(_ count: Int, budget: inout Int) {
        handedOver += Int64(count)
        unsent = unsent.lowerBound + count..<unsent.upperBound
        budget -= count
    }

    /// Arranges the next call when `step` asks for one: after the pause (`.paused`), or on the loop's next turn
    /// (`.yielded`); once, however often it is asked meanwhile. Other steps are the caller's to handle.
    func callAgain(after step: Step, on loop: EventLoop, _ next: @escaping () -> Void) {
        let delay: Double?
        switch step {
        case let .paused(seconds): delay = seconds
        case .yielded: delay = nil
        default: return
        }
        guard !nextCallArranged else { return }
        nextCallArranged = true
        let call = { [weak self] in
            self?.nextCallArranged = false
            next()
        }
        if let delay { _ = loop.schedule(after: delay, call) } else { loop.execute(call) }
    }

    /// Reports what the kernel has taken, when it is news and the throttle allows; the end once, and always.
    func report(_ connection: Connection, progress: (Int64) -> Void, force: Bool) {
        let sent = sent(on: connection)
        guard sent != lastReported else { return }
        guard throttle.shouldReport(received: sent, total: source.size) || force else { return }
        lastReported = sent
        progress(sent)
    }
}
