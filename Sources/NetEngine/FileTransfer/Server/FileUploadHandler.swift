#if canImport(Glibc)
import Glibc
#endif

/// Serves the framed protocol on one connection: for each file, header → `READY` (or `ERR`), payload streamed to a
/// temporary file while hashing, trailer → `OK <name>` (or `ERR`). Files may follow each other on one connection.
public final class FileUploadHandler: ConnectionHandler {
    private let store: UploadStore
    private var options: FileServerOptions { store.options }
    private var decoder = FileTransferDecoder()
    private var current: Transfer?
    private var stopped = false
    /// A finished file is being made durable and published off the loop; input waits until its answer is written.
    private var publishing = false
    /// A header waits for `options.approval` (`--ask`): input waits until it is answered.
    private var asking = false
    private var askTimer: EventLoop.TimerToken?
    /// Bytes that came after a trailer in the same read, handled once the answer to that file is out.
    private var deferred: [UInt8] = []

    private struct Transfer {
        let header: FileHeader
        let safeName: String
        /// nil when the upload failed mid-stream: its bytes are read and dropped so the answer can follow the trailer.
        var upload: PendingUpload?
        var failure: String?
        var progress = ProgressThrottle()
        var pace = UploadPace()
    }

    /// `store` is shared by every connection of the server.
    public init(store: UploadStore) {
        self.store = store
    }

    public func connectionStarted(_ connection: Connection) {
        expectHeader(connection)
    }

    private func expectHeader(_ connection: Connection) {
        let timeout = connection.limits.headerTimeout
        connection.setDeadline(after: timeout, reason: "no complete file header within \(formatSeconds(timeout))")
    }

    public func connection(_ connection: Connection, received bytes: UnsafeRawBufferPointer) {
        if publishing || asking {
            deferred.append(contentsOf: bytes)
            return
        }
        // Trailer bytes: slow ones are still progress, and still count against the minimum rate.
        if current != nil, decoder.remainingPayload == 0, !keepsPace(bytes.count, on: connection) { return }
        var offset = 0
        while !stopped && !connection.isClosed {
            let event: FileTransferDecoder.Event?
            do {
                event = try decoder.next(bytes, offset: &offset)
            } catch let error as FileTransferError {
                refuseAndClose(connection, code: error.code, message: error.message)
                return
            } catch { return }
            guard let event else { return }
            switch event {
            case let .header(header):
                begin(header, on: connection)
                if asking {
                    deferred.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[offset...]))
                    return
                }
            case let .data(slice): store(slice, on: connection)
            case let .trailer(digest):
                finish(expecting: digest, on: connection)
                if publishing {
                    deferred.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[offset...]))
                    return
                }
            }
        }
    }

    // MARK: One file

    private func begin(_ header: FileHeader, on connection: Connection) {
        connection.clearDeadline()
        if let refusal = secretRefusal(header) {
            // The connection ends: a guesser gets one try per connection, and no payload byte is ever read for it.
            refuseAndClose(connection, code: FileTransferStatus.unauthorized, message: refusal)
            return
        }
        let safeName = SafeFileName.sanitize(header.name)
        connection.emit(.uploadStarted(id: connection.id, name: safeName, size: header.size))
        if header.size > options.maxSize {
            let pair = ByteCount.formatApart(header.size, options.maxSize)
            refuse(connection, code: FileTransferStatus.tooLarge,
                   message: "\(safeName) is \(pair.0), larger than this server's limit of \(pair.1)")
            return
        }
        if let free = store.availableBytes(), header.size > free {
            refuse(connection, code: FileTransferStatus.cannotWrite,
                   message: "not enough space for \(safeName): \(ByteCount.formatApart(header.size, free).0) needed, \(ByteCount.formatApart(header.size, free).1) free")
            return
        }
        if let approval = options.approval {
            return ask(approval, header, safeName, on: connection)
        }
        startStoring(header, safeName, on: connection)
    }

    /// Stops reading, tells the client to wait, and asks; the answer (or the timeout) goes on with the upload or
    /// refuses it, and reading resumes either way.
    private func ask(_ approval: UploadApproval, _ header: FileHeader, _ safeName: String, on connection: Connection) {
        asking = true
        connection.setReadingPaused(true)
        let timeout = options.approvalTimeout
        connection.write(FileTransferReply.waiting(seconds: Int(timeout.rounded(.up)), message: "asking whether to accept \(safeName)").line)
        let decision = UploadDecision { [weak self, weak connection] accepted, reason in
            guard let self, let connection else { return }
            asking = false
            if let askTimer { connection.loop.cancel(askTimer) }
            askTimer = nil
            guard !connection.isClosed, !stopped else { return }
            if accepted {
                startStoring(header, safeName, on: connection)
            } else {
                refuse(connection, code: FileTransferStatus.refused, message: reason ?? "\(safeName) refused by the server's operator")
            }
            resumeReading(connection)
        }
        askTimer = connection.loop.schedule(after: timeout) { [weak decision] in
            decision?.expire(reason: "\(safeName) not accepted: no answer within \(formatSeconds(timeout))")
        }
        approval.ask(UploadRequest(connectionID: connection.id, name: safeName, size: header.size, peer: connection.peer), decision)
    }

    private func startStoring(_ header: FileHeader, _ safeName: String, on connection: Connection) {
        let upload: PendingUpload
        do {
            upload = try store.begin()
        } catch {
            refuse(connection, code: FileTransferStatus.cannotWrite, message: "cannot store \(safeName): \(error)")
            return
        }
        current = Transfer(header: header, safeName: safeName, upload: upload)
        _ = current!.pace.received(0, of: safeName, options: options, on: connection)
        connection.write(FileTransferReply.ready.line)
    }

    /// Why the header may not upload under the server's secret, or nil.
    private func secretRefusal(_ header: FileHeader) -> String? {
        guard let secret = options.secret else { return nil }
        guard let offered = header.secret else {
            return "this server needs the shared secret: send with --secret-file FILE"
        }
        return secret.matches(offered) ? nil : "wrong secret"
    }

    /// Refuses the file just announced; the client sends nothing more for it, so the connection stays usable.
    private func refuse(_ connection: Connection, code: Int, message: String) {
        decoder.skipCurrentFile()
        connection.emit(.uploadRejected(id: connection.id, reason: "\(code) \(message)"))
        connection.write(FileTransferReply.error(code: code, message: message).line)
        expectHeader(connection)
    }

    private func store(_ slice: UnsafeRawBufferPointer, on connection: Connection) {
        guard var transfer = current else { return }
        if let upload = transfer.upload {
            do {
                try upload.write(slice)
            } catch {
                upload.discard()
                transfer.upload = nil
                transfer.failure = "cannot write \(transfer.safeName): \(error)"
            }
        }
        current = transfer
        guard keepsPace(slice.count, on: connection), var transfer = current else { return }
        let received = transfer.header.size - decoder.remainingPayload
        if transfer.progress.shouldReport(received: received, total: transfer.header.size) {
            connection.emit(.uploadProgress(id: connection.id, received: received, size: transfer.header.size))
        }
        current = transfer
    }

    /// Counts `count` bytes of the current file towards its pace (stall deadline, minimum rate); false when the upload
    /// was too slow and the connection is being refused.
    private func keepsPace(_ count: Int, on connection: Connection) -> Bool {
        guard var transfer = current else { return true }
        let tooSlow = transfer.pace.received(count, of: transfer.safeName, options: options, on: connection)
        current = transfer
        guard let tooSlow else { return true }
        refuseAndClose(connection, code: FileTransferStatus.incomplete, message: tooSlow)
        return false
    }

    private func finish(expecting digest: [UInt8], on connection: Connection) {
        guard let transfer = current else { return }
        current = nil
        let name = transfer.safeName
        guard let upload = transfer.upload else {
            let message = transfer.failure ?? "cannot write \(name)"
            connection.emit(.uploadRejected(id: connection.id, reason: message))
            answer(.error(code: FileTransferStatus.cannotWrite, message: message), on: connection)
            return
        }
        publishing = true
        connection.setReadingPaused(true)
        connection.clearDeadline()
        WorkerPool.disk.run({ Result { try upload.publish(as: name, expectedSHA256: digest) } }, thenOn: connection.loop) { [self] result in
            publishing = false
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
            guard !connection.isClosed, !stopped else { return }
            answer(reply, on: connection)
            resumeReading(connection)
        }
    }

    /// Reads again, starting with the bytes that arrived while it waited.
    private func resumeReading(_ connection: Connection) {
        connection.setReadingPaused(false)
        if !deferred.isEmpty {
            let rest = deferred
            deferred = []
            rest.withUnsafeBytes { self.connection(connection, received: $0) }
        }
    }

    private func answer(_ reply: FileTransferReply, on connection: Connection) {
        connection.write(reply.line)
        expectHeader(connection)
    }

    // MARK: Ending

    private func refuseAndClose(_ connection: Connection, code: Int, message: String) {
        abandonCurrent(connection, reason: nil)
        stopped = true
        connection.emit(.uploadRejected(id: connection.id, reason: "\(code) \(message)"))
        connection.write(FileTransferReply.error(code: code, message: message).line)
        connection.closeWhenFlushed()
    }

    public func connectionReachedEnd(_ connection: Connection) {
        if current != nil || !decoder.isBetweenFiles {
            let message: String
            if let transfer = current {
                let received = transfer.header.size - decoder.remainingPayload
                message = received < transfer.header.size
                    ? "connection ended after \(received) of \(transfer.header.size) bytes of \(transfer.safeName)"
                    : "connection ended before the trailer of \(transfer.safeName)"
            } else {
                message = "connection ended in the middle of a file header"
            }
            abandonCurrent(connection, reason: nil)
            connection.emit(.uploadRejected(id: connection.id, reason: message))
            connection.write(FileTransferReply.error(code: FileTransferStatus.incomplete, message: message).line)
        }
        stopped = true
        connection.closeWhenFlushed()
    }

    /// A header that never completed, or a stalled upload: the client is told why before the connection is dropped.
    public func connectionDeadlinePassed(_ connection: Connection, reason: String) {
        abandonCurrent(connection, reason: nil)
        stopped = true
        connection.emit(.uploadRejected(id: connection.id, reason: "\(FileTransferStatus.incomplete) \(reason)"))
        connection.write(FileTransferReply.error(code: FileTransferStatus.incomplete, message: reason).line)
        connection.fail(SocketError(code: ETIMEDOUT, message: reason))
    }

    public func connectionClosed(_ connection: Connection, error: SocketError?) {
        if let askTimer { connection.loop.cancel(askTimer) }
        askTimer = nil
        if let transfer = current {
            let why = error?.message ?? "connection closed"
            abandonCurrent(connection, reason: "\(transfer.safeName): \(why) before the upload finished")
        }
        stopped = true
    }

    /// Removes the temporary file of the upload in progress, if any, and reports why (when `reason` is given).
    private func abandonCurrent(_ connection: Connection, reason: String?) {
        guard let transfer = current else { return }
        current = nil
        transfer.upload?.discard()
        if let reason { connection.emit(.uploadRejected(id: connection.id, reason: reason)) }
    }
}
