#if canImport(Glibc)
import Glibc
#endif
import Crypto

/// A file that cannot be sent (missing, a folder, unreadable), with a message that says which and why.
public struct FileSendError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public var description: String { message }
}
