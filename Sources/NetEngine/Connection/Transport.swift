/// The byte pipe under a `Connection`: a non-blocking TCP socket today; TLS, or an in-memory pipe in tests, beside it
/// without another copy of the connection's I/O.
public protocol Transport: AnyObject {
    /// The descriptor the event loop watches, or -1 for a transport no loop polls (an in-memory pipe).
    var descriptor: Int32 { get }
    /// Sends what the transport takes now (0 when it is full); throws a `SocketError` when the connection is broken.
    func send(_ bytes: UnsafeRawBufferPointer) throws -> Int
    /// Receives into `buffer`: the count, 0 at the end of the stream, nil when nothing is waiting.
    func receive(into buffer: UnsafeMutableRawBufferPointer) throws -> Int?
    /// Makes the next close a reset (RST) instead of an orderly end.
    func setResetOnClose() throws
    /// Ends the sending direction (FIN); receiving goes on.
    func shutdownWrite()
    func close()
    /// Whether an opening exchange (a TLS handshake) must finish before the connection carries data.
    var needsHandshake: Bool { get }
    /// Takes the opening exchange as far as it goes now: `.done`, or which readiness it waits for. Throws a
    /// `NetError` saying why it failed.
    func advanceHandshake() throws -> HandshakeStep
    /// Whether received bytes wait inside the transport (decrypted, not yet taken): no readiness event will say so.
    var hasBufferedInput: Bool { get }
}

extension Transport {
    public var needsHandshake: Bool { false }
    public func advanceHandshake() throws -> HandshakeStep { .done }
    public var hasBufferedInput: Bool { false }
}

extension Socket: Transport {
    public func shutdownWrite() { shutdown(.write) }
}
