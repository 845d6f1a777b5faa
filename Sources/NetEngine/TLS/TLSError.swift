import COpenSSL

/// A TLS failure a person can act on: a handshake that failed, a certificate not trusted, a file that is not a key.
public struct TLSError: NetError, Equatable {
    public let message: String

    public init(_ message: String) {
        self.message = message
    }

    /// The reason of OpenSSL's oldest queued error (its queue is emptied), or nil when the queue is empty.
    static func takeOpenSSLReason() -> String? {
        let code = ERR_get_error()
        defer { ERR_clear_error() }
        guard code != 0 else { return nil }
        if let reason = netconsole_error_reason(code) { return String(cString: reason) }
        var buffer = [CChar](repeating: 0, count: 256)
        ERR_error_string_n(code, &buffer, buffer.count)
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// `what` failed, with OpenSSL's reason when it gave one.
    static func openSSL(_ what: String) -> TLSError {
        TLSError(what + (takeOpenSSLReason().map { ": \($0)" } ?? ""))
    }
}
