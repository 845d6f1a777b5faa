/// Moves one file's bytes onto a `Connection` without ever blocking the loop: a block is read (and hashed) only when
/// everything written before has left, so at most one block waits in the connection's output; a turn sends at most
/// `bytesPerTurn` so a big file leaves the loop time for everything else on it. Shared by the framed and the raw
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

    static let blockSize = 256 * 1024
    static let bytesPerTurn = 4 * 1024 * 1024

    let source: FileSource
    private let block: UnsafeMutableRawBufferPointer
    private var throttle = ProgressThrottle()
    private var lastReported: Int64 = -1
    /// Most bytes a second (`send --limit-rate`), counted from the first byte this pump sent.
    var rateLimit: Int64?
    private var rateStart: (at: Double, read: Int64)?
    /// A call of `next` is arranged for a `.paused` or `.yielded` step.
    private var nextCallArranged = false

    init(source: FileSource) {
        self.source = source
        block = .allocate(byteCount: Self.blockSize, alignment: 16)
    }

    deinit { block.deallocate() }

    /// Bytes the kernel has taken (read, less what still waits in the connection's output).
    func sent(on connection: Connection) -> Int64 {
        source.read - Int64(connection.pendingOutputCount)
    }

    func pump(_ connection: Connection, progress: (Int64) -> Void) -> Step {
        var budget = Self.bytesPerTurn
        while budget > 0 {
            if connection.isClosed { return .waiting }
            if connection.pendingOutputCount > 0 { return .waiting }
            if let rateLimit, rateLimit > 0 {
                let now = MonotonicClock.now()
                let start = rateStart ?? (now, source.read)
                rateStart = start
                let ahead = Double(source.read - start.read) / Double(rateLimit) - (now - start.at)
                if ahead > 0 { return .paused(min(ahead, 0.25)) }
            }
            if source.isComplete {
                report(connection, progress: progress, force: true)
                switch source.finish() {
                case let .success(digest): return .complete(digest)
                case let .failure(error): return .failed(error.message)
                }
            }
            switch source.readBlock(into: block) {
            case let .failure(error):
                return .failed(error.message)
            case let .success(count):
                connection.write(UnsafeRawBufferPointer(rebasing: block[0..<count]))
                budget -= count
                report(connection, progress: progress, force: false)
            }
        }
        return .yielded
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
