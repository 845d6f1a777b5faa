/// The servers of one process: each service on its port, on one or more loops that accept from one listening socket,
/// one connection budget for all of them, and one rule for where a second service listens. `serve` and the console
/// both host through it, so they bind, share and number ports the same way.
public final class ServerGroup {
    /// One thing to listen for: its name in events and logs, its port, the limits of its connections (nil: the
    /// group's), and the handler each connection gets.
    public struct Service {
        public let name: String
        public let port: UInt16
        public let limits: ServerLimits?
        /// Bytes each recv asks for (nil: the group's).
        public let readBufferSize: Int?
        public let makeHandler: () -> ConnectionHandler
        /// When set, the service speaks TLS with this context.
        public let tls: TLSContext?

        public init(name: String, port: UInt16, limits: ServerLimits? = nil, readBufferSize: Int? = nil, tls: TLSContext? = nil,
                    makeHandler: @escaping () -> ConnectionHandler) {
            self.name = name
            self.port = port
            self.limits = limits
            self.tls = tls
            self.readBufferSize = readBufferSize
            self.makeHandler = makeHandler
        }
    }

    public let loops: [EventLoop]
    public let host: String
    public let mode: ServeMode
    public let limits: ServerLimits
    /// Payload bytes each way per connection reported as `payload` events by services started after it is set.
    public var payloadDumpLimit = 0
    /// Every connection of services started after it is set keeps payload rings for the inspector.
    public var capturesPayload = false
    /// With `capturesPayload`, how many connections across the group keep rings at once (each ring pair holds at
    /// most about 160 KiB): later ones keep none while that many are open, so memory stays bounded however many
    /// connections arrive. Set before the first service starts.
    public var captureLimit = Int.max
    private lazy var captureBudget = ConnectionBudget(limit: captureLimit)
    /// Who may connect to every service started after it is set (`--allow`/`--deny`).
    public var accessPolicy = AccessPolicy()
    /// Called on the first loop's thread when every server has stopped by itself (`once` mode).
    public var onAllStopped: (() -> Void)?

    private let readBufferSize: Int
    private let reportsBytes: Bool
    private let sink: EventSink?
    private let budget: ConnectionBudget
    private var servers: [String: [TCPServer]] = [:]
    private var running = 0

    public init(loops: [EventLoop], host: String, mode: ServeMode = .concurrent, limits: ServerLimits = ServerLimits(),
                readBufferSize: Int = 64 * 1024, reportsBytes: Bool = true, sink: EventSink?) {
        precondition(!loops.isEmpty, "a server group needs a loop")
        self.loops = loops
        self.host = host
        self.mode = mode
        self.limits = limits
        self.readBufferSize = readBufferSize
        self.reportsBytes = reportsBytes
        self.sink = sink
        budget = ConnectionBudget(limit: limits.maxConnections)
    }

    /// Where a second service listens when the first asked for `port`: the next port, or a free one (0) when the
    /// first picks a free one too; nil when there is no next port.
    public static func port(after port: UInt16) -> UInt16? {
        if port == 0 { return 0 }
        return port == UInt16.max ? nil : port + 1
    }

    /// The address to listen on for `host` and `port` (the first the resolver gives).
    public static func bindAddress(host: String, port: UInt16) throws -> SocketAddress {
        guard let address = try SocketAddress.resolve(host: host, port: port, passive: true).first else {
            throw AddressError("cannot resolve host '\(host)'")
        }
        return address
    }

    /// Starts `service` on every loop (the first binds, the others share its socket) and returns the address it
    /// listens on. A service that is already running is left as it is.
    @discardableResult
    public func start(_ service: Service) throws -> SocketAddress {
        if let running = servers[service.name]?.first, let address = running.localAddress { return address }
        let address = try Self.bindAddress(host: host, port: service.port)
        var started: [TCPServer] = []
        do {
            for loop in loops {
                let server = TCPServer(service: service.name, loop: loop, mode: mode, limits: service.limits ?? limits,
                                       readBufferSize: service.readBufferSize ?? readBufferSize, reportsBytes: reportsBytes, budget: budget, sink: sink,
                                       makeHandler: service.makeHandler)
                server.accessPolicy = accessPolicy
                server.tls = service.tls
                server.payloadDumpLimit = payloadDumpLimit
                server.capturesPayload = capturesPayload
                server.captureBudget = captureBudget
                if let first = started.first {
                    try server.start(sharingListenerOf: first)
                } else {
                    try server.start(at: address)
                }
                started.append(server)
            }
        } catch {
            for server in started { server.stop() }
            throw error
        }
        for server in started {
            server.onStopped = { [weak self] in self?.serverStoppedByItself() }
        }
        servers[service.name] = started
        running += started.count
        return started[0].localAddress ?? address
    }

    /// Stops the service called `name` on every loop and closes its connections.
    public func stop(_ name: String) {
        guard let stopping = servers.removeValue(forKey: name) else { return }
        running -= stopping.count
        for server in stopping {
            server.onStopped = nil
            server.stop()
        }
    }

    public func stopAll() {
        for name in Array(servers.keys) { stop(name) }
    }

    /// The service's server on the first loop (its address, its open connections), if it runs.
    public func server(named name: String) -> TCPServer? {
        servers[name]?.first
    }

    public var isEmpty: Bool { servers.isEmpty }

    /// Runs `work` on the loop that holds connection `id` (nil when no server has it open), and `then` with its result
    /// on `replyLoop`: how another thread (the console's) acts on a connection and gets values back.
    public func withConnection<Result>(id: Int, replyOn replyLoop: EventLoop, _ work: @escaping (Connection?) -> Result,
                                       then: @escaping (Result) -> Void) {
        let all = servers.values.flatMap { $0 }
        let search = ConnectionSearch(remaining: all.count)
        guard !all.isEmpty else {
            replyLoop.execute { then(work(nil)) }
            return
        }
        for server in all {
            server.loop.execute {
                if let found = server.connection(id: id) {
                    search.markFound()
                    let result = work(found)
                    replyLoop.execute { then(result) }
                } else if search.lookedWithoutFinding() {
                    // Connection numbers are unique, so the last server to look without finding answers for all.
                    let result = work(nil)
                    replyLoop.execute { then(result) }
                }
            }
        }
    }

    private func serverStoppedByItself() {
        loops[0].execute { [weak self] in
            guard let self else { return }
            running -= 1
            if running == 0 { onAllStopped?() }
        }
    }
}
