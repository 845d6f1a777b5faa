#if canImport(Glibc)
import Glibc
#endif

/// Raw mode, as in the lab and netcat (`nc -l > file`): every byte of the connection until EOF becomes one new file,
/// named after the time it arrived. On EOF the server answers `OK <name>` and closes; a connection that ends with an
/// error, grows past the size limit, stalls or crawls leaves no file, and neither does one that sent nothing at all (a
/// port probe or health check) unless `keepEmpty` asks for it.
public final class RawUploadHandler: ConnectionHandler {
    private let store: UploadStore
    private var options: FileServerOptions { store.options }
    private var upload: PendingUpload?
    private var name = ""
    private var progress = ProgressThrottle()
    private var pace = UploadPace()

    /// `store` is shared by every connection of the server.
    public init(store: UploadStore) {
        self.store = store
    }

    public func connectionStarted(_ connection: Connection) {
        name = Self.timestampedName()
        do {
            upload = try store.begin()
        } catch {
            let message = "cannot store an upload: \(error)"
            connection.emit(.uploadRejected(id: connection.id, reason: message))
            connection.write(FileTransferReply.error(code: FileTransferStatus.cannotWrite, message: message).line)
            connection.closeWhenFlushed()
            return
        }
        connection.emit(.uploadStarted(id: connection.id, name: name, size: nil))
        _ = pace.received(0, of: name, options: options, on: connection)
    }

    public func connection(_ connection: Connection, received bytes: UnsafeRawBufferPointer) {
        guard let upload else { return }
        if upload.written + Int64(bytes.count) > options.maxSize {
            let message = "upload is larger than this server's limit of \(ByteCount.format(options.maxSize))"
            fail(connection, code: FileTransferStatus.tooLarge, message: message)
            return
        }
        do {
            try upload.write(bytes)
        } catch {
            fail(connection, code: FileTransferStatus.cannotWrite, message: "cannot write \(name): \(error)")
            return
        }
        if let tooSlow = pace.received(bytes.count, of: name, options: options, on: connection) {
            fail(connection, code: FileTransferStatus.incomplete, message: tooSlow)
            return
        }
        if progress.shouldReport(received: upload.written, total: nil) {
            connection.emit(.uploadProgress(id: connection.id, received: upload.written, size: nil))
        }
    }

    public func connectionReachedEnd(_ connection: Connection) {
        guard let upload else {
            connection.closeWhenFlushed()
            return
        }
        self.upload = nil
        connection.clearDeadline()
        if upload.written == 0 && !options.keepEmpty {
            upload.discard()
            let message = "nothing received; an empty upload is not saved"
            connection.emit(.uploadRejected(id: connection.id, reason: "\(name): \(message)"))
            connection.write(FileTransferReply.error(code: FileTransferStatus.incomplete, message: message).line)
            connection.closeWhenFlushed()
            return
        }
        let name = self.name
        WorkerPool.disk.run({ Result { try upload.publish(as: name, expectedSHA256: nil) } }, thenOn: connection.loop) { result in
            switch result {
            case let .success(saved):
                connection.emit(.fileSaved(id: connection.id, path: saved.path, size: saved.size, sha256: saved.sha256))
                connection.write(FileTransferReply.saved(name: saved.name).line)
            case let .failure(error):
                let message = "cannot save \(name): \(error)"
                connection.emit(.uploadRejected(id: connection.id, reason: message))
                connection.write(FileTransferReply.error(code: FileTransferStatus.cannotWrite, message: message).line)
            }
            connection.closeWhenFlushed()
        }
    }

    public func connectionClosed(_ connection: Connection, error: SocketError?) {
        guard let upload else { return }
        self.upload = nil
        upload.discard()
        let why = error?.message ?? "connection closed"
        connection.emit(.uploadRejected(id: connection.id, reason: "\(name): \(why) before the end of the stream; nothing saved"))
    }

    public func connectionDeadlinePassed(_ connection: Connection, reason: String) {
        fail(connection, code: FileTransferStatus.incomplete, message: reason)
    }

    /// Drops the partial file, tells the peer why, and closes (the kernel resets it if the peer is still sending).
    private func fail(_ connection: Connection, code: Int, message: String) {
        upload?.discard()
        upload = nil
        connection.emit(.uploadRejected(id: connection.id, reason: message))
        connection.write(FileTransferReply.error(code: code, message: message).line)
        connection.closeWhenFlushed()
    }

    /// "upload-20250131-142502": the local time the connection arrived (a suffix keeps simultaneous ones apart).
    static func timestampedName() -> String {
        var now = time(nil)
        var parts = tm()
        localtime_r(&now, &parts)
        func pad(_ value: Int32, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "upload-\(pad(parts.tm_year + 1900, 4))\(pad(parts.tm_mon + 1, 2))\(pad(parts.tm_mday, 2))-"
            + "\(pad(parts.tm_hour, 2))\(pad(parts.tm_min, 2))\(pad(parts.tm_sec, 2))"
    }
}
