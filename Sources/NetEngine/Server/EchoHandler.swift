/// Sends every byte back as it arrives, until the peer closes (binary safe; output is flushed before closing).
public final class EchoHandler: ConnectionHandler {
    public init() {}

    public func connection(_ connection: Connection, received bytes: UnsafeRawBufferPointer) {
        connection.write(bytes)
    }
}
