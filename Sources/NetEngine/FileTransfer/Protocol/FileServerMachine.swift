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
        /// Make a temporary file for `name` of `size` bytes, then call `opened`.
        case open(name: String, size: Int64)
        /// Write these bytes of the input (offsets into the buffer given to `receive`) to the temporary file.
        case store(Range<Int>)
        /// Verify against `sha256`, make durable and publish the file as `name`, then call `published`.
        case publish(name: String, sha256: [UInt8])
        /// Remove the current temporary file.
        case discard
        case reply(FileTransferReply)
        /// Report a refused or abandoned upload (`uploadRejected`).
        case rejected(String)
        /// Close once the replies are sent.
        case close
        /// Drop the connection now with `reason`.
        case drop(reason: String)
    }

    private struct Transfer: Equatable {
        let name: String
        let size: Int64
        /// Set when the temporary file could not be written: the rest is read and dropped, then refused.
        var failure: String?
    }

    private enum Stage: Equatable {
        case header
        case opening(Transfer)
        case receiving(Transfer)
        case publishing(String)
        case stopped
    }

    public let settings: Settings
    private var decoder = FileTransferDecoder()
    private var stage = Stage.header

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
                return [.rejected(failure), .reply(.error(code: FileTransferStatus.cannotWrite, message: failure)), .expectHeader]
            }
            stage = .publishing(transfer.name)
            return [.clearDeadline, .publish(name: transfer.name, sha256: digest)]
        }
    }

    /// The answer to `open`: nil when the temporary file is ready, else the refusal's code and message.
    public mutating func opened(refusal: (code: Int, message: String)?) -> [Action] {
        guard case let .opening(transfer) = stage else { return [] }
        if let refusal {
            stage = .header
            return refuse(code: refusal.code, message: refusal.message)
        }
        stage = .receiving(transfer)
        return [.reply(.ready)]
    }

    /// A write to the temporary file failed with `message`: the file is dropped, the rest of it read and refused.
    public mutating func storeFailed(_ message: String) -> [Action] {
        guard case var .receiving(transfer) = stage, transfer.failure == nil else { return [] }
        transfer.failure = message
        stage = .receiving(transfer)
        return [.discard]
    }

    /// The answer to `publish`: the reply to send (`OK name`, or the `ERR` that says why not).
    public mutating func published(_ reply: FileTransferReply) -> [Action] {
        guard isPublishing else { return [] }
        stage = .header
        return [.reply(reply), .expectHeader]
    }

    /// The upload is slower than the server allows.
    public mutating func tooSlow(_ message: String) -> [Action] {
        guard stage != .stopped else { return [] }
        return refuseAndClose(code: FileTransferStatus.incomplete, message: message)
    }

    /// The client finished sending (EOF): fine between files, an incomplete upload anywhere else.
    public mutating func peerEnded() -> [Action] {
        var actions: [Action] = []
        let message: String?
        switch stage {
        case let .receiving(transfer), let .opening(transfer):
            let received = transfer.size - decoder.remainingPayload
            message = received < transfer.size
                ? "connection ended after \(received) of \(transfer.size) bytes of \(transfer.name)"
                : "connection ended before the trailer of \(transfer.name)"
            actions.append(.discard)
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
        let discard: [Action] = hasTemporaryFile ? [.discard] : []
        stage = .stopped
        return discard + [.rejected("\(FileTransferStatus.incomplete) \(reason)"),
                          .reply(.error(code: FileTransferStatus.incomplete, message: reason)), .drop(reason: reason)]
    }

    /// The connection is gone (`why`: how); an upload in progress is abandoned.
    public mutating func connectionClosed(why: String) -> [Action] {
        var actions: [Action] = []
        if case let .receiving(transfer) = stage {
            actions = [.discard, .rejected("\(transfer.name): \(why) before the upload finished")]
        }
        if stage != .stopped && !isPublishing { stage = .stopped }
        return actions
    }

    // MARK: Pieces

    private var hasTemporaryFile: Bool {
        if case .receiving = stage { return true } else { return false }
    }

    private mutating func begin(_ header: FileHeader) -> [Action] {
        if let refusal = secretRefusal(header) {
            // The connection ends: a guesser gets one try per connection, and no payload byte is ever read for it.
            return [.clearDeadline] + refuseAndClose(code: FileTransferStatus.unauthorized, message: refusal)
        }
        let name = SafeFileName.sanitize(header.name)
        var actions: [Action] = [.clearDeadline, .started(name: name, size: header.size)]
        if header.size > settings.maxSize {
            let pair = ByteCount.formatApart(header.size, settings.maxSize)
            return actions + refuse(code: FileTransferStatus.tooLarge,
                                    message: "\(name) is \(pair.0), larger than this server's limit of \(pair.1)")
        }
        stage = .opening(Transfer(name: name, size: header.size))
        actions.append(.open(name: name, size: header.size))
        return actions
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

    private mutating func refuseAndClose(code: Int, message: String) -> [Action] {
        let discard: [Action] = hasTemporaryFile ? [.discard] : []
        stage = .stopped
        return discard + [.rejected("\(code) \(message)"), .reply(.error(code: code, message: message)), .close]
    }
}
