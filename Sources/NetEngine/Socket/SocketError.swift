#if canImport(Glibc)
import Glibc
#endif
import CLinux

/// A failed socket call: the errno it set and a message a person can act on.
public struct SocketError: NetError, Equatable {
    public let code: Int32
    public let message: String

    public init(code: Int32, message: String) {
        self.code = code
        self.message = message
    }

    /// Builds the error for `errno` after `operation` failed; `subject` names what it was done to (an address, a file).
    public init(errno code: Int32, operation: String, subject: String? = nil) {
        self.code = code
        self.message = SocketError.describe(code: code, operation: operation, subject: subject)
    }


    static func describe(code: Int32, operation: String, subject: String?) -> String {
        let suffix = subject.map { ": \($0)" } ?? ""
        switch code {
        case EADDRINUSE: return "address already in use\(suffix)"
        case ECONNREFUSED: return "connection refused\(suffix)"
        case EHOSTUNREACH: return "host unreachable\(suffix)"
        case ENETUNREACH: return "network unreachable\(suffix)"
        case ETIMEDOUT: return "connection timed out\(suffix)"
        case EADDRNOTAVAIL: return "address not available on this machine\(suffix)"
        case EACCES: return "permission denied\(suffix)"
        case ECONNRESET: return "connection reset by peer\(suffix)"
        case EPIPE: return "connection closed by peer\(suffix)"
        case EMFILE, ENFILE: return "too many open files\(suffix)"
        default:
            let reason = String(cString: strerror(code))
            return "\(operation) failed: \(reason.lowercased())\(suffix)"
        }
    }
}

/// Retries `call` while it fails with EINTR; returns its result or throws the errno as a `SocketError`.
@inline(__always)
func retryingEINTR<T: BinaryInteger>(_ operation: String, subject: @autoclosure () -> String? = nil, _ call: () -> T) throws -> T {
    while true {
        let result = call()
        if result >= 0 { return result }
        let code = errno
        if code == EINTR { continue }
        throw SocketError(errno: code, operation: operation, subject: subject())
    }
}
