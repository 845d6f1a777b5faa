import NetEngine

/// The headless servers' log: one timestamped line per event on stderr, safe to call from any loop thread. Lines of
/// one kind are rate-limited and written by `LogWriter`'s own thread, so neither a flood of refusals nor a stderr
/// nobody reads can fill the disk or stop the servers.
final class HeadlessLog {
    private let quiet: Bool
    private let includeBytes: Bool
    private let writer = LogWriter()
    /// When each open connection's upload progress was last logged: at most once a second each.
    private var progressLoggedAt: [Int: Double] = [:]
    private let progressLock = Mutex()

    init(quiet: Bool, includeBytes: Bool = false) {
        self.quiet = quiet
        self.includeBytes = includeBytes
    }

    /// Whether servers should report every read and write (costly at high rates, so off when not logged).
    var wantsBytes: Bool { !quiet && includeBytes }

    var sink: EventSink? {
        { [self] event in self.record(event) }
    }

    func record(_ event: NetEvent) {
        switch event {
        case .error, .uploadRejected, .connectionRefused, .connectionDenied, .datagramsDropped:
            write(EventLogFormatter.line(for: event), key: Self.kind(of: event))
        case .bytesReceived, .bytesSent:
            if !quiet && includeBytes { write(EventLogFormatter.line(for: event), key: Self.kind(of: event)) }
        case let .uploadProgress(id, received, size):
            if !quiet && (includeBytes || progressIsDue(id: id, finished: received == size)) {
                write(EventLogFormatter.line(for: event), key: Self.kind(of: event))
            }
        case let .connectionClosed(id, _, _, _, _):
            progressLock.withLock { _ = progressLoggedAt.removeValue(forKey: id) }
            if !quiet { write(EventLogFormatter.line(for: event), key: Self.kind(of: event)) }
        default:
            if !quiet { write(EventLogFormatter.line(for: event), key: Self.kind(of: event)) }
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
        if !quiet { write(message, key: "note") }
    }

    /// Gives the writer a moment to finish before the process exits.
    func finish() {
        writer.drain(timeout: 1)
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
        case .datagramsEchoed: return "'datagrams echoed'"
        case .datagramsDropped: return "'datagrams dropped'"
        case .bytesReceived: return "'received'"
        case .bytesSent: return "'sent'"
        case .uploadStarted: return "'upload started'"
        case .uploadProgress: return "'upload progress'"
        case .fileSaved: return "'saved'"
        case .uploadRejected: return "'upload rejected'"
        case .error: return "error"
        }
    }
}
