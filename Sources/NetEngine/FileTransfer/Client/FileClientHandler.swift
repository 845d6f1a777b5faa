/// The framed file client as a handler on the one `Connection`: it runs a `FileClientMachine` and does what it says
/// (opens files, writes headers and trailers, pumps payload blocks as the output drains, sets deadlines), reporting
/// on `onEvent`, and `onEnd` once with the failure (if any) and whether every file was confirmed.
/// Use on the connection's loop thread.
public final class FileClientHandler: ConnectionHandler {
    private var machine: FileClientMachine
    private let names: [String]
    private let rawPaths: [[UInt8]]?
    private let onEvent: (FileSendEvent) -> Void
    private let onEnd: (String?, Bool) -> Void
    private weak var connection: Connection?
    private var pump: PayloadPump?
    /// The entry whose file `pump` reads (answers to earlier, pipelined entries arrive while it is sent).
    private var pumpIndex = -1
    private var streaming = false
    private var ended = false

    /// Most payload bytes a second (nil: as fast as the peer takes them).
    public var rateLimit: Int64?

    /// `names[i]` is what the header calls `files[i]`; `entries` says what each is (default: plain files).
    /// `rawPaths[i]`, when given, are the bytes that open `files[i]` (a name that is not UTF-8; `files[i]` is then only
    /// how messages show it).
    public init(files: [String], rawPaths: [[UInt8]]? = nil, names: [String], entries: [FileClientMachine.Entry]? = nil,
                settings: FileClientMachine.Settings,
                onEvent: @escaping (FileSendEvent) -> Void, onEnd: @escaping (_ failure: String?, _ allConfirmed: Bool) -> Void) {
        precondition(names.count == files.count, "one name per file")
        precondition(rawPaths == nil || rawPaths?.count == files.count, "one raw path per file")
        self.rawPaths = rawPaths
        machine = FileClientMachine(files: files, entries: entries, settings: settings)
        self.names = names
        self.onEvent = onEvent
        self.onEnd = onEnd
    }

    public var isFinished: Bool { ended }

    /// The file whose own failure ended the session (it shrank, changed or could not be read), if one did.
    public private(set) var failedFile: Int?

    /// Stops at once: the connection is closed, `onEnd("cancelled", false)`; nothing else is reported.
    public func cancel() {
        feed(.cancel)
    }

    // MARK: Running the machine

    private func feed(_ input: FileClientMachine.Input) {
        for action in machine.handle(input) {
            if ended { return }
            perform(action)
        }
    }

    private func perform(_ action: FileClientMachine.Action) {
        switch action {
        case let .openFile(index):
            open(index)
        case let .send(bytes):
            connection?.write(bytes)
        case .streamPayload:
            streaming = true
            continueSending()
        case let .resumePayload(index, offset):
            guard let pump else { return }
            // The trailer covers the whole file: the part the server has is read and hashed here too.
            if case let .failure(error) = pump.skip(to: offset) { return failLocally(error.message) }
            onEvent(.resumed(index: index, offset: offset, size: pump.source.size))
            streaming = true
            continueSending()
        case let .setDeadline(seconds, message):
            connection?.setDeadline(after: seconds, reason: message)
        case let .confirmed(index, savedAs, sha256):
            if index == pumpIndex { closeFile() }
            onEvent(.fileConfirmed(index: index, savedAs: savedAs, sha256: hexString(sha256)))
        case let .folderConfirmed(index, savedAs):
            onEvent(.folderConfirmed(index: index, savedAs: savedAs))
        case let .refused(index, reason):
            if index == pumpIndex { closeFile() }
            onEvent(.fileRefused(index: index, reason: reason))
        case let .finish(failure, allConfirmed, reset):
            ended = true
            closeFile()
            if let connection, !connection.isClosed {
                if reset {
                    connection.reset()
                } else if failure == nil {
                    connection.shutdownWrite()
                    connection.closeWhenFlushed()
                } else {
                    connection.close()
                }
            }
            onEnd(failure, allConfirmed)
        }
    }

    private func open(_ index: Int) {
        let source = FileSource(path: machine.files[index], rawPath: rawPaths?[index])
        do {
            try source.open()
        } catch {
            switch error {
            case let .unavailable(reason): return feed(.fileUnavailable(reason: reason))
            case let .unreadable(reason): return failLocally(reason)
            }
        }
        pump = PayloadPump(source: source)
        pump?.rateLimit = rateLimit
        pumpIndex = index
        onEvent(.fileStarted(index: index, path: source.path, size: source.size))
        feed(.fileOpened(name: names[index], size: source.size, identity: source.identityBytes))
    }

    private func closeFile() {
        streaming = false
        pump?.source.close()
        pump = nil
        pumpIndex = -1
    }

    /// Sends blocks until the connection's output is full (the drain callback comes back here), this turn's share
    /// is used (the next turn does), or the file is out.
    private func continueSending() {
        guard streaming, !ended, let pump, let connection else { return }
        let index = machine.fileIndex
        let size = pump.source.size
        let step = pump.pump(connection) { sent in
            onEvent(.progress(index: index, sent: sent, size: size))
            feed(.payloadProgress(sent: sent))
        }
        switch step {
        case .waiting:
            break
        case .paused, .yielded:
            pump.callAgain(after: step, on: connection.loop) { [weak self] in self?.continueSending() }
        case let .complete(digest):
            streaming = false
            feed(.payloadComplete(sha256: digest))
        case let .failed(reason):
            streaming = false
            failLocally(reason)
        }
    }

    private func failLocally(_ reason: String) {
        failedFile = machine.fileIndex
        feed(.payloadFailed(reason: reason))
    }

    // MARK: ConnectionHandler

    public func connectionStarted(_ connection: Connection) {
        guard !ended else { return connection.close() }
        self.connection = connection
        onEvent(.connected(connection.peer))
        feed(.connected(peer: connection.peer.description))
    }

    public func connection(_ connection: Connection, received bytes: UnsafeRawBufferPointer) {
        feed(.received(Array(bytes)))
    }

    public func connectionReachedEnd(_ connection: Connection) {
        feed(.peerClosed)
    }

    public func connectionDeadlinePassed(_ connection: Connection, reason: String) {
        feed(.deadlinePassed(reason: reason))
    }

    public func connectionDrained(_ connection: Connection) {
        guard streaming, let pump else { return }
        let index = machine.fileIndex
        let size = pump.source.size
        pump.report(connection, progress: { sent in
            onEvent(.progress(index: index, sent: sent, size: size))
            feed(.payloadProgress(sent: sent))
        }, force: false)
        continueSending()
    }

    public func connectionClosed(_ connection: Connection, error: SocketError?) {
        feed(.connectionLost(error?.message ?? "the server closed the connection"))
    }
}
