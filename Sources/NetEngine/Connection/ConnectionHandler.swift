#if canImport(Glibc)
import Glibc
#endif

/// The behaviour of one accepted connection (echo, file upload, ...), kept apart from the socket I/O
/// that `Connection` does: the handler sees bytes and decides what to write back.
public protocol ConnectionHandler: AnyObject {
    /// The connection is open and registered.
    func connectionStarted(_ connection: Connection)
    /// Bytes arrived. They are only valid during the call.
    func connection(_ connection: Connection, received bytes: UnsafeRawBufferPointer)
    /// Output that had to wait for the peer has all been sent (not called when a write went out at once), or a
    /// `sendFile` that found the socket full can go on.
    func connectionDrained(_ connection: Connection)
    /// The peer finished sending (EOF). The default closes once pending output is flushed.
    func connectionReachedEnd(_ connection: Connection)
    /// The deadline set with `Connection.setDeadline` passed. The default drops the connection with `reason`.
    func connectionDeadlinePassed(_ connection: Connection, reason: String)
    /// The connection is gone: `error` is nil after an orderly close.
    func connectionClosed(_ connection: Connection, error: SocketError?)
}

extension ConnectionHandler {
    public func connectionStarted(_ connection: Connection) {}
    public func connectionDrained(_ connection: Connection) {}
    public func connectionReachedEnd(_ connection: Connection) { connection.closeWhenFlushed() }
    public func connectionDeadlinePassed(_ connection: Connection, reason: String) {
        connection.fail(SocketError(code: ETIMEDOUT, message: reason))
    }
    public func connectionClosed(_ connection: Connection, error: SocketError?) {}
}
