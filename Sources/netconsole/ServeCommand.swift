import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif
import NetEngine

struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the echo server and/or the file server headless (logs one line per event to stderr).",
        discussion: """
        With no --files, runs the echo server. --files DIR runs the file server: alone on --port, or beside the echo \
        server when --echo is given too (echo on --port, files on --files-port, default --port + 1). It takes both \
        kinds of upload on one port: a connection that starts with the framed header (`netconsole send`, see \
        docs/PROTOCOL.md) is checked against its size and SHA-256; any other connection is a raw upload whose bytes \
        until EOF become a new file (`nc -N HOST PORT < file`, the lab's file client). --raw takes every connection \
        as raw; --framed-only refuses raw ones. --secret-file F makes every upload prove it knows a shared secret \
        (netconsole send --secret-file F) and refuses raw ones. --allow/--deny CIDR decide who may connect at all, \
        for every service.
        Prints "echo server listening on HOST:PORT" and/or "files server listening on HOST:PORT" on stdout once \
        it listens (useful with --port 0).
        Ctrl-C, SIGTERM or SIGHUP stops accepting, closes clients (unfinished uploads are removed) and exits 0.
        """
    )

    @Flag(name: .long, help: "Run the echo server (the default when --files is not given).")
    var echo = false

    @Flag(name: .long, help: "Also run the echo server over UDP (RFC 862), on the same port number as the TCP one.")
    var udp = false

    @Flag(name: .long, help: "Run the echo server over UDP only, without the TCP one.")
    var udpOnly = false

    @Option(name: .long, help: ArgumentHelp("Run the file server, saving uploads into this folder (created if missing).", valueName: "dir"))
    var files: String?

    @Option(name: .long, help: ArgumentHelp("Port of the file server when --echo runs too (default: --port + 1, or 0 with --port 0).", valueName: "port"))
    var filesPort: UInt16?

    @Flag(name: .long, help: "File server in raw mode: every connection's bytes until EOF become one new file, even one that starts like a framed header.")
    var raw = false

    @Flag(name: .long, help: "File server: refuse connections that do not start with the framed header (no raw uploads).")
    var framedOnly = false

    @Option(name: .long, help: ArgumentHelp("File server: every framed upload must carry the secret held in this file's first line (netconsole send --secret-file); raw uploads are refused. Only on a loopback --host unless --tls (or --insecure).", valueName: "file"))
    var secretFile: String?

    @Flag(name: .long, help: "Allow --secret-file on a non-loopback --host without --tls, although the secret and the files then cross the network in clear text.")
    var insecure = false

    @OptionGroup var tlsOptions: ServerTLSOptions

    @Option(name: .long, help: ArgumentHelp("Largest upload accepted, e.g. 500M, 2G.", valueName: "size"))
    var maxSize = "1G"

    @Flag(name: .long, help: "Do not fsync uploads before reporting them saved (faster, less safe on power loss).")
    var noFsync = false

    @Option(name: .long, help: "Address to listen on.")
    var host = "127.0.0.1"

    @Option(name: .shortAndLong, help: "Port to listen on; 0 picks a free port and prints it.")
    var port: UInt16 = 12345

    @Option(name: .long, help: ArgumentHelp("Admit only peers in this address block, IPv4 or IPv6 (repeatable): 10.0.0.0/8, 192.168.1.7, ::1/128. Every other peer is refused at accept.", valueName: "cidr"),
            transform: { try parseCIDR($0) })
    var allow: [CIDRBlock] = []

    @Option(name: .long, help: ArgumentHelp("Refuse peers in this address block (repeatable); wins over --allow.", valueName: "cidr"),
            transform: { try parseCIDR($0) })
    var deny: [CIDRBlock] = []

    @Option(name: .long, help: "once: one client then exit; sequential: forever, one client after another; concurrent: forever, many at once.")
    var mode: ServeMode = .concurrent

    @Option(name: .long, help: "Event loops (threads) accepting from the one listening socket; concurrent mode only.")
    var threads = 1

    @Option(name: .long, help: "Connections served at once by the whole process (every thread and service); further clients get a message and are closed.")
    var maxConnections = 10_000

    @Option(name: .long, help: ArgumentHelp("Drop a connection idle for this long (seconds, or 500ms, 2m, 1h; 'off' never drops). (default: 600)", valueName: "seconds|off"),
            transform: { try OptionalSeconds.parse($0) })
    var idleTimeout = OptionalSeconds(seconds: Seconds(600))

    @Option(name: .long, help: ArgumentHelp("Drop a file client that has not sent a complete header within this long, however slowly it trickles bytes. (default: 30)", valueName: "seconds"),
            transform: { try Seconds.parse($0) })
    var headerTimeout = Seconds(30)

    @Option(name: .long, help: ArgumentHelp("Drop an upload that receives no byte for this long. (default: 60)", valueName: "seconds"),
            transform: { try Seconds.parse($0) })
    var stallTimeout = Seconds(60)

    @Option(name: .long, help: ArgumentHelp("Drop an upload slower than this many bytes per second over 30 s (0: no minimum).", valueName: "bytes"))
    var minRate: Int64 = 256

    @Option(name: .long, help: ArgumentHelp("Keep the part of an interrupted upload this long for `send` to resume it (then it is removed, and logged). (default: 24h)", valueName: "duration"),
            transform: { try Seconds.parse($0) })
    var keepPartial = Seconds(24 * 3600)

    @Flag(name: .long, help: "Raw mode: save a connection that sent nothing as an empty file (by default port probes leave no file).")
    var keepEmpty = false

    @Option(name: .long, help: ArgumentHelp("Bytes asked for by each recv (1 to 1048576; the lab used 1024). (default: 64K for echo, 1M for files)", valueName: "bytes"))
    var readSize: Int?

    @Flag(name: .long, help: "Log the payload of each connection as hex + ASCII (up to --dump-limit bytes each way per connection, then one line saying how much was not shown).")
    var dump = false

    @Option(name: .long, help: ArgumentHelp("With --dump, payload bytes shown each way per connection, e.g. 4K, 1M. (default: 4K)", valueName: "size"))
    var dumpLimit = "4K"

    @Flag(name: .long, help: "Write one JSON object per event on stdout (connections, bytes with -v, uploads, files saved, refusals, closes) instead of the text log on stderr.")
    var json = false

    @Flag(name: .long, help: "Log nothing but errors.")
    var quiet = false

    @Flag(name: [.customShort("v"), .customLong("byte-log")], help: "Also log every read and write (\"#3 received 65536 bytes\"); by default the log has connections, uploads started, progress at most once a second, files saved and closes with totals.")
    var byteLog = false

    @Flag(name: .long, help: .hidden)
    var noByteLog = false

    @Flag(name: .long, help: "Keep the last 64 KiB each way of every connection in memory (the payload rings the console's inspector shows), e.g. to measure what they cost.")
    var watchAll = false

    func validate() throws {
        if byteLog && noByteLog { throw ValidationError("--byte-log and --no-byte-log contradict each other") }
        if threads < 1 { throw ValidationError("--threads must be at least 1") }
        if threads > 1 && mode != .concurrent { throw ValidationError("--threads needs --mode concurrent") }
        if maxConnections < 1 { throw ValidationError("--max-connections must be at least 1") }
        if !(ByteCount.parse(dumpLimit).map { (1...(64 << 20)).contains($0) } ?? false) {
            throw ValidationError("--dump-limit must be a byte count from 1 to 64M, like 4K or 1M")
        }
        if minRate < 0 { throw ValidationError("--min-rate cannot be negative") }
        if keepEmpty && framedOnly { throw ValidationError("--keep-empty is for raw uploads, which --framed-only refuses") }
        if raw && framedOnly { throw ValidationError("--raw and --framed-only contradict each other") }
        if let readSize, !(1...(1 << 20)).contains(readSize) { throw ValidationError("--read-size must be from 1 to 1048576 bytes (1 MiB)") }
        if files == nil {
            if raw { throw ValidationError("--raw needs --files DIR") }
            if framedOnly { throw ValidationError("--framed-only needs --files DIR") }
            if filesPort != nil { throw ValidationError("--files-port needs --files DIR") }
            if noFsync { throw ValidationError("--no-fsync needs --files DIR") }
            if secretFile != nil { throw ValidationError("--secret-file needs --files DIR (it guards uploads)") }
        } else if filesPort != nil && !echo {
            throw ValidationError("--files-port is for running beside --echo; without --echo the file server uses --port")
        }
        if ByteCount.parse(maxSize) == nil {
            throw ValidationError("--max-size '\(maxSize)' is not a size (examples: 1048576, 64K, 500M, 2G)")
        }
        if let files, files.isEmpty { throw ValidationError("--files needs a folder") }
        if udp && udpOnly { throw ValidationError("--udp (beside TCP) and --udp-only contradict each other") }
        if udp || udpOnly {
            let flag = udp ? "--udp" : "--udp-only"
            if files != nil && !echo { throw ValidationError("\(flag) is for the echo server: with --files, add --echo") }
            if mode != .concurrent { throw ValidationError("\(flag) needs --mode concurrent: UDP has no connections to take one at a time") }
        }
        if secretFile != nil && raw { throw ValidationError("--secret-file cannot guard --raw uploads: they carry no secret") }
        if insecure && secretFile == nil { throw ValidationError("--insecure only matters with --secret-file") }
        if insecure && tlsOptions.tls { throw ValidationError("--insecure is for serving without --tls; with --tls nothing crosses in clear text") }
        if tlsOptions.tls && udpOnly { throw ValidationError("--tls is for TCP services; --udp-only runs none") }
    }

    /// The services asked for: echo alone (default), files alone, or both on two ports.
    func services(tls: TLSContext? = nil) throws -> [ServiceSpec] {
        let all = try tcpServices().map { ServiceSpec(name: $0.name, port: $0.port, makeHandler: $0.makeHandler, store: $0.store, tls: tls) }
        return udpOnly ? all.filter { $0.name != "echo" } : all
    }

    /// The UDP echo server asked for, if any: beside TCP it takes the port number the TCP echo server got.
    var udpEcho: UDPEchoSpec? {
        guard udp || udpOnly else { return nil }
        return UDPEchoSpec(port: port, besideTCPEcho: udp)
    }

    private func tcpServices() throws -> [ServiceSpec] {
        guard let files else { return [ServiceSpec(name: "echo", port: port, makeHandler: { EchoHandler() }, store: nil)] }
        var options = FileServerOptions(directory: files, maxSize: ByteCount.parse(maxSize) ?? FileServerOptions.defaultMaxSize,
                                        fsync: !noFsync, raw: raw, stallTimeout: stallTimeout.value, minimumRate: minRate,
                                        keepEmpty: keepEmpty)
        options.keepPartial = keepPartial.value
        if let secretFile {
            do { options.secret = try SharedSecret.load(fromFile: secretFile) } catch let error as SharedSecretError {
                throw failure(error.message)
            }
        }
        let store = UploadStore(options: options)
        let makeFileHandler: () -> ConnectionHandler
        if raw {
            makeFileHandler = { RawUploadHandler(store: store) }
        } else if framedOnly && options.secret == nil {
            makeFileHandler = { FileUploadHandler(store: store) }
        } else {
            // With a secret, this handler refuses raw uploads with a 401 that names the secret, not a bad header.
            makeFileHandler = { FramedOrRawUploadHandler(store: store) }
        }
        guard echo else { return [ServiceSpec(name: "files", port: port, makeHandler: makeFileHandler, store: store)] }
        let secondPort: UInt16
        if let filesPort {
            secondPort = filesPort
        } else if let next = ServerGroup.port(after: port) {
            secondPort = next
        } else {
            throw ValidationError("--port 65535 leaves no next port for the file server; give --files-port")
        }
        return [ServiceSpec(name: "echo", port: port, makeHandler: { EchoHandler() }, store: nil),
                ServiceSpec(name: "files", port: secondPort, makeHandler: makeFileHandler, store: store)]
    }

    func run() throws {
        let log = HeadlessLog(quiet: quiet, includeBytes: byteLog && !noByteLog, json: json)
        let limits = ServerLimits(maxConnections: maxConnections, idleTimeout: idleTimeout.seconds?.value, headerTimeout: headerTimeout.value)
        defer { log.finish() }
        if secretFile != nil, !tlsOptions.tls, let address = try? ServerGroup.bindAddress(host: host, port: port), !address.isLoopback {
            if !insecure {
                throw failure("--secret-file on \(address.host), not a loopback address, would send the secret and every file in "
                              + "clear text: add --tls (and send --tls on the other side), listen on 127.0.0.1 and reach it through "
                              + "an SSH tunnel, or add --insecure to accept that")
            }
            log.note("--insecure: the secret and every file cross the network in clear text; anyone on the path can read both and reuse the secret")
        }
        let tls = try tlsOptions.context(host: host) { log.note($0) }
        if tls != nil && udp { log.note("--tls covers the TCP services: the UDP echo server (--udp) answers in clear text") }
        let services = try self.services(tls: tls)
        if let files {
            // Past a file size limit (ulimit -f) a write should fail with EFBIG, refusing that upload, not kill us.
            signal(SIGXFSZ, SIG_IGN)
            do { try UploadStore.check(directory: files) } catch let error as NetError {
                throw failure("cannot use \(files) for uploads: \(error.message)")
            }
        }
        try runServers(services, host: host, mode: mode, limits: limits, threads: threads, readSize: readSize,
                       access: AccessPolicy(allow: allow, deny: deny), udpEcho: udpEcho,
                       dumpLimit: dump ? Int(ByteCount.parse(dumpLimit) ?? 4096) : 0, capturesPayload: watchAll, log: log)
    }
}

/// The UDP echo server: on `port`, or on the port number the TCP echo server got.
struct UDPEchoSpec {
    let port: UInt16
    let besideTCPEcho: Bool
}

/// One service to listen for: its name in logs, its port, and the handler each connection gets.
struct ServiceSpec {
    let name: String
    let port: UInt16
    let makeHandler: () -> ConnectionHandler
    /// The upload folder of a file service, cleaned of an earlier run's leftovers once the port is ours.
    let store: UploadStore?
    /// When set, the service speaks TLS.
    var tls: TLSContext? = nil
}

/// Runs `services` on `threads` event loops until a signal, or until every server stops by itself (`once` mode).
func runServers(_ services: [ServiceSpec], host: String, mode: ServeMode, limits: ServerLimits, threads: Int,
                readSize: Int? = nil, access: AccessPolicy = AccessPolicy(), udpEcho: UDPEchoSpec? = nil,
                dumpLimit: Int = 0, capturesPayload: Bool = false, log: HeadlessLog) throws {
    let mainLoop = try EventLoop()
    var loops = [mainLoop]
    for _ in 1..<threads { loops.append(try EventLoop()) }

    // Signals are watched before the first port opens: a SIGTERM right after "listening" must end us cleanly too.
    // SIGHUP (the terminal running us closed) ends us as cleanly as SIGTERM: unfinished uploads are removed.
    // The main loop holds the watcher for as long as it runs.
    _ = try SignalWatcher(loop: mainLoop, signals: [SIGINT, SIGTERM, SIGHUP]) { signo in
        log.note(signo == SIGINT ? "interrupted, closing" : signo == SIGHUP ? "hung up, closing" : "terminated, closing")
        for loop in loops { loop.stop() }
    }

    mainLoop.schedule(after: 1, repeating: true) { log.tick() }

    let group = ServerGroup(loops: loops, host: host, mode: mode, limits: limits, readBufferSize: readSize ?? 64 * 1024,
                            reportsBytes: log.wantsBytes, sink: log.sink)
    group.accessPolicy = access
    group.payloadDumpLimit = dumpLimit
    group.capturesPayload = capturesPayload
    group.onAllStopped = { for loop in loops { loop.stop() } }
    var announcements: [(String, SocketAddress)] = []
    for service in services {
        let readBufferSize = readSize ?? (service.store != nil ? FileServerOptions.readBufferSize : nil)
        let address = try group.start(ServerGroup.Service(name: service.name, port: service.port, readBufferSize: readBufferSize,
                                                          tls: service.tls,
                                                          makeHandler: service.makeHandler))
        announcements.append((service.name, address))
        if let store = service.store {
            let stale = store.removeStaleTemporaryFiles()
            if stale.count > 0 {
                log.note("removed \(stale.count) unfinished upload\(stale.count == 1 ? "" : "s") left in \(store.directory) by an earlier run (\(stale.bytes) bytes)")
            }
            sweepPartials(of: store, log: log)
            // Parts expire while the server runs too: checked every minute (or four times per --keep-partial).
            _ = mainLoop.schedule(after: min(60, store.partials.keepFor / 4), repeating: true) { sweepPartials(of: store, log: log) }
        }
    }

    var udpServer: UDPEchoServer?
    if let udpEcho {
        let tcpEcho = group.server(named: "echo")?.localAddress
        let port = udpEcho.besideTCPEcho ? tcpEcho?.port ?? udpEcho.port : udpEcho.port
        let server = UDPEchoServer(loop: mainLoop, sink: log.sink)
        server.accessPolicy = access
        try server.start(at: try ServerGroup.bindAddress(host: host, port: port))
        announcements.append((server.service, server.localAddress!))
        udpServer = server
    }

    if !access.admitsEveryone {
        let allowed = access.allow.map(\.description).joined(separator: ", ")
        let denied = access.deny.map(\.description).joined(separator: ", ")
        log.note(access.allow.isEmpty ? "refusing peers in \(denied) at accept"
                 : "admitting only peers in \(allowed)" + (denied.isEmpty ? "" : " but not in \(denied)"))
    }

    var workers: [pthread_t] = []
    for loop in loops.dropFirst() { workers.append(startThread { loop.run() }) }
    // Said once every loop is about to serve, so a client that reacts to the line is served at once.
    for (service, address) in announcements { log.announceListening(service: service, address: address) }
    mainLoop.run()
    for loop in loops.dropFirst() { loop.stop() }
    for worker in workers { pthread_join(worker, nil) }
    // Every loop has stopped running, so their servers can be closed from here.
    group.stopAll()
    udpServer?.stop()
}

/// Removes the kept parts of resumable uploads that are older than `--keep-partial`, with a log line for each.
private func sweepPartials(of store: UploadStore, log: HeadlessLog) {
    var now = timespec()
    clock_gettime(CLOCK_REALTIME, &now)
    for removed in store.partials.sweep(now: Double(now.tv_sec) + Double(now.tv_nsec) / 1e9) {
        log.note("removed the kept part of \(removed.name.sanitizedForDisplay) (\(removed.bytes) bytes): not resumed within \(formatSeconds(store.partials.keepFor))")
    }
}
