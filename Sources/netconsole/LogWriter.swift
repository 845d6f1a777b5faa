#if canImport(Glibc)
import Glibc
#endif
import NetEngine
import NetText

/// Writes log lines to a file descriptor without ever making a loop wait for the reader. While the descriptor takes
/// lines (a terminal, a file, a pipe that is read), they are written at once by the caller. The first time it would
/// block (a pipe nobody drains), a thread of its own takes over: lines pile up in a bounded queue, and past it are
/// dropped and counted (the count is logged once there is room), instead of blocking the servers and even their
/// SIGTERM handling. The thread starts only then because any second thread makes every system call of the process
/// dearer (glibc's cancellation bookkeeping), the echo path's included.
final class LogWriter {
    static let queueLimit = 1 << 20

    private let descriptor: Int32
    private var mutex = pthread_mutex_t()
    private var condition = pthread_cond_t()
    private var queue: [String] = []
    private var queuedBytes = 0
    private var dropped = 0
    private var limiter = LogRateLimiter()
    private var writing = false
    private var threadStarted = false
    /// When held-back lines were last summed up: at most once a second, so the summaries are rate-limited too.
    private var summarizedAt = 0.0

    /// How the writer's own lines (what the rate limit held back, what a full queue dropped) are written.
    enum Format { case text, json }
    private let format: Format

    init(descriptor: Int32 = STDERR_FILENO, format: Format = .text) {
        self.descriptor = descriptor
        self.format = format
        pthread_mutex_init(&mutex, nil)
        pthread_cond_init(&condition, nil)
    }

    /// Queues `line` unless the rate limit for `key` or the queue's size says no; never blocks on output.
    func submit(_ line: String, key: String) {
        locked {
            let now = MonotonicClock.now()
            guard limiter.admit(key, now: now) else { return }
            if !threadStarted { summarizeIfDue(now: now) }
            enqueue(line)
            if !threadStarted { writeWhileWritable() }
        }
    }

    /// Writes queued lines while the descriptor can take them without blocking; starts the writer thread for the
    /// rest. Called with the lock held.
    private func writeWhileWritable() {
        while let line = queue.first {
            var ready = pollfd(fd: descriptor, events: Int16(POLLOUT), revents: 0)
            // A line of at most PIPE_BUF bytes fits whole into a pipe that polls writable.
            guard line.utf8.count <= Int(PIPE_BUF), poll(&ready, 1, 0) == 1, ready.revents & Int16(POLLOUT) != 0 else { break }
            queue.removeFirst()
            queuedBytes -= line.utf8.count
            writeAll(line)
        }
        if !queue.isEmpty {
            threadStarted = true
            pthread_detach(startThread { [self] in run() })
        }
    }

    private func summarizeIfDue(now: Double) {
        if now - summarizedAt >= 1 {
            summarizedAt = now
            noteWhatWasHeldBack()
        }
    }

    /// Called every second by a loop: sums up what the rate limit held back, and writes what waits (until the
    /// writer thread exists, which does both itself).
    func tick() {
        locked {
            guard !threadStarted else { return }
            summarizeIfDue(now: MonotonicClock.now())
            writeWhileWritable()
        }
    }

    /// Waits up to `timeout` seconds for the queue to be written (at exit; a reader that never reads cannot hold it).
    func drain(timeout: Double) {
        locked {
            if !threadStarted {
                summarizedAt = 0
                summarizeIfDue(now: MonotonicClock.now())
                writeWhileWritable()
            }
        }
        let end = MonotonicClock.now() + timeout
        while MonotonicClock.now() < end {
            if locked({ queue.isEmpty && !writing }) { return }
            usleep(5_000)
        }
    }

    private func enqueue(_ line: String) {
        guard queuedBytes + line.utf8.count <= Self.queueLimit else {
            dropped += 1
            return
        }
        queue.append(line)
        queuedBytes += line.utf8.count
        if threadStarted { pthread_cond_signal(&condition) }
    }

    private func run() {
        while true {
            let batch: [String] = locked {
                if queue.isEmpty { waitUpToOneSecond() }
                summarizeIfDue(now: MonotonicClock.now())
                let taken = queue
                queue.removeAll(keepingCapacity: true)
                queuedBytes = 0
                writing = !taken.isEmpty
                return taken
            }
            for line in batch { writeAll(line) }
            locked { writing = false }
        }
    }

    /// Summaries of what the rate limit held back and what a full queue dropped, as lines of their own.
    private func noteWhatWasHeldBack() {
        for (key, count) in limiter.takeSuppressed() {
            switch format {
            case .text: enqueue("\(LogTimestamp.now()) … \(count) more \(key) line\(count == 1 ? "" : "s") not shown (rate limit)\n")
            case .json: enqueue(EventJSON.line(event: "not_shown", [("kind", key), ("count", "\(count)"), ("why", "rate limit")]) + "\n")
            }
        }
        if dropped > 0 {
            let count = dropped
            dropped = 0
            switch format {
            case .text: enqueue("\(LogTimestamp.now()) … \(count) log line\(count == 1 ? "" : "s") dropped: the log was not being read\n")
            case .json: enqueue(EventJSON.line(event: "not_shown", [("count", "\(count)"), ("why", "the output was not being read")]) + "\n")
            }
        }
    }

    private func waitUpToOneSecond() {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var until = now
        until.tv_sec += 1
        pthread_cond_timedwait(&condition, &mutex, &until)
    }

    private func writeAll(_ line: String) {
        var bytes = Array(line.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeMutableBytes { Glibc.write(descriptor, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return }
            offset += n
        }
        bytes.removeAll()
    }

    private func locked<T>(_ body: () -> T) -> T {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return body()
    }
}

/// "14:25:02.123", local time.
enum LogTimestamp {
    static func now() -> String {
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
