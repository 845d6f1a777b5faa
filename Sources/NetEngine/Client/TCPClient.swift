#if canImport(Glibc)
import Glibc
#endif

/// The connecting side of the one `Connection` type: resolves the endpoint off the loop, tries its addresses in turn
/// with non-blocking connects, then runs `handler` on a `Connection` over the connected socket, exactly as a server
/// runs its handlers on accepted ones. Create, `start()` and `cancel()` on the loop's thread.
public final class TCPClient: ConnectionOwner, EventHandler {
    public let loop: EventLoop
    public let endpoint: Endpoint
    public let service: String
    public let limits: ServerLimits
    /// Seconds one address has to accept the connection.
    public var connectTimeout: Double = 10
    /// The connection once it is established (nil before, and after a failure to connect).
    public private(set) var connection: Connection?
    /// When set, the connection speaks TLS: the handler starts once the handshake is done and the server's
    /// certificate is trusted.
    public var tls: TLSClientConfiguration?
    /// Whether the endpoint's name has resolved to addresses.
    public var isResolved: Bool { attempts != nil }

    package let sink: EventSink?
    package let reportsBytes: Bool
    package let payloadDumpLimit = 0
    package let sharedReadBuffer: ReadBuffer
    private let handler: ConnectionHandler
    private let onConnectFailure: (String) -> Void
    private var attempts: ConnectAttempts?
    private var connecting: Socket?
    private var connectDeadline = 0.0
    private var timer: EventLoop.TimerToken?
    private var done = false

    /// `onConnectFailure` gets why no address took the connection (the handler is then never started).
    public init(loop: EventLoop, endpoint: Endpoint, service: String = "client", limits: ServerLimits = ServerLimits(),
                readBufferSize: Int = 64 * 1024, sink: EventSink? = nil, reportsBytes: Bool = false,
                handler: ConnectionHandler, onConnectFailure: @escaping (String) -> Void) {
        self.loop = loop
        self.endpoint = endpoint
        self.service = service
        self.limits = limits
        self.sink = sink
        self.reportsBytes = reportsBytes && sink != nil
        self.handler = handler
        self.onConnectFailure = onConnectFailure
        sharedReadBuffer = ReadBuffer(byteCount: readBufferSize)
    }

    public func start() {
        guard attempts == nil, !done else { return }
        timer = loop.schedule(after: 0.05, repeating: true) { [weak self] in self?.checkDeadlines() }
        connectDeadline = MonotonicClock.now() + connectTimeout
        ConnectAttempts.resolve(endpoint, on: loop) { [weak self] result in
            guard let self, !self.done else { return }
            switch result {
            case let .success(attempts):
                self.attempts = attempts
                self.connectNext()
            case let .failure(error):
                self.fail("\(error)")
            }
        }
    }

    /// Stops connecting, or closes the connection.
    public func cancel() {
        if let connection { connection.close() } else { fail("cancelled") }
    }

    private func connectNext() {
        guard let socket = attempts?.startNext(on: loop, handler: self) else {
            return fail(attempts?.failure ?? "cannot connect to \(endpoint)")
        }
        connecting = socket
        connectDeadline = MonotonicClock.now() + connectTimeout
    }

    public func handleEvent(readable: Bool, writable: Bool, hangup: Bool) {
        guard let socket = connecting, let address = attempts?.current else { return }
        loop.unregister(socket.descriptor)
        connecting = nil
        do {
            try attempts?.finish(socket)
        } catch {
            attempts?.noteFailure("\(error)")
            socket.close()
            return connectNext()
        }
        try? socket.setNoDelay(true)
        let transport: Transport
        do { transport = try tls.map { try $0.transport(over: socket, to: endpoint) } ?? socket } catch {
            return fail("\(error)")
        }
        let connection = Connection(id: ConnectionIDs.next(), transport: transport, peer: address, owner: self, handler: handler)
        do {
            try loop.register(socket.descriptor, handler: connection)
        } catch {
            return fail("cannot watch the connection to \(address): \(error)")
        }
        self.connection = connection
        emit(.connectionOpened(id: connection.id, service: service, peer: address))
        connection.start()
    }

    private func fail(_ reason: String) {
        guard !done else { return }
        done = true
        if let connecting {
            loop.unregister(connecting.descriptor)
            connecting.close()
        }
        connecting = nil
        stopTimer()
        onConnectFailure(reason)
    }

    private func checkDeadlines() {
        if connecting != nil, MonotonicClock.now() >= connectDeadline, let socket = connecting {
            loop.unregister(socket.descriptor)
            socket.close()
            connecting = nil
            let address = attempts?.current?.description ?? "\(endpoint)"
            attempts?.noteFailure("connection to \(address) timed out after \(formatSeconds(connectTimeout))")
            return connectNext()
        }
        connection?.checkTimeouts(now: MonotonicClock.now(), idleTimeout: limits.idleTimeout)
    }

    private func stopTimer() {
        if let timer { loop.cancel(timer) }
        timer = nil
    }

    private func emit(_ event: NetEvent) { sink?(event) }

    // MARK: ConnectionOwner

    package func watchDeadlines() {}

    package func connectionDidClose(_ connection: Connection, error: SocketError?) {
        done = true
        stopTimer()
        emit(.connectionClosed(id: connection.id, peer: connection.peer, bytesIn: connection.bytesIn,
                               bytesOut: connection.bytesOut, reason: error?.message))
    }
}
