#if canImport(Glibc)
import Glibc
#endif
import NetEngine

/// Where the console listens and saves.
public struct ConsoleOptions: Sendable {
    public var host: String
    /// The echo server's port; the file server takes the next one (both free ports when 0).
    public var port: UInt16
    public var saveDirectory: String
    /// Where the file picker starts.
    public var pickerDirectory: String
    /// Seconds an echo (or a datagram) waits for its reply, and a session for its connection.
    public var echoTimeout: Double
    /// Whether the console takes the mouse (clicks and the wheel); off, the terminal keeps it for selecting text.
    public var mouse: Bool
    /// HOST:PORT a session connects to at start (`--connect`).
    public var connect: String?
    /// When set, the console's servers speak TLS with this context.
    public var tls: TLSContext?
    /// When set, the client pane's TCP sessions and file sends speak TLS (the console's own certificate is trusted).
    public var tlsClient: TLSClientConfiguration?
    /// Said in the server pane at start (where the TLS certificate is, its fingerprint).
    public var startNotes: [String] = []
    /// `--ask`: every upload waits for a y or n; unanswered for `askTimeout` seconds, it is refused.
    public var ask = false
    public var askTimeout = 60.0
    /// `--udp`: a UDP echo server (RFC 862) on the echo server's port number too, its peers in the server pane.
    public var udp = false

    public init(host: String, port: UInt16, saveDirectory: String, pickerDirectory: String, echoTimeout: Double = 5,
                mouse: Bool = true, connect: String? = nil, tls: TLSContext? = nil) {
        self.mouse = mouse
        self.connect = connect
        self.tls = tls
        self.host = host
        self.port = port
        self.saveDirectory = saveDirectory
        self.pickerDirectory = pickerDirectory
        self.echoTimeout = echoTimeout
    }
}

/// The interactive console: its servers, its client sessions, the keyboard and the screen, all on one event loop
/// and one thread, so the servers keep serving while the user types.
public final class ConsoleApp {
    public static let framesPerSecond = 30.0

    private let options: ConsoleOptions
    private let loop: EventLoop
    private var state: ConsoleState
    private var udpEcho: UDPEchoServer?
    static let captureLimit = 256
    private var terminal: CursesTerminal?
    /// The echo and file servers, hosted like `serve` hosts them (one loop here).
    private lazy var servers: ServerGroup = {
        let group = ServerGroup(loops: [loop], host: options.host, sink: { [unowned self] event in self.record(event) })
        // Every connection keeps its last bytes, so the inspector shows what came before it was opened; at most
        // 256 at once (about 40 MiB of rings), so a flood of connections cannot make the console's memory grow without end.
        group.capturesPayload = true
        group.captureLimit = Self.captureLimit
        return group
    }()
    /// The inspector's snapshots and actions, and the uploads waiting for a y or n.
    private lazy var inspection = ConsoleInspection(loop: loop, servers: { [unowned self] in self.servers }, sessionConnection: { [unowned self] id in
        self.liveSessions.values.lazy.compactMap(\.connection).first { $0.id == id && !$0.isClosed }
    }) { [unowned self] change in
        change(&self.state)
        self.redrawSoon()
    }
    /// Ports the servers got the first time, so stopping and starting again keeps their addresses.
    private var ports: [String: UInt16] = [:]
    /// The client pane's sessions' connections, by session id.
    private var liveSessions: [Int: LiveSession] = [:]
    private var fileSender: FileSender?
    /// Sends the send queue's items, one at a time.
    private lazy var queueSender = QueueSender(loop: loop, tls: options.tlsClient) { [unowned self] id, event in
        self.state.queueEvent(event, id: id, clock: Self.clock(), now: MonotonicClock.now())
        // The next item starts on a clean turn, not inside the ended sender's callbacks.
        if case .finished = event { self.loop.execute { [weak self] in self?.sendNextQueued() } }
        self.redrawSoon()
    }
    /// Counts transfers, so a cancelled one's last events are not taken for the next one's.
    private var transferNumber = 0
    private var drawScheduled = false
    private var lastDrawAt = 0.0
    private var keyboard: KeyboardInput?
    private let historyFile = MessageHistoryFile.inStateFolder()
    private let echoTargetsFile = MessageHistoryFile.inStateFolder("echo-targets", limit: ConsoleApp.recentTargets)
    private let filesTargetsFile = MessageHistoryFile.inStateFolder("files-targets", limit: ConsoleApp.recentTargets)
    /// Targets kept for ↑↓ in the target fields.
    static let recentTargets = 20
    private var signals: SignalWatcher?
    /// Shared by every upload connection, so names and the folder descriptor are handled in one place.
    private lazy var uploadStore: UploadStore = {
        var fileOptions = FileServerOptions(directory: options.saveDirectory)
        if options.ask {
            fileOptions.approval = inspection.approval(timeout: options.askTimeout)
            fileOptions.approvalTimeout = options.askTimeout
        }
        return UploadStore(options: fileOptions)
    }()

    public init(options: ConsoleOptions) throws {
        self.options = options
        loop = try EventLoop()
        state = ConsoleState(saveDirectory: options.saveDirectory, pickerDirectory: options.pickerDirectory)
        state.tlsFingerprint = options.tls?.certificateFingerprint?.description
        ports[ConsoleState.echoService] = options.port
        guard let filesPort = ServerGroup.port(after: options.port) else {
            throw AddressError("--port \(options.port) leaves no next port for the console's file server; pick a lower --port, or --port 0")
        }
        ports[ConsoleState.filesService] = filesPort
    }

    /// Starts the servers, then takes over the terminal until the user quits or a signal arrives.
    /// Server start-up errors are thrown before the screen changes, so they print like any other error.
    public func run() throws {
        try CursesTerminal.checkTerminalType()
        try UploadStore.check(directory: options.saveDirectory)
        try startServers(throwing: true)
        for note in options.startNotes { state.note(note, clock: Self.clock(), style: .normal) }
        let stale = uploadStore.removeStaleTemporaryFiles()
        if stale.count > 0 {
            state.note("removed \(stale.count) unfinished upload\(stale.count == 1 ? "" : "s") left by an earlier run (\(ByteCount.format(stale.bytes)))",
                       clock: Self.clock(), style: .bad)
        }

        let terminal = try CursesTerminal(mouse: options.mouse)
        self.terminal = terminal
        // Only once the console really starts: refusing to start (no terminal, a busy port) touches no file.
        if let historyFile {
            historyFile.trim()
            state.message.loadHistory(historyFile.load())
        }
        for (file, editor) in [(echoTargetsFile, \ConsoleState.target), (filesTargetsFile, \ConsoleState.fileTarget)] {
            guard let file else { continue }
            file.trim()
            state[keyPath: editor].loadDistinctHistory(file.load())
        }
        defer {
            terminal.restore()
            stopServers()
        }
        signals = try SignalWatcher(loop: loop, signals: [SIGINT, SIGTERM, SIGHUP, SIGWINCH]) { [unowned self] signo in
            if signo == SIGWINCH {
                terminal.refreshSize()
                self.syncViewSize()
                self.redrawSoon()
            } else {
                self.loop.stop()
            }
        }
        let keyboard = KeyboardInput(terminal: terminal, onKeys: { [unowned self] keys in
            for key in keys { self.handle(key) }
            self.redrawSoon()
        }, onHangup: { [unowned self] in self.loop.stop() })
        self.keyboard = keyboard
        try loop.register(STDIN_FILENO, handler: keyboard)
        // Ages tick and closed connections fade out even when nothing happens.
        loop.schedule(after: 1, repeating: true) { [unowned self] in
            self.state.expireClosedConnections(now: MonotonicClock.now())
            self.inspection.dropSettledAsks()
            self.state.picker.reloadIfChanged()
            self.state.expireEchoes(now: MonotonicClock.now(), timeout: self.options.echoTimeout, clock: Self.clock())
            self.redrawSoon()
        }
        if let target = options.connect {
            state.target.setText(target)
            state.focus = .message
            run(state.perform(.connect(target: target), clock: Self.clock(), now: MonotonicClock.now()))
        }
        draw()
        loop.run()
        loop.unregister(STDIN_FILENO)
        let live = liveSessions
        liveSessions = [:]
        for session in live.values { session.close() }
        fileSender?.cancel()
        queueSender.cancel()
    }

    // MARK: Drawing

    /// Draws on the next frame, at most `framesPerSecond` times a second however many events arrive.
    private func redrawSoon() {
        guard !drawScheduled else { return }
        drawScheduled = true
        let wait = max(0, lastDrawAt + 1 / Self.framesPerSecond - MonotonicClock.now())
        loop.schedule(after: wait) { [unowned self] in
            self.drawScheduled = false
            self.draw()
        }
    }

    /// Tells the view state the size it is drawn at, for paging and for the too-small screen.
    private func syncViewSize() {
        guard let terminal else { return }
        let heights = ConsoleRenderer.viewHeights(cols: terminal.cols, rows: terminal.rows)
        state.logViewHeight = heights.log
        state.pickerViewHeight = heights.picker
        state.connectionViewHeight = heights.connections
        state.repliesViewHeight = heights.replies
        state.savedViewHeight = heights.saved
        state.inspectorViewHeight = InspectorRenderer.payloadHeight(rows: terminal.rows)
        state.inspectorViewWidth = terminal.cols
        state.screenTooSmall = ConsoleLayout(cols: terminal.cols, rows: terminal.rows).tooSmall
        state.screenCols = terminal.cols
        state.screenRows = terminal.rows
    }

    private func draw() {
        guard let terminal else { return }
        syncViewSize()
        lastDrawAt = MonotonicClock.now()
        terminal.draw(ConsoleRenderer.render(state, cols: terminal.cols, rows: terminal.rows, now: lastDrawAt))
    }

    // MARK: Servers

    private func record(_ event: NetEvent) {
        state.apply(event, now: MonotonicClock.now(), clock: Self.clock())
        redrawSoon()
    }

    private func startServers(throwing: Bool) throws {
        for service in [ConsoleState.echoService, ConsoleState.filesService] where state.serviceSelection.includes(service) {
            guard servers.server(named: service) == nil else { continue }
            let port = ports[service] ?? 0
            let spec: ServerGroup.Service
            if service == ConsoleState.echoService {
                // Idle echo connections are dropped after 10 minutes, like `serve`'s default.
                spec = ServerGroup.Service(name: service, port: port, limits: ServerLimits(idleTimeout: 600), tls: options.tls) { EchoHandler() }
            } else {
                let store = uploadStore
                spec = ServerGroup.Service(name: service, port: port, readBufferSize: FileServerOptions.readBufferSize,
                                           tls: options.tls) {
                    FramedOrRawUploadHandler(store: store)
                }
            }
            do {
                ports[service] = try servers.start(spec).port
                if service == ConsoleState.echoService, options.udp, let port = ports[service] { try startUDPEcho(port: port) }
            } catch let error as SocketError {
                if throwing { throw SocketError(code: error.code, message: "\(service) server: \(error.message)") }
                state.note("\(service) server cannot start: \(error.message)", clock: Self.clock(), style: .bad)
            } catch let error as NetError {
                if throwing { throw error }
                state.note("\(service) server cannot start: \(error.message)", clock: Self.clock(), style: .bad)
            }
        }
    }

    private func stopServers(except kept: ServiceSelection? = nil) {
        for service in [ConsoleState.echoService, ConsoleState.filesService] where !(kept?.includes(service) ?? false) {
            servers.stop(service)
            if service == ConsoleState.echoService {
                udpEcho?.stop()
                udpEcho = nil
            }
        }
    }

    /// The UDP echo server beside the TCP one, on the same port number; it stops and starts with it.
    private func startUDPEcho(port: UInt16) throws {
        guard udpEcho == nil else { return }
        let server = UDPEchoServer(service: ConsoleState.udpEchoService, loop: loop) { [unowned self] event in self.record(event) }
        try server.start(at: try ServerGroup.bindAddress(host: options.host, port: port))
        udpEcho = server
    }

    // MARK: Keys and actions

    private func handle(_ key: Key) {
        if key == .resize, let terminal {
            terminal.refreshSize()
        }
        syncViewSize()
        guard var action = state.handle(key) else { return }
        action = state.noteInspectorAction(action, clock: Self.clock(), now: MonotonicClock.now())
        if inspection.perform(action) { return }
        switch action {
        case .quit:
            loop.stop()
        case .repaint:
            terminal?.repaint()
        case .suspend:
            terminal?.suspend()
            syncViewSize()
        case .setListening(let on):
            if on { try? startServers(throwing: false) } else { stopServers() }
        case .selectServices(let selection):
            let wasListening = !servers.isEmpty
            stopServers(except: selection)
            if wasListening { try? startServers(throwing: false) }
        case let .sendEcho(target, message):
            if !message.isEmpty { historyFile?.append(message) }
            remember(target, in: \.target, file: echoTargetsFile)
            run(state.sendMessage(message, target: target, clock: Self.clock(), now: MonotonicClock.now()))
        case .session(let request):
            if case .connect(let target) = request { remember(target, in: \.target, file: echoTargetsFile) }
            run(state.perform(request, clock: Self.clock(), now: MonotonicClock.now()))
        case let .sendFile(target, path, rawPath):
            remember(target, in: \.fileTarget, file: filesTargetsFile)
            sendFile(path, rawPath: rawPath, to: target)
        case .cancelTransfer:
            transferNumber += 1
            state.noteTransferCancelled(clock: Self.clock(), now: MonotonicClock.now())
            fileSender?.cancel()
            fileSender = nil
        case .sendQueue(let target):
            remember(target, in: \.fileTarget, file: filesTargetsFile)
            sendNextQueued()
        case .cancelQueueItem(let id):
            if state.cancelQueued(id, clock: Self.clock(), now: MonotonicClock.now()) { queueSender.cancel() }
            sendNextQueued()
        case .cancelQueue:
            if state.cancelQueued(nil, clock: Self.clock(), now: MonotonicClock.now()) { queueSender.cancel() }
        case .inspectSession(let id):
            guard let connection = liveSessions[id]?.connection, !connection.isClosed else {
                return state.note("session #\(id) has no open connection to inspect", clock: Self.clock(), style: .bad)
            }
            state.openInspector(connectionID: connection.id, session: id)
            _ = inspection.perform(.inspect(id: connection.id))
        case .inspect, .stopInspecting, .sendToConnection, .closeConnection, .resetConnection, .saveTranscript, .answerUpload,
             .queueMarks:
            break
        }
    }

    /// Starts the next queued item unless one is being sent; one that cannot start fails and the next is tried.
    private func sendNextQueued() {
        while !queueSender.isBusy, let item = state.startNextQueued(now: MonotonicClock.now()) {
            do {
                try queueSender.send(item, onListed: { [unowned self] files, skipped in
                    state.queueFolderListed(item.id, files: files, skipped: skipped)
                    redrawSoon()
                }, onFailed: { [unowned self] reason in
                    state.queueItemFailed(item.id, reason: reason, clock: Self.clock(), now: MonotonicClock.now())
                    sendNextQueued()
                })
            } catch {
                state.queueItemFailed(item.id, reason: "\(error)", clock: Self.clock(), now: MonotonicClock.now())
            }
        }
        redrawSoon()
    }

    /// Keeps a target used for ↑↓ in its field, and in its file unless it was the last one there already.
    private func remember(_ target: String, in field: WritableKeyPath<ConsoleState, LineEditor>, file: MessageHistoryFile?) {
        let trimmed = String(String(target.drop { $0.isWhitespace }.reversed()).drop { $0.isWhitespace }.reversed())
        guard !trimmed.isEmpty else { return }
        let wasNewest = state[keyPath: field].history.last == trimmed
        state[keyPath: field].remember(trimmed)
        if !wasNewest { file?.append(trimmed) }
    }

    // MARK: Sessions

    /// Does on the network what the state decided for its sessions.
    private func run(_ commands: [SessionCommand]) {
        for command in commands {
            switch command {
            case let .connect(id, endpoint, udp):
                // The connection it replaces says nothing more: its events are not this one's.
                liveSessions.removeValue(forKey: id)?.close()
                connectSession(id, to: endpoint, udp: udp)
            case let .send(id, bytes): liveSessions[id]?.send(bytes)
            case .finishSending(let id): liveSessions[id]?.finishSending()
            case .close(let id):
                liveSessions[id]?.close()
                // A UDP socket just closes; a TCP connection reports its end when it has one.
                if state.sessionList.sessions.first(where: { $0.id == id })?.isUDP == true {
                    release(id)
                    state.sessionClosed(id, error: nil, clock: Self.clock())
                }
            }
        }
    }

    /// Forgets a session's connection that ended; it goes on the next turn, as its own call that reported the end
    /// is still running.
    private func release(_ id: Int) {
        guard let ended = liveSessions.removeValue(forKey: id) else { return }
        loop.schedule(after: 0) { withExtendedLifetime(ended) {} }
    }

    private func connectSession(_ id: Int, to endpoint: Endpoint, udp: Bool) {
        // Only the session's current connection reports; one it replaced is ignored. Weak: the closure is the
        // live session's own, and must not keep it.
        weak var current: LiveSession?
        func isCurrent() -> Bool { current != nil && liveSessions[id] === current }
        let live = LiveSession(loop: loop, endpoint: endpoint, udp: udp, connectTimeout: options.echoTimeout,
                               tls: options.tlsClient) { [unowned self] event in
            guard isCurrent() else { return }
            let clock = Self.clock(), now = MonotonicClock.now()
            switch event {
            case let .opened(peer, local): self.state.sessionOpened(id, peer: peer, localAddress: local, clock: clock, now: now)
            case .received(let bytes): self.state.sessionReceived(id, bytes, clock: clock, now: now)
            case let .datagram(bytes, truncated): self.state.sessionReceivedDatagram(id, bytes, truncated: truncated, clock: clock, now: now)
            case .peerFinished: self.state.sessionPeerFinished(id, clock: clock)
            case .closed(let error):
                self.release(id)
                self.state.sessionClosed(id, error: error, clock: clock)
            case .failed(let reason):
                self.release(id)
                self.state.sessionConnectFailed(id, reason: reason, clock: clock)
            case .problem(let reason): self.state.sessionProblem(id, reason, clock: clock)
            }
            self.redrawSoon()
        }
        current = live
        liveSessions[id] = live
        live.start()
    }

    private func sendFile(_ path: String, rawPath: [UInt8]?, to target: String) {
        if state.isTransferring {
            state.noteEchoFailed("a file is already being sent; Ctrl-X cancels it", clock: Self.clock())
            return
        }
        let endpoint: Endpoint
        do { endpoint = try Endpoint(parsing: target) } catch {
            state.noteEchoFailed("\(error)", clock: Self.clock())
            return
        }
        let name = path.split(separator: "/").last.map(String.init) ?? path
        var rawFile: RawNamedFile?
        if let rawPath {
            do { rawFile = try RawNamedFile.open(rawPath, shown: path) } catch {
                state.noteEchoFailed(error.message, clock: Self.clock())
                return
            }
        }
        state.beginTransfer(name: name, now: MonotonicClock.now())
        transferNumber += 1
        let number = transferNumber
        let sender = FileSender(loop: loop, endpoint: endpoint, files: [rawFile?.path ?? path]) { [unowned self] event in
            if case .finished = event { rawFile?.close() }
            guard number == self.transferNumber else { return }
            self.state.apply(event, clock: Self.clock(), now: MonotonicClock.now())
            if case .finished = event { self.fileSender = nil }
            self.redrawSoon()
        }
        if let rawFile { sender.names = [rawFile.name] }
        sender.tls = options.tlsClient
        // A send cut short (the connection dropped, the console quit) goes on where it stopped the next time.
        sender.resumes = true
        fileSender = sender
        sender.start()
    }

    /// Local wall-clock time, "HH:MM:SS".
    static func clock() -> String {
        var now = time(nil)
        var parts = tm()
        localtime_r(&now, &parts)
        return "\(ConsoleState.pad2(Int(parts.tm_hour))):\(ConsoleState.pad2(Int(parts.tm_min))):\(ConsoleState.pad2(Int(parts.tm_sec)))"
    }
}
