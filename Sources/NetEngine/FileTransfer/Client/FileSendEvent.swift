#if canImport(Glibc)
import Glibc
#endif
import Crypto

/// What a `FileSender` reports, on its loop's thread.
public enum FileSendEvent {
    case connected(SocketAddress)
    case fileStarted(index: Int, path: String, size: Int64)
    case progress(index: Int, sent: Int64, size: Int64)
    /// The server saved the file. In raw mode `savedAs` is the name from the peer's `OK` line, or "" when the peer
    /// only closed the connection (all bytes were delivered, nothing more is known).
    case fileConfirmed(index: Int, savedAs: String, sha256: String)
    case fileRefused(index: Int, reason: String)
    /// The server had the first `offset` bytes of the file from an interrupted attempt; only the rest is sent.
    case resumed(index: Int, offset: Int64, size: Int64)
    /// A folder of a tree was made on the server, as `savedAs` (relative to its upload folder).
    case folderConfirmed(index: Int, savedAs: String)
    /// A connection-level error; the session ends.
    case failed(String)
    case finished(allConfirmed: Bool)
}
