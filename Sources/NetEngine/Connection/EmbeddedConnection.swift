/// A `Connection` with no socket and no server under it, for testing a handler the way SwiftNIO's `EmbeddedChannel`
/// does: bytes go in with `receive`, what the handler wrote comes out of `takeWritten()`, its events are recorded,
/// deadlines pass when the test says so, and work the handler hands to other threads comes back with `runLoop`.
/// Use it from one thread.
public final class EmbeddedConnection: ConnectionOwner {
    public let loop: EventLoop
    public let service: String
    public let limits: ServerLimits
    public private(set) var events: [NetEvent] = []
    /// Set once the connection is closed: nil inside for an orderly close, else the error it failed with.
    public private(set) var closeError: SocketError??
    public private(set) var connection: Connection!

    package let sharedReadBuffer: ReadBuffer
    package let reportsBytes = false
    package let payloadDumpLimit = 0
    private let pipe = MemoryTransport()

    package var sink: EventSink? { { [weak self] event in self?.events.append(event) } }

    /// A connection with `handler`, started at once; `readBufferSize` is how much one read hands the handler.
    public init(handler: ConnectionHandler, service: String = "embedded", limits: ServerLimits = ServerLimits(),
                readBufferSize: Int = 64 * 1024) throws {
        loop = try EventLoop()
        self.service = service
        self.limits = limits
        sharedReadBuffer = ReadBuffer(byteCount: readBufferSize)
        let peer = try SocketAddress.resolve(host: "127.0.0.1", port: 40000)[0]
        connection = Connection(id: ConnectionIDs.next(), transport: pipe, peer: peer, owner: self, handler: handler)
        connection.start()
    }

    public var isClosed: Bool { connection.isClosed }
    /// Whether the transport was closed with a reset (SO_LINGER 0).
    public var wasReset: Bool { pipe.resetOnClose }
    /// The reason of the deadline set now, if any.
    public var deadlineReason: String? { connection.deadline?.reason }

    /// The peer sends `bytes`: the connection reads them as it would from a socket.
    public func receive(_ bytes: [UInt8]) {
        pipe.feed(bytes)
        deliver()
    }

    public func receive(_ text: String) {
        receive(Array(text.utf8))
    }

    /// The peer closes its side (EOF).
    public func receiveEnd() {
        pipe.end()
        deliver()
    }

    /// Everything the handler has written since the last call.
    public func takeWritten() -> [UInt8] {
        pipe.takeWritten()
    }

    public func takeWrittenText() -> String {
        String(decoding: takeWritten(), as: UTF8.self)
    }

    /// Plays a peer that reads only `bytes` more (then stops reading); `Int.max` reads everything again.
    public func setPeerReadCapacity(_ bytes: Int) {
        pipe.capacity = bytes
        if !connection.isClosed { connection.handleEvent(readable: false, writable: true, hangup: false) }
        deliver()
    }

    /// The deadline set on the connection passes now (if one is set).
    public func passDeadline() {
        connection.deadlinePassed()
    }

    /// Runs the loop (tasks other threads sent it, timers) until `condition` holds or `timeout` seconds pass.
    @discardableResult
    public func runLoop(timeout: Double = 5, until condition: () -> Bool) -> Bool {
        let end = MonotonicClock.now() + timeout
        while !condition() && MonotonicClock.now() < end {
            loop.runOnce(timeoutMilliseconds: 10)
            deliver()
        }
        return condition()
    }

    /// Hands over what is waiting while the connection wants to read.
    private func deliver() {
        var rounds = 0
        while pipe.hasInbound && !connection.isClosed && rounds < 10_000 {
            let before = connection.bytesIn
            connection.handleEvent(readable: true, writable: true, hangup: false)
            rounds += 1
            if connection.bytesIn == before { break }  // paused, or the end was seen
        }
    }

    // MARK: ConnectionOwner

    package func watchDeadlines() {}

    package func connectionDidClose(_ connection: Connection, error: SocketError?) {
        closeError = .some(error)
    }
}
