#if canImport(Glibc)
import Glibc
#endif

/// The file server's default: a connection whose first bytes are the framed header's magic (`NCFT`) speaks the
/// framed protocol (`FileUploadHandler`); anything else is a raw upload (`RawUploadHandler`, the lab's and netcat's
/// way: bytes until EOF), with the same size limit, temporary file, publish and empty-upload rules. So `send`, `nc`
/// and a student's file client can all use one port. A raw file that itself starts with `NCFT` is taken for framed
/// and refused as a bad header; `serve --raw` forces raw for such files.
public final class FramedOrRawUploadHandler: ConnectionHandler {
    private let store: UploadStore
    private var chosen: ConnectionHandler?
    /// The first bytes while they are still a prefix of the magic (at most 3).
    private var prefix: [UInt8] = []
    private var refused = false

    public init(store: UploadStore) {
        self.store = store
    }

    public func connectionStarted(_ connection: Connection) {
        let timeout = connection.limits.headerTimeout
        connection.setDeadline(after: timeout, reason: "nothing received within \(formatSeconds(timeout))")
    }

    public func connection(_ connection: Connection, received bytes: UnsafeRawBufferPointer) {
        if refused { return }
        if let chosen {
            chosen.connection(connection, received: bytes)
            return
        }
        let magic = FileTransferProtocol.headerMagic
        let seen = prefix + bytes.prefix(magic.count - prefix.count)
        if seen.count < magic.count && seen.elementsEqual(magic.prefix(seen.count)) {
            prefix = seen
            return
        }
        let framed = seen.elementsEqual(magic)
        if !framed && refusesRaw { return refuseRaw(connection) }
        let handler: ConnectionHandler = framed ? FileUploadHandler(store: store) : RawUploadHandler(store: store)
        choose(handler, on: connection)
        let held = prefix
        prefix = []
        if !held.isEmpty { held.withUnsafeBytes { handler.connection(connection, received: $0) } }
        if !connection.isClosed { handler.connection(connection, received: bytes) }
    }

    public func connectionReachedEnd(_ connection: Connection) {
        if refused { return }
        if chosen == nil && refusesRaw { return refuseRaw(connection) }
        if chosen == nil {
            // Nothing, or only the start of the magic: what arrived is a (tiny) raw upload.
            choose(RawUploadHandler(store: store), on: connection)
            let held = prefix
            prefix = []
            if !held.isEmpty { held.withUnsafeBytes { chosen?.connection(connection, received: $0) } }
        }
        chosen?.connectionReachedEnd(connection)
    }

    public func connectionDeadlinePassed(_ connection: Connection, reason: String) {
        if let chosen {
            chosen.connectionDeadlinePassed(connection, reason: reason)
        } else {
            connection.emit(.uploadRejected(id: connection.id, reason: reason))
            connection.fail(SocketError(code: ETIMEDOUT, message: reason))
        }
    }

    public func connectionClosed(_ connection: Connection, error: SocketError?) {
        chosen?.connectionClosed(connection, error: error)
    }

    /// A raw upload carries no secret, so a server that has one takes none, and stores no byte of it.
    /// A raw upload has no name or size to check a secret against or to ask about (`--ask`).
    private var refusesRaw: Bool { store.options.secret != nil || store.options.approval != nil }

    private func refuseRaw(_ connection: Connection) {
        let message = store.options.secret != nil
            ? "raw uploads are refused: this server needs the shared secret (netconsole send --secret-file FILE)"
            : "raw uploads are refused: this server asks before each upload, which needs a name and size (netconsole send)"
        let code = store.options.secret != nil ? FileTransferStatus.unauthorized : FileTransferStatus.refused
        refused = true
        prefix = []
        connection.clearDeadline()
        connection.emit(.uploadRejected(id: connection.id, reason: "\(code) \(message)"))
        connection.write(FileTransferReply.error(code: code, message: message).line)
        connection.closeWhenFlushed()
    }

    private func choose(_ handler: ConnectionHandler, on connection: Connection) {
        chosen = handler
        connection.clearDeadline()
        handler.connectionStarted(connection)
    }
}
