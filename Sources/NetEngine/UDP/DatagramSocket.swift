#if canImport(Glibc)
import Glibc
#endif
import CLinux

/// A UDP socket that owns its descriptor and closes it exactly once.
public final class DatagramSocket {
    public private(set) var descriptor: Int32
    public let family: Int32

    /// The largest UDP payload over IPv4 (65,535 − 20 bytes of IP header − 8 of UDP header); the echo server's limit
    /// for both families, so a datagram either side can send is one the other can answer.
    public static let maxPayload = 65_507

    /// A new UDP socket of `family`, close-on-exec, non-blocking unless `blocking`.
    public init(family: Int32, blocking: Bool = false) throws {
        var type = Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        if !blocking { type |= Int32(SOCK_NONBLOCK.rawValue) }
        descriptor = try retryingEINTR("socket") { Glibc.socket(family, type, Int32(IPPROTO_UDP)) }
        self.family = family
    }

    deinit { close() }

    public func close() {
        guard descriptor >= 0 else { return }
        _ = Glibc.close(descriptor)
        descriptor = -1
    }

    /// A socket bound to `address`. No SO_REUSEADDR: for UDP it would let a second process share the port.
    public static func bound(to address: SocketAddress) throws -> DatagramSocket {
        let socket = try DatagramSocket(family: address.family)
        if address.family == AF_INET6 {
            var one: Int32 = 1
            _ = setsockopt(socket.descriptor, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &one, socklen_t(MemoryLayout<Int32>.size))
        }
        try address.withSockAddr { sa, length in
            _ = try retryingEINTR("bind", subject: "\(address) (udp)") { Glibc.bind(socket.descriptor, sa, length) }
        }
        return socket
    }

    /// Fixes the peer: only its datagrams are received, and an ICMP "port unreachable" becomes ECONNREFUSED.
    public func connect(to address: SocketAddress) throws {
        try address.withSockAddr { sa, length in
            _ = try retryingEINTR("connect", subject: "\(address) (udp)") { Glibc.connect(descriptor, sa, length) }
        }
    }

    public var localAddress: SocketAddress? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let status = withUnsafeMutablePointer(to: &storage) { raw in
            raw.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        return status == 0 ? SocketAddress(storage: storage, length: length) : nil
    }

    /// One datagram as received: `length` is its real size, larger than the buffer when it was truncated.
    public struct Received {
        public let length: Int
        public let peer: SocketAddress
        public let stored: Int
        public var wasTruncated: Bool { length > stored }
    }

    /// Receives one datagram into `buffer`; nil when none is waiting (or the wait timed out on a blocking socket).
    public func receive(into buffer: UnsafeMutableRawBufferPointer) throws -> Received? {
        var storage = sockaddr_storage()
        while true {
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            // MSG_TRUNC: the result is the datagram's real length even when the buffer held less of it.
            let n = withUnsafeMutablePointer(to: &storage) { raw in
                raw.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    recvfrom(descriptor, buffer.baseAddress, buffer.count, Int32(MSG_TRUNC), $0, &length)
                }
            }
            if n >= 0 {
                return Received(length: n, peer: SocketAddress(storage: storage, length: length), stored: min(n, buffer.count))
            }
            switch errno {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK: return nil
            case let code: throw SocketError(errno: code, operation: "recvfrom")
            }
        }
    }

    /// Sends one datagram to `address` (nil: the connected peer). False when the socket buffer is full (EAGAIN).
    public func send(_ bytes: UnsafeRawBufferPointer, to address: SocketAddress? = nil) throws -> Bool {
        while true {
            let n: Int
            if let address {
                n = address.withSockAddr { sa, length in
                    Glibc.sendto(descriptor, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL), sa, length)
                }
            } else {
                n = Glibc.send(descriptor, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL))
            }
            if n >= 0 { return true }
            switch errno {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK, ENOBUFS: return false
            case let code: throw SocketError(errno: code, operation: "sendto", subject: address?.description)
            }
        }
    }

    /// Waits until a datagram can be read, at most `timeout` seconds; false when none came.
    public func waitReadable(timeout: Double) throws -> Bool {
        var entry = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        let milliseconds = Int32(max(0, min(timeout * 1000, 3_600_000)).rounded(.up))
        let ready = try retryingEINTR("poll") { poll(&entry, 1, milliseconds) }
        return ready > 0
    }
}
