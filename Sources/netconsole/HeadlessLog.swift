#if canImport(Glibc)
import Glibc
#endif
import NetEngine
import NetText

/// The headless servers' log: one timestamped line per event on stderr, safe to call from any loop thread. Lines of
/// one kind are rate-limited and written by `LogWriter`'s own thread, so neither a flood of refusals nor a stderr
/// nobody reads can fill the disk or stop the servers.
final class HeadlessLog {
    private let quiet: Bool
    private let includeBytes: Bool
    /// One JSON object per event on stdout instead of text lines on stderr.
    let json: Bool
    private let writer: LogWriter
    /// When each open connection's upload progress was last logged: at most once a second each.
    private var progressLoggedAt: [Int: Double] = [:]
    private let progressLock = Lock()

    init(quiet: Bool, includeBytes: Bool = false, json: Bool = false) {
        self.quiet = quiet
        self.includeBytes = includeBytes
        self.json = json
        writer = json ? LogWriter(descriptor: STDOUT_FILENO, format: .json) : LogWriter()
    }

    /// Whether servers should report every read and write (costly at high rates, so off when not logged).
    var wantsBytes: Bool { !quiet && includeBytes }

    var sink: EventSink? {
        { [self] event in self.record(event) }
    }

    func record(_ event: NetEvent) {
        switch event {
        case .error, .uploadRejected, .connectionRefused, .connectionDenied, .datagramsDropped, .tlsHandshakeFailed:
            write(event, key: Self.kind(of: event))
        case .bytesReceived, .bytesSent:
            if !quiet && includeBytes { write(event, key: Self.kind(of: event)) }
        case .payload, .payloadNotShown:
            // Bounded per connection by the engine (--dump-limit), and per second here like every kind.
            if !quiet { write(event, key: Self.kind(of: event)) }
        case let .uploadProgress(id, received, size):
            if !quiet && (includeBytes || progressIsDue(id: id, finished: received == size)) {
                write(event, key: Self.kind(of: event))
            }
        case let .connectionClosed(id, _, _, _, _):
            progressLock.withLock { _ = progressLoggedAt.removeValue(forKey: id) }
            if !quiet { write(event, key: Self.kind(of: event)) }
        default:
            if !quiet { write(event, key: Self.kind(of: event)) }
        }
    }

    private func progressIsDue(id: Int, finished: Bool) -> Bool {
        let now = MonotonicClock.now()
        return progressLock.withLock {
            if !finished, let last = progressLoggedAt[id], now - last < 1 { return false }
            progressLoggedAt[id] = now
            return true
        }
    }

    func note(_ message: String) {
        guard !quiet else { return }
        if json {
            writer.submit(EventJSON.line(event: "note", [("message", message)]) + "\n", key: "note")
        } else {
            write(message, key: "note")
        }
    }

    /// "echo server listening on ADDRESS": a line on stdout for scripts, or a JSON `listening` object.
    func announceListening(service: String, address: SocketAddress) {
        if json {
            writer.submit(EventJSON.line(event: "listening", [("service", service), ("address", "\(address)")]) + "\n", key: "listening")
        } else {
            printNow("\(service) server listening on \(address)")
        }
    }

    /// Once a second, from a loop: see `LogWriter.tick()`.
    func tick() {
        writer.tick()
    }

    /// Gives the writer a moment to finish before the process exits.
    func finish() {
        writer.drain(timeout: 1)
    }

    private func write(_ event: NetEvent, key: String) {
        if json {
            // The group announces listening itself, once per service, when it is ready.
            if case .listening = event { return }
            writer.submit(EventJSON.line(for: event) + "\n", key: key)
        } else {
            write(EventLogFormatter.line(for: event), key: key)
        }
    }

    private func write(_ message: String, key: String) {
        writer.submit("\(LogTimestamp.now()) \(message)\n", key: key)
    }

    /// The kind of line, for rate limiting and for "N more ... lines".
    private static func kind(of event: NetEvent) -> String {
        switch event {
        case .listening, .stoppedListening: return "listening"
        case .connectionOpened: return "'connected'"
        case .connectionClosed: return "'closed'"
        case .connectionRefused: return "'refused'"
        case .connectionDenied: return "'denied'"
        case .tlsHandshakeFailed: return "'TLS handshake failed'"
        case .datagramsEchoed: return "'datagrams echoed'"
        case .datagramsDropped: return "'datagrams dropped'"
        case .bytesReceived: return "'received'"
        case .bytesSent: return "'sent'"
        case .payload, .payloadNotShown: return "payload"
        case .uploadStarted: return "'upload started'"
        case .uploadProgress: return "'upload progress'"
        case .fileSaved: return "'saved'"
        case .uploadRejected: return "'upload rejected'"
        case .treeStarted: return "'folder arriving'"
        case .treeReceived: return "'folder received'"
        case .error: return "error"
        }
    }
}
