/// The receiving side of the framed protocol (docs/PROTOCOL.md) as a pure state machine beside the decoder: fed the
/// bytes that arrived and what became of the work it asked for (a temporary file opened, a write failed, the file
/// published), it answers with what to do (open, store these bytes, publish, reply, set or clear the header
/// deadline, report a rejection, close). It does no I/O and reads no clock; `FileUploadHandler` runs it on a
/// `Connection`. While it waits for an `open` or a `publish` to be answered it takes no input.
public struct FileServerMachine {
    public struct Settings: Sendable {
        public var maxSize: Int64
        /// When set, every header must carry this secret (version 2); a wrong or missing one ends the connection.
        public var secret: SharedSecret?

        public init(maxSize: Int64, secret: SharedSecret? = nil) {
            self.maxSize = maxSize
            self.secret = secret
        }
    }

    public enum Action: Equatable {
        /// Start the header deadline (at connection start and after every answer).
        case expectHeader
        case clearDeadline
        /// A file is announced (`uploadStarted`).
        case started(name: String, size: Int64)
        /// Make a temporary file for `name` of `size` bytes (to be published in the tree folder `folder`, none: the
        /// upload folder itself), then call `opened`.
        case open(name: String, folder: [String], size: Int64)
        /// As `open`, for a file whose upload may be resumed: continue the part kept for this `identity`, if any,
        /// then call `opened` with the offset reached.
        case openResumable(name: String, folder: [String], size: Int64, identity: [UInt8])
        /// Make the tree folder `folder` (the first component is the tree's top), then call `folderMade`.
        case makeFolder([String])
        /// A folder tree's top folder is made: report it with what its sender announced, if anything (the first word).
        case treeStarted(TreeSummary)
        /// A folder tree's sender says it is complete: report its summary (the last word on it).
        case treeEnded(TreeSummary)
        /// Write these bytes of the input (offsets into the buffer given to `receive`) to the temporary file.
        case store(Range<Int>)
        /// Verify against `sha256`, make durable and publish the file as `name`, then call `published`.
        case publish(name: String, sha256: [UInt8])
        /// Remove the current temporary file.
        case discard
        /// The connection ended part way through a resumable upload: keep what arrived for the next attempt.
        case keep
        case reply(FileTransferReply)
        /// Report a refused or abandoned upload (`uploadRejected`).
        case rejected(String)
        /// Close once the replies are sent.
        case close
        /// Drop the connection now with `reason`.
        case drop(reason: String)
    }

    /// What became of one folder tree's entries on this connection.
    public struct TreeSummary: Equatable, Sendable {
        /// The tree's top folder as sent.
        public var top: String
        public var files = 0
        public var bytes: Int64 = 0
        public var folders = 0
        /// Entries refused or not saved.
        public var failed = 0
        /// Entries the sender skipped (links, devices...), as it said.
        public var skipped: Int64 = 0
        /// What the sender said the tree holds, in its top folder's entry; nil when it said nothing (an older
        /// sender). Display-only: nothing is sized, bounded or checked by it.
        public var announced: TreeTotal?
        /// The connection ended before the sender said the tree was complete: what arrived is all there is.
        public var interrupted = false

        public init(top: String) { self.top = top }

        /// Whether everything the sender meant to send arrived.
        public var isWhole: Bool { failed == 0 && skipped == 0 && !interrupted }
    }

    private struct Transfer: Equatable {
        let name: String
        let size: Int64
        /// The tree it belongs to (its top component), if any.
        var tree: String?
        /// Whether what arrived is kept when the connection breaks (a `resumableFile`).
        var resumable = false
        /// Set when the file cannot be stored (a write failed; or, for an eager entry, refused): the rest is read and
        /// dropped, then answered with this.
        var failure: (code: Int, message: String)?

        static func == (a: Transfer, b: Transfer) -> Bool {
            a.name == b.name && a.size == b.size && a.tree == b.tree && a.resumable == b.resumable && a.failure?.code == b.failure?.code
                && a.failure?.message == b.failure?.message
        }
    }

    private enum Stage: Equatable {
        case header
        case opening(Transfer, eager: Bool)
        /// `starts`: the folder is the top of a tree this entry began.
        case makingFolder(tree: String, starts: Bool)
        case receiving(Transfer)
        case publishing(Transfer)
        case stopped
    }

    public let settings: Settings
    private var decoder = FileTransferDecoder()
    private var stage = Stage.header
    private var entries = 0
    /// Each tree's tally, by its top component as sent (bounded by the entries allowed per connection).
    private var trees: [String: TreeSummary] = [:]

    /// Most folder-tree entries taken on one connection.
    public static let maxEntries = 1_000_000
    /// Largest eager entry (payload sent without waiting for `READY`); a refused one is read and dropped.
    public static let maxEagerSize: Int64 = 16 << 20

    public init(settings: Settings) {
        self.settings = settings
    }

    /// Whether `receive` may be called (false while an `open` or a `publish` is pending, and once stopped).
    public var takesInput: Bool {
        switch stage {
        case .header, .receiving: return true
        default: return false
        }
    }

    public var isPublishing: Bool {
        if case .publishing = stage { return true } else { return false }
    }

    public var isStopped: Bool { stage == .stopped }

    /// The file being received: its safe name, declared size and the bytes received so far.
    public var current: (name: String, size: Int64, received: Int64)? {
        guard case let .receiving(transfer) = stage else { return nil }
        return (transfer.name, transfer.size, transfer.size - decoder.remainingPayload)
    }

    /// Whether every payload byte of the current file is in and the trailer is awaited.
    public var awaitsTrailer: Bool {
        if case .receiving = stage { return decoder.remainingPayload == 0 } else { return false }
    }

    public func start() -> [Action] { [.expectHeader] }

    /// Decodes from `offset` in `bytes` up to one event (moving `offset` past what was used) and returns what to do;
    /// nil when the input is used up (or no input is taken now).
    public mutating func receive(_ bytes: UnsafeRawBufferPointer, offset: inout Int) -> [Action]? {
        guard takesInput else { return nil }
        let event: FileTransferDecoder.Event?
        do {
            event = try decoder.next(bytes, offset: &offset)
        } catch let error as FileTransferError {
            return refuseAndClose(code: error.code, message: error.message)
        } catch {
            return refuseAndClose(code: FileTransferStatus.badRequest, message: "\(error)")
        }
        guard let event else { return nil }
        switch event {
        case let .header(header):
            return begin(header)
        case let .data(slice):
            guard case let .receiving(transfer) = stage, transfer.failure == nil, let base = bytes.baseAddress,
                  let start = slice.baseAddress else { return [] }
            let from = start - base
            return [.store(from..<from + slice.count)]
        case let .trailer(digest):
            guard case let .receiving(transfer) = stage else { return [] }
            if let failure = transfer.failure {
                stage = .header
                count(transfer.tree, failed: true)
                let reason = failure.code == FileTransferStatus.cannotWrite ? failure.message : "\(failure.code) \(failure.message)"
                return [.rejected(reason), .reply(.error(code: failure.code, message: failure.message)), .expectHeader]
            }
            stage = .publishing(transfer)
            return [.clearDeadline, .publish(name: transfer.name, sha256: digest)]
        }
    }

    /// The answer to `open`: nil when the temporary file is ready, else the refusal's code and message.
    /// For a resumable file, `offset` is how much of it the server already has (the client sends only the rest).
    public mutating func opened(refusal: (code: Int, message: String)?, offset: Int64 = 0) -> [Action] {
        guard case let .opening(transfer, eager) = stage else { return [] }
        if let refusal {
            return refuse(transfer, eager: eager, code: refusal.code, message: refusal.message)
        }
        stage = .receiving(transfer)
        if transfer.resumable {
            let from = min(max(offset, 0), transfer.size)
            decoder.resumeCurrentFile(at: from)
            return [.reply(.readyAt(from))]
        }
        return eager ? [] : [.reply(.ready)]
    }

    /// The answer to `makeFolder`: its path as saved, or why not.
    public mutating func folderMade(_ result: Result<String, FileTransferError>) -> [Action] {
        guard case let .makingFolder(tree, starts) = stage else { return [] }
        stage = .header
        switch result {
        case let .success(path):
            trees[tree]?.folders += 1
            var actions: [Action] = []
            if starts, let summary = trees[tree] { actions.append(.treeStarted(summary)) }
            return actions + [.reply(.saved(name: path)), .expectHeader]
        case let .failure(error):
            count(tree, failed: true)
            return [.rejected("\(error.code) \(error.message)"), .reply(.error(code: error.code, message: error.message)), .expectHeader]
        }
    }

    /// A write to the temporary file failed with `message`: the file is dropped, the rest of it read and refused.
    public mutating func storeFailed(_ message: String) -> [Action] {
        guard case var .receiving(transfer) = stage, transfer.failure == nil else { return [] }
        transfer.failure = (FileTransferStatus.cannotWrite, message)
        stage = .receiving(transfer)
        return [.discard]
    }

    /// The answer to `publish`: the reply to send (`OK name`, or the `ERR` that says why not).
    public mutating func published(_ reply: FileTransferReply) -> [Action] {
        guard case let .publishing(transfer) = stage else { return [] }
        stage = .header
        if case .saved = reply {
            trees[transfer.tree ?? ""]?.files += 1
            trees[transfer.tree ?? ""]?.bytes += transfer.size
        } else {
            count(transfer.tree, failed: true)
        }
        return [.reply(reply), .expectHeader]
    }

    /// The upload is slower than the server allows.
    public mutating func tooSlow(_ message: String) -> [Action] {
        guard stage != .stopped else { return [] }
        return refuseAndClose(code: FileTransferStatus.incomplete, message: message, keeping: true)
    }

    /// The client finished sending (EOF): fine between files, an incomplete upload anywhere else.
    public mutating func peerEnded() -> [Action] {
        var actions: [Action] = []
        let message: String?
        switch stage {
        case let .receiving(transfer), let .opening(transfer, _):
            let received = transfer.size - decoder.remainingPayload
            message = received < transfer.size
                ? "connection ended after \(received) of \(transfer.size) bytes of \(transfer.name)"
                : "connection ended before the trailer of \(transfer.name)"
            actions.append(transfer.resumable && transfer.failure == nil ? .keep : .discard)
        case .header where !decoder.isBetweenFiles:
            message = "connection ended in the middle of a file header"
        case .stopped:
            return []
        default:
            message = nil
        }
        if let message {
            actions += [.rejected(message), .reply(.error(code: FileTransferStatus.incomplete, message: message))]
        }
        stage = .stopped
        return actions + [.close]
    }

    /// The header deadline, or the stall deadline of an upload, passed: the client is told why before the drop.
    public mutating func deadlinePassed(reason: String) -> [Action] {
        guard stage != .stopped else { return [] }
        let discard = abandoning(keeping: true)
        stage = .stopped
        return discard + [.rejected("\(FileTransferStatus.incomplete) \(reason)"),
                          .reply(.error(code: FileTransferStatus.incomplete, message: reason)), .drop(reason: reason)]
    }

    /// The connection is gone (`why`: how); an upload in progress is abandoned.
    public mutating func connectionClosed(why: String) -> [Action] {
        var actions: [Action] = []
        if case let .receiving(transfer) = stage {
            actions = abandoning(keeping: true) + [.rejected("\(transfer.name): \(why) before the upload finished")]
        }
        // A tree the sender never ended is reported as it stands, so a half folder is never left unsaid.
        for top in trees.keys.sorted() {
            guard var summary = trees[top] else { continue }
            summary.interrupted = true
            actions.append(.treeEnded(summary))
        }
        trees.removeAll()
        if stage != .stopped && !isPublishing { stage = .stopped }
        return actions
    }

    // MARK: Pieces

    /// What becomes of the current temporary file when the upload stops part way: a resumable one is kept when the
    /// stop is the connection's (`keeping`), anything else is removed.
    private func abandoning(keeping: Bool) -> [Action] {
        guard case let .receiving(transfer) = stage else { return [] }
        return [keeping && transfer.resumable && transfer.failure == nil ? .keep : .discard]
    }

    private mutating func begin(_ header: FileHeader) -> [Action] {
        if let refusal = secretRefusal(header) {
            // The connection ends: a guesser gets one try per connection, and no payload byte is ever read for it.
            return [.clearDeadline] + refuseAndClose(code: FileTransferStatus.unauthorized, message: refusal)
        }
        guard header.inTree else {
            return openFile(Transfer(name: SafeFileName.sanitize(header.name), size: header.size), folder: [], eager: false)
        }
        entries += 1
        if entries > Self.maxEntries {
            return [.clearDeadline] + refuseAndClose(code: FileTransferStatus.forbidden,
                                                     message: "more than \(Self.maxEntries) entries on one connection")
        }
        let eager = header.kind == .eagerFile
        if eager && header.size > Self.maxEagerSize {
            return [.clearDeadline] + refuseAndClose(code: FileTransferStatus.badRequest,
                                                     message: "an eager entry of \(header.size) bytes is larger than \(Self.maxEagerSize)")
        }
        let path: TreePath
        switch TreePath.parse(header.name) {
        case let .success(parsed): path = parsed
        case let .failure(error):
            let transfer = Transfer(name: SafeFileName.sanitize(header.name), size: header.size)
            if header.kind == .end { return [.clearDeadline, .reply(.error(code: error.code, message: error.message)), .expectHeader] }
            return [.clearDeadline] + refuse(transfer, eager: eager, code: error.code, message: error.message)
        }
        let tree = path.components[0]
        let begins = trees[tree] == nil
        if begins && (path.components.count > 1 || header.kind != .resumableFile) { trees[tree] = TreeSummary(top: tree) }
        switch header.kind {
        case .folder:
            // Only a tree's first entry, its top folder, announces the tree; an announcement anywhere else is ignored.
            let starts = begins && path.components.count == 1
            if starts { trees[tree]?.announced = header.total }
            stage = .makingFolder(tree: tree, starts: starts)
            return [.clearDeadline, .makeFolder(path.components)]
        case .end:
            var summary = trees.removeValue(forKey: tree) ?? TreeSummary(top: tree)
            summary.skipped = header.size
            return [.clearDeadline, .treeEnded(summary), .reply(.saved(name: tree)), .expectHeader]
        case .file, .eagerFile:
            return openFile(Transfer(name: path.joined, size: header.size, tree: tree), folder: path.folders, eager: eager)
        case .resumableFile:
            var transfer = Transfer(name: path.joined, size: header.size, tree: path.components.count > 1 ? tree : nil)
            transfer.resumable = true
            return openFile(transfer, folder: path.folders, eager: false, identity: header.identity)
        }
    }

    private mutating func openFile(_ transfer: Transfer, folder: [String], eager: Bool, identity: [UInt8]? = nil) -> [Action] {
        var actions: [Action] = [.clearDeadline, .started(name: transfer.name, size: transfer.size)]
        if transfer.size > settings.maxSize {
            let pair = ByteCount.formatApart(transfer.size, settings.maxSize)
            return actions + refuse(transfer, eager: eager, code: FileTransferStatus.tooLarge,
                                    message: "\(transfer.name) is \(pair.0), larger than this server's limit of \(pair.1)")
        }
        stage = .opening(transfer, eager: eager)
        if let identity {
            actions.append(.openResumable(name: transfer.name, folder: folder, size: transfer.size, identity: identity))
        } else {
            actions.append(.open(name: transfer.name, folder: folder, size: transfer.size))
        }
        return actions
    }

    /// Refuses the entry just announced. Its payload, if it is an eager entry, is on its way: it is read and dropped,
    /// and the refusal follows its trailer. Otherwise the client sends nothing more for it and the next bytes are the
    /// next header. Either way the connection stays usable.
    private mutating func refuse(_ transfer: Transfer, eager: Bool, code: Int, message: String) -> [Action] {
        if eager {
            var draining = transfer
            draining.failure = (code, message)
            stage = .receiving(draining)
            return []
        }
        stage = .header
        count(transfer.tree, failed: true)
        return refuse(code: code, message: message)
    }

    private mutating func count(_ tree: String?, failed: Bool) {
        guard let tree, failed else { return }
        trees[tree]?.failed += 1
    }

    /// Why the header may not upload under the server's secret, or nil.
    private func secretRefusal(_ header: FileHeader) -> String? {
        guard let secret = settings.secret else { return nil }
        guard let offered = header.secret else {
            return "this server needs the shared secret: send with --secret-file FILE"
        }
        return secret.matches(offered) ? nil : "wrong secret"
    }

    /// Refuses the file just announced; the client sends nothing more for it, so the connection stays usable.
    private mutating func refuse(code: Int, message: String) -> [Action] {
        decoder.skipCurrentFile()
        return [.rejected("\(code) \(message)"), .reply(.error(code: code, message: message)), .expectHeader]
    }

    private mutating func refuseAndClose(code: Int, message: String, keeping: Bool = false) -> [Action] {
        let discard = abandoning(keeping: keeping)
        stage = .stopped
        return discard + [.rejected("\(code) \(message)"), .reply(.error(code: code, message: message)), .close]
    }
}
