#if canImport(Glibc)
import Glibc
#endif

/// Serves the framed protocol on one connection: a `FileServerMachine` decides the sequence (header → `READY` or
/// `ERR`, payload, trailer → `OK <name>` or `ERR`, the next file); this handler does the work it asks for: temporary
/// files from the store, writes, the pace of the upload, publishing off the loop, replies and events.
public final class FileUploadHandler: ConnectionHandler {
    private let store: UploadStore
    private var options: FileServerOptions { store.options }
    private var machine: FileServerMachine
    private var upload: Upload?
    /// The folder trees this connection recreates (made on first use).
    private lazy var folders = UploadFolders(store: store)
    /// Bytes that came after a trailer in the same read, handled once the answer to that file is out.
    private var deferred: [UInt8] = []
    /// `--ask`: the timer of the question the current header waits on.
    private var askTimer: EventLoop.TimerToken?
    /// `--ask` answers about whole folder trees on this connection, by top folder: one question per tree, not per file.
    private var treesAccepted: Set<String> = []
    private var treesRefused: [String: String] = [:]

    private struct Upload {
        /// As shown: the safe name, or a tree entry's path.
        let name: String
        /// The name it is published under, in `folder` (nil: the upload folder itself).
        let baseName: String
        let folder: TreeFolder?
        /// nil once a write failed: its bytes are read and dropped so the answer can follow the trailer.
        var file: PendingUpload?
        var progress = ProgressThrottle()
        var pace = UploadPace()
    }

    /// `store` is shared by every connection of the server.
    public init(store: UploadStore) {
        self.store = store
        machine = FileServerMachine(settings: FileServerMachine.Settings(maxSize: store.options.maxSize, secret: store.options.secret))
    }

    public func connectionStarted(_ connection: Connection) {
        perform(machine.start(), on: connection)
    }

    /// Whether the machine waits for work done off the loop (publishing, or opening a kept part); input waits too.
    private var waiting: Bool { !machine.takesInput && !machine.isStopped }

    public func connection(_ connection: Connection, received bytes: UnsafeRawBufferPointer) {
        if waiting {
            deferred.append(contentsOf: bytes)
            return
        }
        // Trailer bytes: slow ones are still progress, and still count against the minimum rate.
        if machine.awaitsTrailer, !keepsPace(bytes.count, on: connection) { return }
        var offset = 0
        while !connection.isClosed, let actions = machine.receive(bytes, offset: &offset) {
            perform(actions, on: connection, input: bytes)
        }
        if waiting && offset < bytes.count {
            deferred.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[offset...]))
        }
    }

    // MARK: Doing what the machine says

    private func perform(_ actions: [FileServerMachine.Action], on connection: Connection,
                         input: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0)) {
        for action in actions {
            if connection.isClosed { return }
            switch action {
            case .expectHeader:
                let timeout = connection.limits.headerTimeout
                connection.setDeadline(after: timeout, reason: "no complete file header within \(formatSeconds(timeout))")
            case .clearDeadline:
                connection.clearDeadline()
            case let .started(name, size):
                connection.emit(.uploadStarted(id: connection.id, name: name, size: size))
            case let .open(name, folder, size):
                askFirst(name, size: size, tree: folder.first, on: connection) { self.open(name, in: folder, size: size, on: connection) }
            case let .openResumable(name, folder, size, identity):
                askFirst(name, size: size, tree: folder.first, on: connection) {
                    self.openResumable(name, in: folder, size: size, identity: identity, on: connection)
                }
            case .keep:
                keepUpload(on: connection)
            case let .makeFolder(components):
                let result = Result { () throws(FileTransferError) in try folders.folder(components).relativePath }
                perform(machine.folderMade(result), on: connection)
            case let .treeStarted(summary):
                connection.emit(.treeStarted(id: connection.id, summary: savedAs(summary)))
            case let .treeEnded(summary):
                connection.emit(.treeReceived(id: connection.id, summary: savedAs(summary)))
            case let .store(range):
                store(UnsafeRawBufferPointer(rebasing: input[range]), on: connection)
            case let .publish(name, digest):
                publish(name, expecting: digest, on: connection)
            case .discard:
                upload?.file?.discard()
                upload = nil
            case let .reply(reply):
                connection.write(reply.line)
            case let .rejected(reason):
                connection.emit(.uploadRejected(id: connection.id, reason: reason))
            case .close:
                connection.closeWhenFlushed()
            case let .drop(reason):
                connection.fail(SocketError(code: ETIMEDOUT, message: reason))
            }
        }
    }

    /// `--ask`: before `open` stores a byte, tells the client to wait (reading paused) and asks the operator; a yes
    /// opens, a no or no answer within the timeout refuses with `ERR 403`. Without `--ask`, opens at once.
    /// A file of a folder tree (`tree` is its top folder) is asked about once for the whole tree: the first file's
    /// answer holds for the rest of that tree on this connection.
    private func askFirst(_ name: String, size: Int64, tree: String?, on connection: Connection, open: @escaping () -> Void) {
        guard let approval = options.approval else { return open() }
        if let tree {
            if treesAccepted.contains(tree) { return open() }
            if let reason = treesRefused[tree] {
                return perform(machine.opened(refusal: (FileTransferStatus.refused, reason)), on: connection)
            }
        }
        let subject = tree.map { "the folder \($0)" } ?? name
        connection.setReadingPaused(true)
        let timeout = options.approvalTimeout
        connection.write(FileTransferReply.waiting(seconds: Int(timeout.rounded(.up)), message: "asking whether to accept \(subject)").line)
        let decision = UploadDecision { [weak self, weak connection] accepted, reason in
            guard let self, let connection else { return }
            if let askTimer { connection.loop.cancel(askTimer) }
            askTimer = nil
            guard !connection.isClosed else { return }
            if accepted {
                if let tree { treesAccepted.insert(tree) }
                open()
            } else {
                let why = reason ?? "\(subject) refused by the server's operator"
                if let tree { treesRefused[tree] = why }
                perform(machine.opened(refusal: (FileTransferStatus.refused, why)), on: connection)
            }
            resumeReading(connection)
        }
        askTimer = connection.loop.schedule(after: timeout) { [weak decision] in
            decision?.expire(reason: "\(subject) not accepted: no answer within \(formatSeconds(timeout))")
        }
        var request = UploadRequest(connectionID: connection.id, name: tree.map { "\($0)/" } ?? name, size: size, peer: connection.peer)
        request.isFolder = tree != nil
        approval.ask(request, decision)
    }

    /// Reads again, starting with the bytes that arrived while it waited (unless work off the loop still holds it):
    /// after a question (`--ask`), a kept part opened, or a file published off the loop.
    private func resumeReading(_ connection: Connection) {
        guard !connection.isClosed, !waiting else { return }
        connection.setReadingPaused(false)
        if !deferred.isEmpty {
            let rest = deferred
            deferred = []
            rest.withUnsafeBytes { self.connection(connection, received: $0) }
        }
    }

    /// A tree's summary under the name its top folder was saved as.
    private func savedAs(_ summary: FileServerMachine.TreeSummary) -> FileServerMachine.TreeSummary {
        var saved = summary
        saved.top = folders.savedTop(summary.top) ?? summary.top
        return saved
    }

    /// Opens the kept part of this upload (or a new one) off the loop, since what is kept is read and hashed again;
    /// without room for a kept part it is an upload like any other, from its first byte.
    private func openResumable(_ name: String, in components: [String], size: Int64, identity: [UInt8], on connection: Connection) {
        let folder: TreeFolder?
        do {
            folder = try folders.folderOrRoot(components)
        } catch {
            return perform(machine.opened(refusal: (error.code, error.message)), on: connection)
        }
        let key = PartialUploads.key(peer: connection.peer.host, name: name, size: size, identity: identity, secret: options.secret?.bytes)
        let partials = store.partials!
        let peer = connection.peer.host
        connection.setReadingPaused(true)
        WorkerPool.disk.run({ Result { try partials.begin(key: key, name: name, size: size, peer: peer) } },
                            thenOn: connection.loop) { [self] result in
            guard !connection.isClosed else {
                if case let .success(file?) = result { file.keep() }
                return
            }
            switch result {
            case let .success(file?):
                if let free = store.availableBytes(), size - file.written > free {
                    file.keep()
                    let pair = ByteCount.formatApart(size - file.written, free)
                    perform(machine.opened(refusal: (FileTransferStatus.cannotWrite,
                                                     "not enough space for \(name): \(pair.0) needed, \(pair.1) free")), on: connection)
                } else {
                    file.reserve(upTo: size)
                    start(Upload(name: name, baseName: baseName(name, components), folder: folder, file: file), on: connection)
                    perform(machine.opened(refusal: nil, offset: file.written), on: connection)
                }
            case .success(nil):
                open(name, in: components, size: size, on: connection)
            case let .failure(error):
                perform(machine.opened(refusal: (FileTransferStatus.cannotWrite, "cannot store \(name): \(error)")), on: connection)
            }
            resumeReading(connection)
        }
    }

    private func baseName(_ name: String, _ components: [String]) -> String {
        components.isEmpty ? name : String(name.split(separator: "/").last ?? Substring(name))
    }

    private func start(_ new: Upload, on connection: Connection) {
        upload = new
        _ = upload!.pace.received(0, of: new.name, options: options, on: connection)
    }

    private func open(_ name: String, in components: [String], size: Int64, on connection: Connection) {
        let folder: TreeFolder?
        do {
            folder = try folders.folderOrRoot(components)
        } catch {
            return perform(machine.opened(refusal: (error.code, error.message)), on: connection)
        }
        if let free = store.availableBytes(), size > free {
            let pair = ByteCount.formatApart(size, free)
            return perform(machine.opened(refusal: (FileTransferStatus.cannotWrite,
                                                    "not enough space for \(name): \(pair.0) needed, \(pair.1) free")), on: connection)
        }
        let file: PendingUpload
        do {
            file = try store.begin()
        } catch {
            return perform(machine.opened(refusal: (FileTransferStatus.cannotWrite, "cannot store \(name): \(error)")), on: connection)
        }
        file.reserve(upTo: size)
        let baseName = components.isEmpty ? name : String(name.split(separator: "/").last ?? Substring(name))
        upload = Upload(name: name, baseName: baseName, folder: folder, file: file)
        _ = upload!.pace.received(0, of: name, options: options, on: connection)
        perform(machine.opened(refusal: nil), on: connection)
    }

    private func store(_ slice: UnsafeRawBufferPointer, on connection: Connection) {
        guard var current = upload else { return }
        if let file = current.file {
            do {
                try file.write(slice)
            } catch {
                file.discard()
                current.file = nil
                upload = current
                perform(machine.storeFailed("cannot write \(current.name): \(error)"), on: connection)
            }
        }
        guard keepsPace(slice.count, on: connection), var current = upload, let now = machine.current else { return }
        if current.progress.shouldReport(received: now.received, total: now.size) {
            connection.emit(.uploadProgress(id: connection.id, received: now.received, size: now.size))
        }
        upload = current
    }

    /// Counts `count` bytes of the current file towards its pace (stall deadline, minimum rate); false when the upload
    /// was too slow and the connection is being refused.
    private func keepsPace(_ count: Int, on connection: Connection) -> Bool {
        guard var current = upload else { return true }
        let tooSlow = current.pace.received(count, of: current.name, options: options, on: connection)
        upload = current
        guard let tooSlow else { return true }
        perform(machine.tooSlow(tooSlow), on: connection)
        return false
    }

    private func publish(_ name: String, expecting digest: [UInt8], on connection: Connection) {
        guard let current = upload, let file = current.file else { return }
        upload = nil
        let baseName = current.baseName
        let folder = current.folder
        let work = { Result { try file.publish(as: baseName, in: folder, expectedSHA256: digest) } }
        guard store.fsyncEnabled else {
            // Without fsync, publishing is a link and a stat: done here, it spares every file two thread hops (what
            // many small files of a tree would otherwise wait on), and the input goes on in the same read.
            answer(work(), for: name, on: connection)
            return
        }
        connection.setReadingPaused(true)
        WorkerPool.disk.run(work, thenOn: connection.loop) { [self] result in
            guard answer(result, for: name, on: connection) else { return }
            resumeReading(connection)
        }
    }

    /// Reports how publishing `name` went and answers the client; false when the connection is gone or stopped.
    @discardableResult
    private func answer(_ result: Result<SavedFile, Error>, for name: String, on connection: Connection) -> Bool {
        let reply: FileTransferReply
        switch result {
        case let .success(saved):
            connection.emit(.fileSaved(id: connection.id, path: saved.path, size: saved.size, sha256: saved.sha256))
            reply = .saved(name: saved.name)
        case let .failure(error as FileTransferError):
            connection.emit(.uploadRejected(id: connection.id, reason: "\(name): \(error.message)"))
            reply = .error(code: error.code, message: error.message)
        case let .failure(error):
            let message = "cannot save \(name): \(error)"
            connection.emit(.uploadRejected(id: connection.id, reason: message))
            reply = .error(code: FileTransferStatus.cannotWrite, message: message)
        }
        let actions = machine.published(reply)
        guard !connection.isClosed, !actions.isEmpty else { return false }
        perform(actions, on: connection)
        return true
    }

    // MARK: Ending

    public func connectionReachedEnd(_ connection: Connection) {
        perform(machine.peerEnded(), on: connection)
    }

    /// A header that never completed, or a stalled upload: the client is told why before the connection is dropped.
    public func connectionDeadlinePassed(_ connection: Connection, reason: String) {
        perform(machine.deadlinePassed(reason: reason), on: connection)
    }

    /// The connection ended part way: a resumable upload's part stays (and the log says so), any other goes.
    private func keepUpload(on connection: Connection) {
        if let current = upload, let file = current.file, file.isPartial {
            connection.emit(.uploadRejected(id: connection.id, reason: "\(current.name): \(file.written) bytes kept to resume "
                                            + "within \(formatSeconds(options.keepPartial))"))
        }
        upload?.file?.keep()
        upload = nil
    }

    public func connectionClosed(_ connection: Connection, error: SocketError?) {
        if let askTimer { connection.loop.cancel(askTimer) }
        askTimer = nil
        let actions = machine.connectionClosed(why: error?.message ?? "connection closed")
        // The connection is closed, so `perform` would skip these: the temporary file still goes, the reason is still told.
        for action in actions {
            switch action {
            case .discard:
                upload?.file?.discard()
                upload = nil
            case .keep:
                keepUpload(on: connection)
            case let .rejected(reason):
                connection.emit(.uploadRejected(id: connection.id, reason: reason))
            case let .treeEnded(summary):
                connection.emit(.treeReceived(id: connection.id, summary: savedAs(summary)))
            default:
                break
            }
        }
    }
}
