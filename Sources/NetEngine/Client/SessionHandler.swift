/// A conversation with any TCP peer (not only our echo or file servers): what arrives is reported the moment it
/// arrives, what the user types is sent when asked, and the end says why. The `connect` command and a console
/// session both sit on it.
public final class SessionHandler: ConnectionHandler {
    public enum Event {
        case opened(Connection)
        /// Bytes from the peer (valid during the call only).
        case received(UnsafeRawBufferPointer)
        /// The peer finished sending (its FIN); we may still send.
        case peerFinished
        /// The connection is gone: nil after an orderly end, else why (reset, timeout, ...).
        case closed(SocketError?)
    }

    private let onEvent: (Event) -> Void
    private weak var connection: Connection?

    public init(onEvent: @escaping (Event) -> Void) {
        self.onEvent = onEvent
    }

    /// Sends `bytes` (buffered while the peer is slow to read).
    public func send(_ bytes: [UInt8]) {
        connection?.write(bytes)
    }

    /// Half-close: a FIN once everything is sent; answers still arrive.
    public func finishSending() {
        connection?.shutdownWrite()
    }

    public func close() {
        connection?.close()
    }

    public func connectionStarted(_ connection: Connection) {
        self.connection = connection
        onEvent(.opened(connection))
    }

    public func connection(_ connection: Connection, received bytes: UnsafeRawBufferPointer) {
        onEvent(.received(bytes))
    }

    public func connectionReachedEnd(_ connection: Connection) {
        onEvent(.peerFinished)
        // Once both sides are done, the conversation is over; until then keep the way open for what we still send.
        if connection.isWriteShutDown { connection.closeWhenFlushed() }
    }

    public func connectionClosed(_ connection: Connection, error: SocketError?) {
        onEvent(.closed(error))
    }
}
