#if canImport(Glibc)
import Glibc
#endif
import NetEngine

/// The headless servers' log: one timestamped line per event on stderr, safe to call from any loop thread.
final class HeadlessLog {
    private let quiet: Bool
    private let includeBytes: Bool
    private let lock = Mutex()

    init(quiet: Bool, includeBytes: Bool = true) {
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
        case .error, .uploadRejected, .connectionRefused:
            write(EventLogFormatter.line(for: event))
        case .bytesReceived, .bytesSent, .uploadProgress:
            if !quiet && includeBytes { write(EventLogFormatter.line(for: event)) }
        default:
            if !quiet { write(EventLogFormatter.line(for: event)) }
        }
    }

    func note(_ message: String) {
        if !quiet { write(message) }
    }

    private func write(_ message: String) {
        let line = "\(Self.timestamp()) \(message)\n"
        lock.withLock { _ = fputs(line, stderr) }
    }

    private static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var parts = tm()
        var seconds = now.tv_sec
        localtime_r(&seconds, &parts)
        func two(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
        let millis = Int(now.tv_nsec / 1_000_000)
        let ms = millis < 10 ? "00\(millis)" : millis < 100 ? "0\(millis)" : "\(millis)"
        return "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)).\(ms)"
    }
}
