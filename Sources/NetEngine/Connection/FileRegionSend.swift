/// What one attempt to send part of a file straight from the page cache (`sendfile`) did.
public enum FileRegionSend: Equatable, Sendable {
    /// The kernel took this many bytes (at least one).
    case sent(Int)
    /// The socket is full: the connection calls its handler's `connectionDrained` when it can take more.
    case full
    /// The file has no byte at that offset any more (it shrank).
    case endOfFile
    /// Not possible here (a TLS or in-memory transport, output already waiting, a watched connection, or a file the
    /// kernel cannot send this way): write the bytes instead.
    case unsupported
}
