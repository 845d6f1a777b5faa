/// One echo exchange that never blocks its event loop: connect, send the message, read until as many bytes came
/// back as were sent, then report the reply and the round-trip time (from the first byte sent to the last byte
/// received). The console uses it so that its own echo server, on the same loop, can answer. It is a handler on the
/// one `Connection` type, connected by a `TCPClient`.
/// Create, `start()` and `cancel()` on the loop's thread; `completion` is called there exactly once.
public final class EchoSession: ConnectionHandler {
    public enum Outcome: Equatable {
        /// The echo (as many bytes as were sent), its round-trip time, and the bytes beyond the echo that had
        /// arrived with it: a server that answers with more than it got is shown, not silently cut short.
        case reply(bytes: [UInt8], roundTrip: Double, extra: [UInt8])
        case failed(String)
    }

    public let endpoint: Endpoint
    public let message: [UInt8]
    /// Seconds the whole exchange may take, connecting included.
    public let timeout: Double
    /// When set, the exchange speaks TLS (set before `start()`).
    public var tls: TLSClientConfiguration?

    private let loop: EventLoop
    private var completion: ((Outcome) -> Void)?
    private var client: TCPClient?
    private var reply: [UInt8] = []
    private var sendStartedAt = 0.0
    private var timer: EventLoop.TimerToken?

    public init(loop: EventLoop, endpoint: Endpoint, message: [UInt8], timeout: Double = 5,
                completion: @escaping (Outcome) -> Void) {
        self.loop = loop
        self.endpoint = endpoint
        self.message = message
        self.timeout = timeout
        self.completion = completion
    }

    public var isFinished: Bool { completion == nil }

    public func start() {
        guard !message.isEmpty else { return finish(.failed("nothing to send")) }
        timer = loop.schedule(after: timeout) { [weak self] in
            guard let self, !self.isFinished else { return }
            self.timer = nil
            let what = !(self.client?.isResolved ?? false) ? "no address for \(self.endpoint.host)"
                : self.client?.connection == nil ? "no connection"
                : "no complete echo (\(self.reply.count) of \(self.message.count) bytes)"
            self.finish(.failed("\(what) from \(self.endpoint) within \(formatSeconds(self.timeout))"))
        }
        let client = TCPClient(loop: loop, endpoint: endpoint, service: "echo client", handler: self) { [weak self] reason in
            self?.finish(.failed(reason))
        }
        // The exchange's own timer bounds the whole; each address may take all of it.
        client.connectTimeout = timeout
        client.tls = tls
        self.client = client
        client.start()
    }

    /// Abandons the exchange without calling `completion`.
    public func cancel() {
        completion = nil
        teardown()
    }

    // MARK: ConnectionHandler

    public func connectionStarted(_ connection: Connection) {
        guard !isFinished else { return connection.close() }
        sendStartedAt = MonotonicClock.now()
        connection.write(message)
    }

    public func connection(_ connection: Connection, received bytes: UnsafeRawBufferPointer) {
        guard !isFinished else { return }
        let wanted = message.count - reply.count
        reply.append(contentsOf: bytes.prefix(wanted))
        guard reply.count == message.count else { return }
        let roundTrip = MonotonicClock.now() - sendStartedAt
        finish(.reply(bytes: reply, roundTrip: roundTrip, extra: Array(bytes.dropFirst(wanted))))
    }

    public func connectionReachedEnd(_ connection: Connection) {
        finish(.failed("\(endpoint) closed the connection after echoing \(reply.count) of \(message.count) bytes"))
    }

    public func connectionClosed(_ connection: Connection, error: SocketError?) {
        finish(.failed(error?.message ?? "\(endpoint) closed the connection after echoing \(reply.count) of \(message.count) bytes"))
    }

    // MARK: Ending

    private func finish(_ outcome: Outcome) {
        guard let done = completion else { return }
        completion = nil
        if let timer { loop.cancel(timer) }
        timer = nil
        teardown()
        done(outcome)
    }

    private func teardown() {
        guard let client else { return }
        self.client = nil
        client.cancel()
    }
}
