/// The sending side of the framed protocol (docs/PROTOCOL.md) as a pure state machine: it is told what happened
/// (connected, a file opened, payload sent, bytes from the server, a deadline passed, the connection lost) and answers
/// with what to do (open the next file, send a header or trailer, stream the payload, report, set a deadline, end).
/// It does no I/O and reads no clock, so every sequence can be replayed in a table test or fuzzed against
/// `FileServerMachine`. `FileClientHandler` runs it on a `Connection`.
///
/// A folder tree's entries (header version 4) are pipelined: folders, the tree's end, and files up to `eagerLimit`
/// go without waiting for an answer (a file's payload and trailer right after its header), up to `window` entries
/// unanswered, so many small files do not cost a round trip each. A larger file waits until every earlier entry is
/// answered, then goes the `READY` way.
public struct FileClientMachine {
    /// What each entry of the session is.
    public enum Entry: Equatable, Sendable {
        /// A file on its own (header version 1, or 2 with a secret).
        case file
        /// A file on its own whose upload the server may resume (header version 4): it answers `READY <offset>`.
        case resumableFile
        /// A file of a folder tree; the shell's name for it is its relative path.
        case treeFile
        /// A folder of a tree, at `path`; the tree's top folder announces the tree's `total` (display-only).
        case treeFolder(path: String, total: TreeTotal? = nil)
        /// The end of the tree whose top folder is `top`; `skipped` entries were left out (links, devices).
        case treeEnd(top: String, skipped: Int64)
    }

    /// Largest tree file sent without waiting for `READY`.
    public static let eagerLimit: Int64 = 1 << 20
    /// Most pipelined entries waiting for their answers.
    public static let window = 64

    public struct Settings: Sendable {
        /// Seconds without a reply or progress after which the server is considered gone.
        public var replyTimeout: Double = 60
        /// Seconds a peer has to answer the first header (a netconsole file server answers at once).
        public var firstAnswerTimeout: Double = 2
        public var secret: SharedSecret?
        /// Whether a connection that ends before the server said a word suggests trying TLS (the client is not
        /// speaking it; a TLS server drops a plain client silently).
        public var suggestsTLS = false

        public init(replyTimeout: Double = 60, firstAnswerTimeout: Double = 2, secret: SharedSecret? = nil) {
            self.replyTimeout = replyTimeout
            self.firstAnswerTimeout = firstAnswerTimeout
            self.secret = secret
        }
    }

    public enum Input: Equatable {
        /// The connection to `peer` is open.
        case connected(peer: String)
        /// The current file is open: it goes as `name`, `size` bytes; `identity` tells a changed file (resumable).
        case fileOpened(name: String, size: Int64, identity: [UInt8] = [])
        /// The current file cannot be opened; the session goes on with the next.
        case fileUnavailable(reason: String)
        /// Payload bytes of the current file handed to the connection so far.
        case payloadProgress(sent: Int64)
        /// Every payload byte is out and the file is unchanged: its SHA-256.
        case payloadComplete(sha256: [UInt8])
        /// The file could not be read to its end, or changed; the session ends (`reset`: drop the connection hard).
        case payloadFailed(reason: String)
        /// Bytes from the server.
        case received([UInt8])
        /// The deadline last asked for has passed; `reason` is its message.
        case deadlinePassed(reason: String)
        /// The server finished sending (EOF).
        case peerClosed
        /// The connection broke.
        case connectionLost(String)
        case cancel
    }

    public enum Action: Equatable {
        case openFile(index: Int)
        case send([UInt8])
        /// Start sending the current file's bytes (then report `payloadProgress` and `payloadComplete`).
        case streamPayload(index: Int)
        /// The server has the first `offset` bytes: hash them, send the rest (then as after `streamPayload`).
        case resumePayload(index: Int, from: Int64)
        case setDeadline(seconds: Double, message: String)
        case confirmed(index: Int, savedAs: String, sha256: [UInt8])
        case folderConfirmed(index: Int, savedAs: String)
        case refused(index: Int, reason: String)
        /// The session is over: close the file and the connection (`reset`: with an RST), report `failure` if any.
        case finish(failure: String?, allConfirmed: Bool, reset: Bool)
    }

    public enum Phase: Equatable, Sendable {
        case connecting, opening, awaitingReady, streaming, awaitingResult
        /// A large tree file is open and waits for the pipelined entries before it to be answered.
        case holding
        /// The window is full: the next entry waits for an answer.
        case waitingForWindow
        /// Every entry is out; answers are awaited.
        case draining
        case done
    }

    public let files: [String]
    public let entries: [Entry]
    public let settings: Settings
    public private(set) var phase = Phase.connecting
    public private(set) var fileIndex = 0
    /// Whether the peer has sent anything yet (silence after the first header means it is not a file server).
    public private(set) var peerHasAnswered = false
    private var peer = ""
    private var size: Int64 = 0
    private var digest: [UInt8] = []
    private var replyBytes: [UInt8] = []
    private var allConfirmed = true
    /// Pipelined entries sent and not yet answered, oldest first, with the digest of each file.
    private var inFlight: [(index: Int, sha256: [UInt8])] = []
    /// Whether the current file goes without waiting for `READY`.
    private var eager = false
    /// The current file's name while it is `holding`.
    private var heldName = ""
    private var identity: [UInt8] = []

    /// `files[i]` is what entry `i` is called in messages (its local path); `entries` defaults to plain files.
    public init(files: [String], entries: [Entry]? = nil, settings: Settings = Settings()) {
        precondition(entries == nil || entries?.count == files.count, "one entry per file")
        self.files = files
        self.entries = entries ?? Array(repeating: .file, count: files.count)
        self.settings = settings
    }

    /// How many pipelined entries await their answers.
    public var unanswered: Int { inFlight.count }

    public var isFinished: Bool { phase == .done }

    public mutating func handle(_ input: Input) -> [Action] {
        guard phase != .done else { return [] }
        switch input {
        case let .connected(peer):
            guard phase == .connecting else { return [] }
            self.peer = peer
            return startCurrent()
        case let .fileOpened(name, size, identity):
            guard phase == .opening else { return [] }
            self.size = size
            self.identity = identity
            if entries[fileIndex] == .treeFile {
                if size <= Self.eagerLimit {
                    eager = true
                    phase = .streaming
                    return [.send(FileTransferEncoder.treeHeader(path: name, size: size, kind: .eagerFile, secret: settings.secret)),
                            firstAnswerOr(stallDeadline), .streamPayload(index: fileIndex)]
                }
                if !inFlight.isEmpty {
                    heldName = name
                    phase = .holding
                    return []
                }
                return sendTreeFileHeader(name)
            }
            if !inFlight.isEmpty {
                heldName = name
                phase = .holding
                return []
            }
            return sendPlainHeader(name)
        case let .fileUnavailable(reason):
            guard phase == .opening else { return [] }
            allConfirmed = false
            return [.refused(index: fileIndex, reason: "\(path): \(reason)")] + nextFile()
        case .payloadProgress:
            guard phase == .streaming else { return [] }
            return [stallDeadline]
        case let .payloadComplete(sha256):
            guard phase == .streaming else { return [] }
            if eager {
                eager = false
                inFlight.append((fileIndex, sha256))
                fileIndex += 1
                return [.send(FileTransferEncoder.trailer(sha256: sha256))] + startCurrent()
            }
            digest = sha256
            phase = .awaitingResult
            return [.send(FileTransferEncoder.trailer(sha256: sha256)),
                    .setDeadline(seconds: settings.replyTimeout,
                                 message: "no answer after \(path) was sent within \(formatSeconds(settings.replyTimeout))")]
        case let .payloadFailed(reason):
            return finish(failure: reason)
        case let .received(bytes):
            return receive(bytes)
        case let .deadlinePassed(reason):
            // Reset, not FIN: a raw server then discards the header bytes instead of saving them as a file.
            return finish(failure: reason, reset: !peerHasAnswered && phase != .connecting && phase != .opening)
        case .peerClosed:
            return connectionLost("the server closed the connection")
        case let .connectionLost(message):
            return connectionLost(message)
        case .cancel:
            return finish(failure: "cancelled")
        }
    }

    // MARK: Pieces

    private var path: String { files.indices.contains(fileIndex) ? files[fileIndex] : "" }

    private var stallDeadline: Action {
        .setDeadline(seconds: settings.replyTimeout,
                     message: "the server took no data for \(formatSeconds(settings.replyTimeout)) while sending \(path)")
    }

    /// Starts entries from `fileIndex` on: folders and ends go at once (pipelined), a file is opened; stops at a full
    /// window, and ends the session (or waits for the last answers) when every entry is out.
    private mutating func startCurrent() -> [Action] {
        var actions: [Action] = []
        while fileIndex < entries.count {
            if inFlight.count >= Self.window {
                phase = .waitingForWindow
                return actions + [firstAnswerOr(answerDeadline)]
            }
            switch entries[fileIndex] {
            case let .treeFolder(path, total):
                actions += [.send(FileTransferEncoder.treeHeader(path: path, size: 0, kind: .folder, secret: settings.secret, total: total)),
                            firstAnswerOr(answerDeadline)]
            case let .treeEnd(top, skipped):
                actions += [.send(FileTransferEncoder.treeHeader(path: top, size: skipped, kind: .end, secret: settings.secret)),
                            firstAnswerOr(answerDeadline)]
            case .file, .treeFile, .resumableFile:
                phase = .opening
                size = 0
                digest = []
                return actions + [.openFile(index: fileIndex)]
            }
            inFlight.append((fileIndex, []))
            fileIndex += 1
        }
        if inFlight.isEmpty { return actions + finish(failure: nil) }
        phase = .draining
        return actions
    }

    private mutating func nextFile() -> [Action] {
        fileIndex += 1
        return startCurrent()
    }

    private var answerDeadline: Action {
        .setDeadline(seconds: settings.replyTimeout, message: "no answer from the server within \(formatSeconds(settings.replyTimeout))")
    }

    /// `otherwise`, unless the peer has not said a word yet: then the short wait that tells a raw server.
    private func firstAnswerOr(_ otherwise: Action) -> Action {
        guard !peerHasAnswered else { return otherwise }
        return firstAnswerDeadline
    }

    /// How long a peer that has said nothing yet gets to answer a header: a raw server (netcat, socat) never does.
    private var firstAnswerDeadline: Action {
        let seconds = min(settings.replyTimeout, settings.firstAnswerTimeout)
        return .setDeadline(seconds: seconds, message: "\(peer) did not answer the file header within "
            + "\(formatSeconds(seconds)): it is not a netconsole file server (for netcat, socat or a raw file server "
            + "use --raw), or it is stalled")
    }

    /// A file on its own: header version 1 (2 with a secret; 4 when resumable), then `READY` is awaited.
    private mutating func sendPlainHeader(_ name: String) -> [Action] {
        phase = .awaitingReady
        let header = entries[fileIndex] == .resumableFile
            ? FileTransferEncoder.treeHeader(path: name, size: size, kind: .resumableFile, secret: settings.secret, identity: identity)
            : FileTransferEncoder.header(name: name, size: size, secret: settings.secret)
        let wait: Action
        if peerHasAnswered {
            wait = .setDeadline(seconds: settings.replyTimeout,
                        message: "no answer to the header of \(path) within \(formatSeconds(settings.replyTimeout))")
        } else {
            wait = firstAnswerDeadline
        }
        return [.send(header), wait]
    }

    private mutating func sendTreeFileHeader(_ name: String) -> [Action] {
        phase = .awaitingReady
        return [.send(FileTransferEncoder.treeHeader(path: name, size: size, kind: .file, secret: settings.secret)),
                firstAnswerOr(.setDeadline(seconds: settings.replyTimeout,
                                           message: "no answer to the header of \(path) within \(formatSeconds(settings.replyTimeout))"))]
    }

    /// The answer to the oldest pipelined entry; then whatever waited for it goes on.
    private mutating func answerPipelined(_ reply: FileTransferReply?, line: String) -> [Action] {
        let head = inFlight.removeFirst()
        var actions: [Action] = []
        switch (reply, entries[head.index]) {
        case (.saved(let name)?, .treeFolder):
            actions.append(.folderConfirmed(index: head.index, savedAs: name))
        case (.saved?, .treeEnd):
            break
        case (.saved(let name)?, _):
            actions.append(.confirmed(index: head.index, savedAs: name, sha256: head.sha256))
        case (.error(let code, let message)?, _):
            allConfirmed = false
            actions.append(.refused(index: head.index, reason: "\(code) \(message)"))
            if Self.endsConnection(code) { return actions + finish(failure: "the server ended the session: \(code) \(message)") }
        default:
            return finish(failure: "unexpected reply from the server: '\(line.sanitizedForDisplay)'; is it a netconsole file server (try --raw)?")
        }
        switch phase {
        case .waitingForWindow:
            actions += startCurrent()
        case .holding where inFlight.isEmpty:
            actions += entries[fileIndex] == .treeFile ? sendTreeFileHeader(heldName) : sendPlainHeader(heldName)
        case .draining where inFlight.isEmpty:
            actions += finish(failure: nil)
        case .draining, .holding:
            actions.append(answerDeadline)
        default:
            break
        }
        return actions
    }

    private mutating func finish(failure: String?, reset: Bool = false) -> [Action] {
        phase = .done
        if failure != nil { allConfirmed = false }
        return [.finish(failure: failure, allConfirmed: allConfirmed, reset: reset)]
    }

    private mutating func receive(_ bytes: [UInt8]) -> [Action] {
        guard !bytes.isEmpty else { return [] }
        peerHasAnswered = true
        replyBytes.append(contentsOf: bytes)
        var actions: [Action] = []
        while phase != .done, let newline = replyBytes.firstIndex(of: 0x0A) {
            let line = String(decoding: replyBytes[..<newline], as: UTF8.self)
            replyBytes.removeSubrange(...newline)
            actions += handle(line: line)
        }
        if phase != .done && (replyBytes.count > FileTransferProtocol.maxReplyLength || !Self.mayStartReply(replyBytes)) {
            let shown = String(decoding: replyBytes.prefix(40), as: UTF8.self).sanitizedForDisplay
            actions += finish(failure: "unexpected reply from the server: '\(shown)'; is it a netconsole file server (try --raw)?")
        }
        return actions
    }

    private mutating func handle(line: String) -> [Action] {
        let reply = FileTransferReply(line: line)
        if case let .waiting(seconds, _)? = reply, phase != .done {
            // Someone at the server decides (`--ask`): its own timeout ends the wait, with an answer, before ours.
            let wait = Double(seconds) + settings.replyTimeout
            return [.setDeadline(seconds: wait, message: "no answer to the header of \(path) within \(formatSeconds(wait)) of the server asking")]
        }
        if !inFlight.isEmpty { return answerPipelined(reply, line: line) }
        switch (phase, reply) {
        case (.awaitingReady, .ready?):
            phase = .streaming
            return [stallDeadline, .streamPayload(index: fileIndex)]
        case (.awaitingReady, .readyAt(let offset)?) where entries[fileIndex] == .resumableFile && offset <= size:
            phase = .streaming
            return [stallDeadline, offset > 0 ? .resumePayload(index: fileIndex, from: offset) : .streamPayload(index: fileIndex)]
        case (.awaitingResult, .saved(let name)?):
            return [.confirmed(index: fileIndex, savedAs: name, sha256: digest)] + nextFile()
        case (.awaitingReady, .error(let code, let message)?), (.awaitingResult, .error(let code, let message)?):
            allConfirmed = false
            let refused = Action.refused(index: fileIndex, reason: "\(code) \(message)")
            if Self.endsConnection(code) { return [refused] + finish(failure: "the server ended the session: \(code) \(message)") }
            return [refused] + nextFile()
        case (.streaming, .error(let code, let message)?):
            return [.refused(index: fileIndex, reason: "\(code) \(message)")] + finish(failure: "the server stopped \(path) part way")
        default:
            return finish(failure: "unexpected reply from the server: '\(line.sanitizedForDisplay)'; is it a netconsole file server (try --raw)?")
        }
    }

    /// A dead connection ends the session; an `ERR` line the server managed to send first is the better reason.
    private mutating func connectionLost(_ message: String) -> [Action] {
        if let line = replyBytes.split(separator: 0x0A).first,
           case let .error(code, reason)? = FileTransferReply(line: String(decoding: line, as: UTF8.self)) {
            return [.refused(index: fileIndex, reason: "\(code) \(reason)")]
                + finish(failure: "the server closed the connection: \(code) \(reason)")
        }
        let context = phase != .connecting && files.indices.contains(fileIndex) ? " while sending \(path)" : ""
        let hint = !peerHasAnswered && settings.suggestsTLS && phase != .connecting ? " (the server said nothing: if it speaks TLS, add --tls)" : ""
        return finish(failure: "\(message)\(context)\(hint)")
    }

    /// Codes after which the server closes the connection (bad request, no or wrong secret, incomplete stream, busy).
    public static func endsConnection(_ code: Int) -> Bool {
        code == FileTransferStatus.badRequest || code == FileTransferStatus.unauthorized || code == FileTransferStatus.incomplete
            || code == FileTransferStatus.busy
    }

    /// Whether `bytes` can be the start of a reply line, so a peer speaking something else is caught at once
    /// instead of after the reply timeout.
    public static func mayStartReply(_ bytes: [UInt8]) -> Bool {
        ["READY", "OK ", "ERR ", "WAIT "].contains { keyword in
            let word = Array(keyword.utf8)
            let common = min(word.count, bytes.count)
            return bytes.prefix(common).elementsEqual(word.prefix(common))
        }
    }
}
