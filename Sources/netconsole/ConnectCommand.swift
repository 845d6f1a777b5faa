import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif
import NetEngine
import NetText

struct ConnectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "connect",
        abstract: "Talk to any TCP server like nc: standard input to the socket, the socket to standard output.",
        discussion: """
        At the end of standard input the sending side is closed (a FIN, as `nc -N` does) and what the server still \
        sends is shown until it closes. --crlf ends each line with CR LF (HTTP, SMTP, Redis), --no-newline sends \
        lines without their line break. --hex shows what arrives as a hex + ASCII dump, --timestamps marks each \
        chunk with its time and size. Exit status: 0 when the connection ended in order, 1 when it could not be made, \
        was reset or failed. Example: printf 'GET / HTTP/1.0\\n\\n' | netconsole connect --crlf example.org:80
        """
    )

    @Argument(help: ArgumentHelp("Server address, HOST:PORT.", valueName: "host:port"), transform: { try parseEndpoint($0) })
    var address: Endpoint

    @Flag(name: .long, help: "End each line sent with CR LF instead of LF.")
    var crlf = false

    @Flag(name: .long, help: "Send each line without its line break.")
    var noNewline = false

    @Flag(name: .long, help: "Show what arrives as a hex + ASCII dump.")
    var hex = false

    @Flag(name: .long, help: "Mark each chunk that arrives with its time and size (on stdout, before it).")
    var timestamps = false

    @Option(name: .long, help: ArgumentHelp("How long to wait for the connection to be accepted (seconds, or 500ms, 2m). (default: 10)", valueName: "seconds"),
            transform: { try Seconds.parse($0) })
    var connectTimeout = Seconds(10)

    @OptionGroup var tlsOptions: ClientTLSOptions

    func validate() throws {
        if crlf && noNewline { throw ValidationError("--crlf and --no-newline contradict each other") }
    }

    func run() throws {
        ignoreBrokenPipeSignal()
        let tls = try tlsOptions.configuration()
        let endpoint = address
        let loop = try EventLoop()
        var outcome: String?? = nil  // nil: still running; .some(nil): clean end; .some(reason): failed
        var received = 0
        let lines = LineEndings(mode: crlf ? .crlf : noNewline ? .none : .lf)
        var input: StdinPump?
        let session = SessionHandler { event in
            switch event {
            case .opened(let connection):
                if let note = trustNote(connection.tls, endpoint: endpoint) { printError("netconsole: \(note)") }
                if isatty(2) == 1 {
                    let security = connection.tls?.protocolVersion.map { " (\($0))" } ?? ""
                    StandardStreams.writeError("connected to \(connection.peer)\(security)\n")
                }
                // Standard input is read once the connection is up, so nothing typed early is lost.
                input?.start()
            case .received(let bytes):
                show(Array(bytes), offset: received)
                received += bytes.count
            case .peerFinished:
                break
            case .closed(let error):
                outcome = .some(error?.message)
                loop.stop()
            }
        }
        let client = TCPClient(loop: loop, endpoint: address, handler: session) { reason in
            outcome = .some(reason)
            loop.stop()
        }
        client.connectTimeout = connectTimeout.value
        client.tls = tls
        input = StdinPump(loop: loop, onChunk: { chunk in
            session.send(lines.convert(chunk))
        }, onEnd: {
            session.send(lines.finish())
            session.finishSending()
        })
        _ = try SignalWatcher(loop: loop, signals: [SIGINT, SIGTERM, SIGHUP]) { _ in
            outcome = .some("interrupted")
            loop.stop()
        }
        client.start()
        loop.run()
        if case let .some(.some(reason)) = outcome { throw failure(reason) }
    }

    private func show(_ bytes: [UInt8], offset: Int) {
        var text = ""
        if timestamps || hex { text += "← \(LogTimestamp.now()) \(bytes.count) byte\(bytes.count == 1 ? "" : "s")\n" }
        if hex {
            text += HexDump.lines(bytes, startingAt: offset).joined(separator: "\n") + "\n"
            StandardStreams.writeOutput(Array(text.utf8))
        } else {
            StandardStreams.writeOutput(Array(text.utf8) + bytes)
        }
    }
}

/// How lines typed or piped in are ended on the wire: as they are (LF), CR LF, or not at all.
final class LineEndings {
    enum Mode { case lf, crlf, none }
    let mode: Mode
    private var partial: [UInt8] = []

    init(mode: Mode) {
        self.mode = mode
    }

    /// The bytes to send for `chunk`; a line not yet ended waits for the rest (not in LF mode, which passes bytes on).
    func convert(_ chunk: [UInt8]) -> [UInt8] {
        guard mode != .lf else { return chunk }
        partial += chunk
        var out: [UInt8] = []
        while let newline = partial.firstIndex(of: 0x0A) {
            var line = Array(partial[..<newline])
            if line.last == 0x0D { line.removeLast() }
            out += line + (mode == .crlf ? [0x0D, 0x0A] : [])
            partial.removeSubrange(...newline)
        }
        return out
    }

    /// What is left at the end of the input: a last line without a line break goes as it is.
    func finish() -> [UInt8] {
        defer { partial = [] }
        return partial
    }
}
