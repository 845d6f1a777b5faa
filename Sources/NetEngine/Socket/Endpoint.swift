#if canImport(Glibc)
import Glibc
#endif
import CLinux

/// A host and port as a person types them: "127.0.0.1:12345", "localhost:80", "[::1]:9000", or ":12345".
public struct Endpoint: CustomStringConvertible, Equatable, Sendable {
    public var host: String
    public var port: UInt16

    public init(host: String, port: UInt16) {
        self.host = host
        self.port = port
    }

    /// Parses "HOST:PORT"; a bare "PORT" or ":PORT" means `defaultHost`.
    public init(parsing text: String, defaultHost: String = "127.0.0.1") throws {
        let trimmed = text.trimmingWhitespace()
        var hostPart = defaultHost
        var portPart = trimmed
        if trimmed.hasPrefix("[") {
            guard let close = trimmed.firstIndex(of: "]") else {
                throw AddressError("bad address '\(text)': missing ']'")
            }
            hostPart = String(trimmed[trimmed.index(after: trimmed.startIndex)..<close])
            let rest = trimmed[trimmed.index(after: close)...]
            guard rest.hasPrefix(":") else {
                throw AddressError("bad address '\(text)': expected [HOST]:PORT")
            }
            portPart = String(rest.dropFirst())
        } else if let colon = trimmed.lastIndex(of: ":") {
            if trimmed.firstIndex(of: ":") != colon {
                throw AddressError("bad address '\(text)': write IPv6 hosts as [HOST]:PORT")
            }
            let h = String(trimmed[..<colon])
            if !h.isEmpty { hostPart = h }
            portPart = String(trimmed[trimmed.index(after: colon)...])
        }
        guard let port = UInt16(portPart) else {
            throw AddressError("bad address '\(text)': port must be a number from 0 to 65535")
        }
        self.host = hostPart
        self.port = port
    }

    public var description: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}
