#if canImport(Glibc)
import Glibc
#endif

/// The upload folder or a file in it could not be used: a system call on it failed (with its errno), or the store
/// refused (a swapped temporary file, too many files of one name).
public struct StorageError: NetError, Equatable {
    /// The errno, when a system call failed.
    public let code: Int32?
    public let message: String

    public init(_ message: String, code: Int32? = nil) {
        self.code = code
        self.message = message
    }

    /// The error for `errno` after `operation` failed on `subject`, worded like the socket errors.
    public init(errno code: Int32, operation: String, subject: String? = nil) {
        self.code = code
        message = SocketError.describe(code: code, operation: operation, subject: subject)
    }
}
