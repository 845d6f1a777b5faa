#if canImport(Glibc)
import Glibc
#endif
import CLinux

/// An IPv4 or IPv6 socket address, stored as the kernel's `sockaddr_storage`.
public struct SocketAddress: CustomStringConvertible, Hashable, Sendable {
    var storage: sockaddr_storage
    public let length: socklen_t

    public init(storage: sockaddr_storage, length: socklen_t) {
        self.storage = storage
        self.length = length
    }

    public var family: Int32 { Int32(storage.ss_family) }

    public var port: UInt16 {
        var copy = storage
        return withUnsafePointer(to: &copy) { raw in
            raw.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { UInt16(bigEndian: $0.pointee.sin_port) }
            // sin_port and sin6_port share the same offset.
        }
    }

    /// The numeric host, without brackets: "127.0.0.1" or "::1".
    public var host: String {
        var copy = storage
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        return withUnsafePointer(to: &copy) { raw -> String in
            if family == AF_INET6 {
                return raw.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { sin6 in
                    var addr = sin6.pointee.sin6_addr
                    inet_ntop(AF_INET6, &addr, &buffer, socklen_t(buffer.count))
                    return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                }
            }
            return raw.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { sin in
                var addr = sin.pointee.sin_addr
                inet_ntop(AF_INET, &addr, &buffer, socklen_t(buffer.count))
                return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            }
        }
    }

    /// "127.0.0.1:12345" or "[::1]:12345".
    public var description: String {
        family == AF_INET6 ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    public static func == (lhs: SocketAddress, rhs: SocketAddress) -> Bool {
        lhs.description == rhs.description
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(description)
    }

    func withSockAddr<R>(_ body: (UnsafePointer<sockaddr>, socklen_t) throws -> R) rethrows -> R {
        var copy = storage
        return try withUnsafePointer(to: &copy) { raw in
            try raw.withMemoryRebound(to: sockaddr.self, capacity: 1) { try body($0, length) }
        }
    }

    /// Resolves `host` (a name or a numeric address) and `port` with getaddrinfo, for TCP.
    /// `passive` asks for addresses to bind to.
    /// Whether `host` is an IPv4 or IPv6 address literal (resolving it needs no DNS).
    public static func isNumericHost(_ host: String) -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, host, &v4) == 1 || inet_pton(AF_INET6, host, &v6) == 1
    }

    public static func resolve(host: String, port: UInt16, passive: Bool = false) throws -> [SocketAddress] {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_protocol = Int32(IPPROTO_TCP)
        hints.ai_flags = passive ? AI_PASSIVE : AI_ADDRCONFIG
        if host.isEmpty || host == "*" { hints.ai_flags |= AI_PASSIVE }
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host.isEmpty || host == "*" ? nil : host, String(port), &hints, &list)
        if status != 0 {
            let reason = status == EAI_SYSTEM ? String(cString: strerror(errno)) : String(cString: gai_strerror(status))
            throw AddressError("cannot resolve host '\(host)': \(reason.lowercased())")
        }
        defer { freeaddrinfo(list) }
        var result: [SocketAddress] = []
        var cursor = list
        while let info = cursor {
            if let sa = info.pointee.ai_addr {
                var storage = sockaddr_storage()
                let length = info.pointee.ai_addrlen
                withUnsafeMutableBytes(of: &storage) { dst in
                    dst.copyMemory(from: UnsafeRawBufferPointer(start: sa, count: Int(length)))
                }
                let address = SocketAddress(storage: storage, length: length)
                if !result.contains(address) { result.append(address) }
            }
            cursor = info.pointee.ai_next
        }
        if result.isEmpty {
            throw AddressError("cannot resolve host '\(host)': no addresses")
        }
        return result
    }
}
