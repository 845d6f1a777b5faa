import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif
import NetEngine

struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the echo server headless (logs one line per event to stderr).",
        discussion: """
        Prints "echo server listening on HOST:PORT" on stdout once it listens (useful with --port 0).
        Ctrl-C or SIGTERM stops accepting, closes clients and exits 0.
        """
    )

    @Flag(name: .long, help: "Run the echo server (the default).")
    var echo = false

    @Option(name: .long, help: "Address to listen on.")
    var host = "127.0.0.1"

    @Option(name: .shortAndLong, help: "Port to listen on; 0 picks a free port and prints it.")
    var port: UInt16 = 12345

    @Option(name: .long, help: "once: one client then exit; sequential: forever, one client after another; concurrent: forever, many at once.")
    var mode: ServeMode = .concurrent

    @Option(name: .long, help: "Event loops (threads), each with its own SO_REUSEPORT listener; concurrent mode only.")
    var threads = 1

    @Option(name: .long, help: "Connections served at once; further clients get a message and are closed.")
    var maxConnections = 10_000

    @Option(name: .long, help: "Drop a connection idle for this many seconds (default: never).")
    var idleTimeout: Double?

    @Flag(name: .long, help: "Log nothing but errors.")
    var quiet = false

    @Flag(name: .long, help: "Leave out the per-read and per-write byte lines from the log.")
    var noByteLog = false

    func validate() throws {
        if threads < 1 { throw ValidationError("--threads must be at least 1") }
        if threads > 1 && mode != .concurrent { throw ValidationError("--threads needs --mode concurrent") }
        if maxConnections < 1 { throw ValidationError("--max-connections must be at least 1") }
        if let idleTimeout, idleTimeout <= 0 { throw ValidationError("--idle-timeout must be positive") }
    }

    func run() throws {
        let log = HeadlessLog(quiet: quiet, includeBytes: !noByteLog)
        let limits = ServerLimits(maxConnections: maxConnections, idleTimeout: idleTimeout)
        let services = [ServiceSpec(name: "echo", port: port, makeHandler: { EchoHandler() })]
        do {
            try runServers(services, host: host, mode: mode, limits: limits, threads: threads, log: log)
        } catch let error as SocketError {
            throw failure(error.message)
        }
    }
}

/// One service to listen for: its name in logs, its port, and the handler each connection gets.
struct ServiceSpec {
    let name: String
    let port: UInt16
    let makeHandler: () -> ConnectionHandler
}

/// Runs `services` on `threads` event loops until a signal, or until every server stops by itself (`once` mode).
func runServers(_ services: [ServiceSpec], host: String, mode: ServeMode, limits: ServerLimits, threads: Int, log: HeadlessLog) throws {
    let mainLoop = try EventLoop()
    var loops = [mainLoop]
    for _ in 1..<threads { loops.append(try EventLoop()) }

    var servers: [TCPServer] = []
    var running = 0  // touched on the main loop only
    let serverStopped = {
        mainLoop.execute {
            running -= 1
            if running == 0 { for loop in loops { loop.stop() } }
        }
    }
    for service in services {
        var address = try bindAddress(host: host, port: service.port)
        for (index, loop) in loops.enumerated() {
            let server = TCPServer(service: service.name, loop: loop, mode: mode, limits: limits,
                                   reportsBytes: log.wantsBytes, sink: log.sink, makeHandler: service.makeHandler)
            try server.start(at: address, reusePort: threads > 1)
            if index == 0 {
                // With port 0 the other loops must join the port the first one got.
                address = server.localAddress ?? address
                printNow("\(service.name) server listening on \(address)")
            }
            server.onStopped = serverStopped
            servers.append(server)
            running += 1
        }
    }

    let signals = try SignalWatcher(loop: mainLoop, signals: [SIGINT, SIGTERM]) { signo in
        log.note(signo == SIGINT ? "interrupted, closing" : "terminated, closing")
        for loop in loops { loop.stop() }
    }
    _ = signals

    var workers: [pthread_t] = []
    for loop in loops.dropFirst() { workers.append(startThread { loop.run() }) }
    mainLoop.run()
    for loop in loops.dropFirst() { loop.stop() }
    for worker in workers { pthread_join(worker, nil) }
    // Every loop has stopped running, so their servers can be closed from here.
    for server in servers {
        server.onStopped = nil
        server.stop()
    }
}

/// Starts a detached-joinable pthread running `body`.
func startThread(_ body: @escaping () -> Void) -> pthread_t {
    final class Box { let body: () -> Void; init(_ body: @escaping () -> Void) { self.body = body } }
    let box = Unmanaged.passRetained(Box(body)).toOpaque()
    var thread = pthread_t()
    pthread_create(&thread, nil, { raw in
        let box = Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue()
        box.body()
        return nil
    }, box)
    return thread
}
