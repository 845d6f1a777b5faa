#if canImport(Glibc)
import Glibc
#endif

/// Sends files to a file server without ever blocking its event loop. Framed: one connection, with a
/// `FileClientHandler` running the protocol's client machine (header, `READY`, the bytes hashed as they are read,
/// trailer, `OK`/`ERR`, the next file). Raw: each file on a connection of its own with a `RawFileSendHandler` (the
/// bytes, then a half-close, like `nc -N`). This type only checks the files, connects, and reports the end.
/// Create, `start()` and `cancel()` on the loop's thread.
public final class FileSender {
    public let endpoint: Endpoint
    public let files: [String]
    public let raw: Bool
    /// Seconds to wait for a connection to be accepted.
    public var connectTimeout: Double = 10
    /// Seconds without a reply or progress after which the server is considered gone.
    public var replyTimeout: Double = 60
    /// Seconds a framed peer has to answer its first header: a netconsole file server answers at once, so silence
    /// means a raw server (netcat, socat, the lab's), which would otherwise save the header as a file after a minute.
    public var firstAnswerTimeout: Double = 2
    /// The shared secret every framed header carries (a version 2 header), for a server started with `--secret-file`.
    public var secret: SharedSecret?
    /// Names the headers give the files, by index, in place of their paths' last components: for a file opened
    /// through a path that does not carry its name (/proc/self/fd/N for a name that is not UTF-8).
    public var names: [String]?
    /// Files on their own go as resumable uploads (header version 4): after an interrupted attempt the server
    /// answers with the offset it has, and only the rest is sent. Needs a server that speaks version 4.
    public var resumes = false
    /// Most payload bytes a second (nil: as fast as the server takes them).
    public var rateLimit: Int64?
    /// When set, every connection speaks TLS: nothing is sent before the handshake is done and the server trusted.
    public var tls: TLSClientConfiguration?
    /// The TLS layer of the current connection, if it speaks TLS.
    public var tlsTransport: TLSTransport? { client?.connection?.transport as? TLSTransport }

    public static let blockSize = PayloadPump.blockSize
    /// The most a zero-size file is read into memory to send it.
    public static let snapshotLimit = FileSource.snapshotLimit

    private let loop: EventLoop
    private let onEvent: (FileSendEvent) -> Void
    private var started = false
    private var done = false
    private var allConfirmed = true
    private var client: TCPClient?
    private var framed: FileClientHandler?
    private var rawFile: RawFileSendHandler?
    private var resolveTimer: EventLoop.TimerToken?
    /// A running session keeps itself (and so its client and connection) alive until it has ended, like a socket
    /// registered with the loop would: callers may start it and let go.
    private var running: FileSender?

    /// The items when they are more than files on their own (folder trees, from `FolderWalk`).
    private let items: [SendItem]?

    public init(loop: EventLoop, endpoint: Endpoint, files: [String], raw: Bool = false,
                onEvent: @escaping (FileSendEvent) -> Void) {
        self.loop = loop
        self.endpoint = endpoint
        self.files = files
        self.raw = raw
        self.onEvent = onEvent
        items = nil
    }

    /// Sends `items` (files and folder trees, see `FolderWalk`) on one framed connection; event indexes are
    /// indexes into `items`, and `files` are their paths.
    public init(loop: EventLoop, endpoint: Endpoint, items: [SendItem], onEvent: @escaping (FileSendEvent) -> Void) {
        self.loop = loop
        self.endpoint = endpoint
        files = items.map(\.path)
        raw = false
        self.onEvent = onEvent
        self.items = items
    }

    /// Whether the session has ended (finished, failed or cancelled).
    public var isFinished: Bool { done }

    /// The last component of `path` as the kernel sees it: split on the `/` byte, never on `Character`s (a `/`
    /// followed by a combining mark is one `Character`).
    package static func baseName(_ path: String) -> String {
        let bytes = Array(path.utf8)
        guard let last = bytes.split(separator: UInt8(ascii: "/")).last else { return path }
        return String(decoding: last, as: UTF8.self)
    }

    // MARK: Starting and ending

    /// Checks every file, then connects. A file that cannot be sent ends the session before any connection.
    public func start() {
        guard !started, !done else { return }
        started = true
        running = self
        if files.isEmpty { return end(failure: "no files to send") }
        for (index, path) in files.enumerated() where items?[index].isFile ?? true {
            do { _ = try FileSource.inspect(path, rawPath: items?[index].localPath) } catch { return end(failure: "\(error)") }
        }
        if raw { return sendRaw(0) }
        sendFramed(from: 0)
    }

    /// Sends `files[first...]` on one framed connection. Event indexes stay indexes into `files`.
    private func sendFramed(from first: Int) {
        let indices = Array(files.indices[first...])
        let names = indices.map { index in
            items?[index].wireName ?? self.names.flatMap { $0.indices.contains(index) ? $0[index] : nil } ?? Self.baseName(files[index])
        }
        var settings = FileClientMachine.Settings(replyTimeout: replyTimeout, firstAnswerTimeout: firstAnswerTimeout, secret: secret)
        settings.suggestsTLS = tls == nil
        let entries = items.map { items in indices.map { items[$0].entry } }
            ?? (resumes ? Array(repeating: .resumableFile, count: indices.count) : nil)
        let handler = FileClientHandler(files: indices.map { files[$0] }, rawPaths: items.map { items in indices.map { items[$0].localPath } },
                                    names: names, entries: entries, settings: settings, onEvent: { [unowned self] event in
            self.report(event.shifted(by: first))
        }, onEnd: { [unowned self] failure, allConfirmed in
            self.allConfirmed = self.allConfirmed && allConfirmed
            // A file of this side failed (it shrank, changed or could not be read): the session had to end, but files
            // on their own after it are still sent, on a new connection. Not in a tree, whose entries belong together.
            // (`framed` is this handler: the closure does not hold it, which would be a cycle.)
            if let failure, let failed = self.framed?.failedFile.map({ $0 + first }), items == nil, failed + 1 < files.count, !done {
                self.report(.fileRefused(index: failed, reason: failure))
                self.loop.execute { [weak self] in self?.sendFramed(from: failed + 1) }
                return
            }
            self.end(failure: failure)
        })
        handler.rateLimit = rateLimit
        framed = handler
        connect(handler)
    }

    /// Stops at once: closes the connection and the file, reports `failed("cancelled")` and `finished`.
    public func cancel() {
        guard !done else { return }
        if let framed, client?.connection != nil { return framed.cancel() }
        if let rawFile, client?.connection != nil { return rawFile.cancel() }
        end(failure: "cancelled")
    }

    private func report(_ event: FileSendEvent) {
        guard !done else { return }
        if case .fileRefused = event { allConfirmed = false }
        onEvent(event)
    }

    private func end(failure: String?) {
        guard !done else { return }
        done = true
        if let resolveTimer { loop.cancel(resolveTimer) }
        resolveTimer = nil
        if let client, client.connection == nil { client.cancel() }
        // Let go on the next turn, not inside the callbacks that are still on the stack.
        loop.execute { [self] in running = nil }
        if let failure {
            allConfirmed = false
            onEvent(.failed(failure))
        }
        onEvent(.finished(allConfirmed: allConfirmed))
    }

    // MARK: Connecting

    /// The one place a connection is made: a client on this loop with `handler` on the connection.
    private func connect(_ handler: ConnectionHandler) {
        let client = TCPClient(loop: loop, endpoint: endpoint, service: "file client", handler: handler) { [weak self] reason in
            self?.end(failure: reason)
        }
        client.connectTimeout = connectTimeout
        client.tls = tls
        self.client = client
        if resolveTimer == nil {
            // Connect attempts have their own timeout; a name that never resolves does not.
            resolveTimer = loop.schedule(after: connectTimeout) { [weak self] in
                guard let self else { return }
                self.resolveTimer = nil
                if self.client?.isResolved == false {
                    self.end(failure: "no address for \(self.endpoint.host) within \(formatSeconds(self.connectTimeout))")
                }
            }
        }
        client.start()
    }

    private func sendRaw(_ index: Int) {
        guard !done else { return }
        guard index < files.count else { return end(failure: nil) }
        let handler = RawFileSendHandler(index: index, path: files[index], replyTimeout: replyTimeout, onEvent: { [unowned self] event in
            self.report(event)
        }, onEnd: { [unowned self] outcome in
            switch outcome {
            case .done:
                // Not from inside the closing connection's callbacks: the next connection starts on a clean turn.
                self.loop.execute { [weak self] in self?.sendRaw(index + 1) }
            case let .failed(message):
                self.end(failure: message)
            }
        })
        handler.rateLimit = rateLimit
        rawFile = handler
        connect(handler)
    }
}
