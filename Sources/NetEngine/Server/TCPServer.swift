#if canImport(Glibc)
import Glibc
#endif
import CLinux

/// A listening socket on an event loop that accepts connections and gives each a fresh handler.
public final class TCPServer: EventHandler {
    public let service: String
    public let loop: EventLoop
    public let mode: ServeMode
    public let limits: ServerLimits
    public private(set) var localAddress: SocketAddress?
    /// Called once when the server stops by itself (`once` mode) or by `stop()`.
    public var onStopped: (() -> Void)?
    /// Peers it refuses are closed right after accept, before any handler or connection limit sees them.
    public var accessPolicy = AccessPolicy()
    /// When set, every connection speaks TLS with this context (the handshake comes before the handler starts).
    public var tls: TLSContext?

    package let sharedReadBuffer: ReadBuffer
    /// Whether connections emit `bytesReceived`/`bytesSent` for every read and write.
    package let reportsBytes: Bool
    /// `serve --dump`: payload bytes each way per connection reported as events (0: none).
    public var payloadDumpLimit = 0
    /// Every connection keeps the last bytes each way in payload rings from its start (`serve --watch-all`, the
    /// console), so an inspector opened later shows what came before.
    public var capturesPayload = false
    /// How many connections may keep rings at once, shared with the other servers of a group (nil: every one).
    public var captureBudget: ConnectionBudget?
    /// Connections holding a place in `captureBudget`.
    private var budgetedCaptures: Set<Int> = []
    private let makeHandler: () -> ConnectionHandler
    package let sink: EventSink?
    private var listener: Socket?
    private var connections: [Int: Connection] = [:]
    private var acceptPaused = false
    private var servedCount = 0
    private var sweepTimer: EventLoop.TimerToken?
    private let budget: ConnectionBudget

    /// `budget` shares `maxConnections` with other servers (other loops, other services); by default this server has
    /// its own.
    public init(service: String, loop: EventLoop, mode: ServeMode = .concurrent, limits: ServerLimits = ServerLimits(),
                readBufferSize: Int = 64 * 1024, reportsBytes: Bool = true, budget: ConnectionBudget? = nil, sink: EventSink?,
                makeHandler: @escaping () -> ConnectionHandler) {
        self.budget = budget ?? ConnectionBudget(limit: limits.maxConnections)
        self.service = service
        self.loop = loop
        self.mode = mode
        self.limits = limits
        self.sink = sink
        self.reportsBytes = reportsBytes && sink != nil
        self.makeHandler = makeHandler
        sharedReadBuffer = ReadBuffer(byteCount: readBufferSize)
    }

    public var isListening: Bool { listener != nil }
    public var openConnections: [Connection] { connections.values.sorted { $0.id < $1.id } }
    public var connectionCount: Int { connections.count }

    /// The open connection numbered `id`, if this server has it (on the loop's thread only).
    public func connection(id: Int) -> Connection? { connections[id] }

    @inline(__always)
    func emit(_ event: NetEvent) {
        sink?(event)
    }

    // MARK: Starting and stopping

    /// Binds and listens on `address` (port 0 picks a free port: read `localAddress`).
    public func start(at address: SocketAddress) throws {
        try start(listeningOn: try Socket.listening(on: address), address: address)
    }

    /// Accepts from the same listening socket as `first` (a server on another loop), so several loops share one port
    /// without SO_REUSEPORT, which would let another process silently join the port and take half the clients.
    public func start(sharingListenerOf first: TCPServer) throws {
        guard let listener = first.listener, let address = first.localAddress else {
            throw SocketError(code: EBADF, message: "\(service): the first server is not listening")
        }
        let copy = try retryingEINTR("dup") { duplicateCloseOnExec(listener.descriptor) }
        try start(listeningOn: Socket(adopting: copy, family: listener.family), address: address)
    }

    private func start(listeningOn socket: Socket, address: SocketAddress) throws {
        try socket.setNonBlocking(true)
        try loop.register(socket.descriptor, handler: self)
        listener = socket
        localAddress = socket.localAddress ?? address
        if limits.idleTimeout != nil { watchDeadlines() }
        emit(.listening(service: service, address: localAddress!))
    }

    /// Stops listening and closes every connection.
    public func stop() {
        guard let socket = listener else { return }
        loop.unregister(socket.descriptor)
        socket.close()
        listener = nil
        if let timer = sweepTimer { loop.cancel(timer) }
        sweepTimer = nil
        for connection in openConnections { connection.close() }
        if let address = localAddress { emit(.stoppedListening(service: service, address: address)) }
        onStopped?()
    }

    // MARK: Accepting

    public func handleEvent(readable: Bool, writable: Bool, hangup: Bool) {
        guard let socket = listener else { return }
        for _ in 0..<64 {
            if mode != .concurrent && (!connections.isEmpty || acceptPaused) { break }
            let accepted: (Socket, SocketAddress)?
            do {
                accepted = try socket.accept()
            } catch let error as SocketError {
                emit(.error("\(service): cannot accept: \(error.message); pausing accepts for 100 ms"))
                pauseAccepting(for: 0.1)
                return
            } catch { return }
            guard let (client, peer) = accepted else { return }
            if let reason = accessPolicy.refusal(for: peer) {
                // A reset, not a FIN: the peer learns at once, and a flood of refused peers leaves no TIME_WAIT here.
                try? client.setResetOnClose()
                client.close()
                emit(.connectionDenied(service: service, peer: peer, reason: reason))
                continue
            }
            admit(client, peer: peer)
        }
    }

    private func admit(_ client: Socket, peer: SocketAddress) {
        guard budget.acquire() else {
            let reason = "server busy: at its limit of \(budget.limit) connection\(budget.limit == 1 ? "" : "s")"
            _ = try? Array("ERR 503 \(reason)\n".utf8).withUnsafeBytes { try client.send($0) }
            client.close()
            emit(.connectionRefused(peer: peer, reason: reason))
            return
        }
        try? client.setNoDelay(true)
        let transport: Transport
        if let tls {
            do { transport = try TLSTransport(serverOver: client, context: tls) } catch {
                budget.release()
                emit(.error("\(service): cannot start TLS for \(peer): \(error)"))
                return
            }
        } else {
            transport = client
        }
        let connection = Connection(id: ConnectionIDs.next(), transport: transport, peer: peer, owner: self, handler: makeHandler())
        do {
            try loop.register(client.descriptor, handler: connection)
        } catch {
            budget.release()
            emit(.error("\(service): cannot watch connection from \(peer): \(error)"))
            return
        }
        connections[connection.id] = connection
        servedCount += 1
        if mode != .concurrent { updateListenerInterest() }
        if capturesPayload {
            if let captureBudget {
                if captureBudget.acquire() {
                    budgetedCaptures.insert(connection.id)
                    connection.startCapture()
                }
            } else {
                connection.startCapture()
            }
        }
        emit(.connectionOpened(id: connection.id, service: service, peer: peer))
        connection.start()
    }

    private func pauseAccepting(for seconds: Double) {
        acceptPaused = true
        updateListenerInterest()
        loop.schedule(after: seconds) { [weak self] in
            guard let self else { return }
            self.acceptPaused = false
            self.updateListenerInterest()
        }
    }

    private func updateListenerInterest() {
        guard let socket = listener else { return }
        let busy = mode != .concurrent && !connections.isEmpty
        loop.setInterest(socket.descriptor, read: !acceptPaused && !busy, write: false)
    }

    package func connectionDidClose(_ connection: Connection, error: SocketError?) {
        if connections.removeValue(forKey: connection.id) != nil { budget.release() }
        if budgetedCaptures.remove(connection.id) != nil { captureBudget?.release() }
        emit(.connectionClosed(id: connection.id, peer: connection.peer, bytesIn: connection.bytesIn,
                               bytesOut: connection.bytesOut, reason: error?.message))
        switch mode {
        case .concurrent: break
        case .sequential: updateListenerInterest()
        case .once: if servedCount > 0 { stop() }
        }
    }

    /// Starts the periodic sweep for idle connections and deadlines, if it is not running yet.
    package func watchDeadlines() {
        guard sweepTimer == nil, listener != nil else { return }
        let shortest = min(limits.idleTimeout ?? 1, limits.headerTimeout, 1)
        sweepTimer = loop.schedule(after: max(0.05, shortest / 4), repeating: true) { [weak self] in
            self?.dropOverdueConnections()
        }
    }

    private func dropOverdueConnections() {
        let now = MonotonicClock.now()
        for connection in connections.values { connection.checkTimeouts(now: now, idleTimeout: limits.idleTimeout) }
    }
}

/// A close-on-exec duplicate of `descriptor`.
private func duplicateCloseOnExec(_ descriptor: Int32) -> Int32 {
    fcntl(descriptor, F_DUPFD_CLOEXEC, 0)
}

extension TCPServer: ConnectionOwner {}
