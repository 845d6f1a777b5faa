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

extension FileSendEvent {
    /// The same event with its file index moved by `offset` (a session that goes on from a later file).
    func shifted(by offset: Int) -> FileSendEvent {
        guard offset != 0 else { return self }
        switch self {
        case let .fileStarted(index, path, size): return .fileStarted(index: index + offset, path: path, size: size)
        case let .progress(index, sent, size): return .progress(index: index + offset, sent: sent, size: size)
        case let .fileConfirmed(index, savedAs, sha256): return .fileConfirmed(index: index + offset, savedAs: savedAs, sha256: sha256)
        case let .fileRefused(index, reason): return .fileRefused(index: index + offset, reason: reason)
        case let .resumed(index, offset2, size): return .resumed(index: index + offset, offset: offset2, size: size)
        case let .folderConfirmed(index, savedAs): return .folderConfirmed(index: index + offset, savedAs: savedAs)
        case .connected, .failed, .finished: return self
        }
    }
}
