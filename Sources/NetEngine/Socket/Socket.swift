#if canImport(Glibc)
import Glibc
#endif
import CLinux

/// A TCP socket that owns its descriptor and closes it exactly once. The comments name the Python `socket` call
/// each system call corresponds to (the lab's programs, and `netconsole lab`, use the same calls blocking).
/// `@unchecked Sendable`: a blocking user may hand a socket to another thread (a writer thread beside a reader);
/// whoever closes it must be the last to use it.
public final class Socket: @unchecked Sendable {
    /// Unchecked for exclusivity: read on every send and receive, where a dynamic check would be a runtime call.
    /// (Performance only, like `@inline(__always)` below: a reader may ignore these attributes.)
    @exclusivity(unchecked) public private(set) var descriptor: Int32
    public let family: Int32

    /// A socket with no descriptor, standing in where a `Socket` is needed but none exists (never used for I/O).
    static let placeholder = Socket(adopting: -1, family: AF_UNSPEC)

    public init(adopting descriptor: Int32, family: Int32) {
        self.descriptor = descriptor
        self.family = family
    }

    deinit { close() }

    /// A new, unconnected TCP socket of `family` (AF_INET or AF_INET6), close-on-exec.
    public convenience init(family: Int32) throws {
        let fd = try retryingEINTR("socket") {  // Python: s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            Glibc.socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), Int32(IPPROTO_TCP))
        }
        self.init(adopting: fd, family: family)
    }

    public var isOpen: Bool { descriptor >= 0 }

    public func close() {
        guard descriptor >= 0 else { return }
        let fd = descriptor
        descriptor = -1
        _ = Glibc.close(fd)  // Python: s.close(). Never retried on EINTR: on Linux the descriptor is gone either way
    }

    // MARK: Server side

    /// A listening socket bound to `address`, with SO_REUSEADDR (and SO_REUSEPORT when asked).
    public static func listening(on address: SocketAddress, backlog: Int32 = 1024, reusePort: Bool = false) throws -> Socket {
        let socket = try Socket(family: address.family)
        try socket.setOption(SOL_SOCKET, SO_REUSEADDR, 1)  // Python: s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reusePort { try socket.setOption(SOL_SOCKET, SO_REUSEPORT, 1) }
        if address.family == AF_INET6 { try socket.setOption(Int32(IPPROTO_IPV6), IPV6_V6ONLY, 1) }
        try address.withSockAddr { sa, len in
            // Python: s.bind(('127.0.0.1', 12345))
            _ = try retryingEINTR("bind", subject: address.description) { Glibc.bind(socket.descriptor, sa, len) }
        }
        // Python: s.listen(backlog)
        _ = try retryingEINTR("listen", subject: address.description) { Glibc.listen(socket.descriptor, backlog) }
        return socket
    }

    /// Accepts one pending connection, non-blocking and close-on-exec; nil when none is waiting (EAGAIN).
    public func accept() throws -> (Socket, SocketAddress)? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        while true {
            // Python: conn, addr = s.accept(), on a listener made non-blocking by s.setblocking(False)
            let fd = withUnsafeMutablePointer(to: &storage) { raw in
                raw.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    accept4(descriptor, $0, &length, Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue))
                }
            }
            if fd >= 0 {
                return (Socket(adopting: fd, family: Int32(storage.ss_family)), SocketAddress(storage: storage, length: length))
            }
            switch errno {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK: return nil
            // The peer gave up between SYN and accept: not the listener's problem, try the next one.
            case ECONNABORTED, EPROTO: continue
            case let code: throw SocketError(errno: code, operation: "accept")
            }
        }
    }

    // MARK: Client side

    /// Connects (blocking) to the first address of `host` that answers.
    public static func connect(host: String, port: UInt16) throws -> Socket {
        let addresses = try SocketAddress.resolve(host: host, port: port)
        var lastError: SocketError?
        for address in addresses {
            do { return try connect(to: address) } catch let error as SocketError { lastError = error }
        }
        throw lastError ?? AddressError("cannot connect to \(host):\(port): no address")
    }

    /// Connects (blocking) to `address`.
    public static func connect(to address: SocketAddress) throws -> Socket {
        let socket = try Socket(family: address.family)
        try address.withSockAddr { sa, len in
            // Python: s.connect(('127.0.0.1', 12345))
            _ = try retryingEINTR("connect", subject: address.description) { Glibc.connect(socket.descriptor, sa, len) }
        }
        try? socket.setNoDelay(true)
        return socket
    }

    /// Starts a non-blocking connect; the caller waits for writability and then calls `finishConnect()`.
    public static func startConnect(to address: SocketAddress) throws -> Socket {
        let socket = try Socket(family: address.family)
        try socket.setNonBlocking(true)
        try? socket.setNoDelay(true)
        // Python: s.connect_ex(('127.0.0.1', 12345)), which answers EINPROGRESS instead of waiting
        let status = address.withSockAddr { sa, len in Glibc.connect(socket.descriptor, sa, len) }
        if status < 0 && errno != EINPROGRESS && errno != EINTR {
            throw SocketError(errno: errno, operation: "connect", subject: address.description)
        }
        return socket
    }

    /// The outcome of a non-blocking connect, read from SO_ERROR.
    public func finishConnect(to address: SocketAddress) throws {
        var code: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        // Python: s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        _ = try retryingEINTR("getsockopt") { getsockopt(descriptor, SOL_SOCKET, SO_ERROR, &code, &length) }
        if code != 0 { throw SocketError(errno: code, operation: "connect", subject: address.description) }
    }

    // MARK: Data

    /// Reads into `buffer`. Returns the count read, 0 at end of stream, nil when nothing is ready (non-blocking).
    @inline(__always)  // performance only: a reader may ignore it
    public func receive(into buffer: UnsafeMutableRawBufferPointer) throws -> Int? {
        while true {
            let n = Glibc.recv(descriptor, buffer.baseAddress, buffer.count, 0)  // Python: n = s.recv_into(buffer)
            if n >= 0 { return n }
            switch errno {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK: return nil
            case let code: throw SocketError(errno: code, operation: "recv")
            }
        }
    }

    /// Writes what the kernel takes now. Returns the count written (0 when the socket buffer is full).
    @inline(__always)  // performance only: a reader may ignore it
    public func send(_ bytes: UnsafeRawBufferPointer) throws -> Int {
        while true {
            let n = Glibc.send(descriptor, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL))  // Python: n = s.send(data)
            if n >= 0 { return n }
            switch errno {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK: return 0
            case let code: throw SocketError(errno: code, operation: "send")
            }
        }
    }

    /// Sends up to `count` bytes of the file `file` from `offset` (advanced by what went) without copying them
    /// through this process. Throws a `SocketError` only when the connection is broken; a file the kernel cannot
    /// send this way, or that fails to read, is `.unsupported` (the caller reads and writes it instead, and meets
    /// the read error there).
    public func sendFile(_ file: Int32, offset: inout Int64, count: Int) throws -> FileRegionSend {
        while true {
            var position = off_t(offset)
            let n = Glibc.sendfile(descriptor, file, &position, count)
            if n > 0 {
                offset = Int64(position)
                return .sent(n)
            }
            if n == 0 { return count == 0 ? .sent(0) : .endOfFile }
            switch errno {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK: return .full
            case EPIPE, ECONNRESET, ENOTCONN, ECONNABORTED, ETIMEDOUT, EHOSTUNREACH, ENETUNREACH, ENETDOWN:
                throw SocketError(errno: errno, operation: "send")
            default: return .unsupported
            }
        }
    }

    /// Writes every byte, looping over partial writes; on a non-blocking socket it waits for room with poll.
    /// Python: s.sendall(data)
    public func sendAll(_ bytes: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < bytes.count {
            let n = try send(UnsafeRawBufferPointer(rebasing: bytes[offset...]))
            if n == 0 { try waitFor(events: Int16(POLLOUT)) }
            offset += n
        }
    }

    public func sendAll(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try sendAll($0) }
    }

    public func sendAll(_ text: String) throws {
        try sendAll(Array(text.utf8))
    }

    /// Blocks until the socket is ready for `events`, or `timeoutMilliseconds` pass (then throws a `TimeoutError`).
    public func waitFor(events: Int16, timeoutMilliseconds: Int32 = -1) throws {
        var entry = pollfd(fd: descriptor, events: events, revents: 0)
        // Python: select.select([s], [], [], timeout) for reading, [], [s] for writing
        let ready = try retryingEINTR("poll") { poll(&entry, 1, timeoutMilliseconds) }
        if ready == 0 { throw TimeoutError("connection timed out") }
    }

    public enum Direction { case read, write, both }

    public func shutdown(_ direction: Direction) {
        let how: Int32
        switch direction {
        case .read: how = Int32(SHUT_RD)
        case .write: how = Int32(SHUT_WR)
        case .both: how = Int32(SHUT_RDWR)
        }
        _ = Glibc.shutdown(descriptor, how)  // Python: s.shutdown(socket.SHUT_WR)
    }

    // MARK: Options and names

    public func setOption(_ level: Int32, _ name: Int32, _ value: Int32) throws {
        var v = value
        // Python: s.setsockopt(level, name, value)
        _ = try retryingEINTR("setsockopt") { setsockopt(descriptor, level, name, &v, socklen_t(MemoryLayout<Int32>.size)) }
    }

    /// Python: s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    public func setNoDelay(_ on: Bool) throws { try setOption(Int32(IPPROTO_TCP), TCP_NODELAY, on ? 1 : 0) }

    /// Python: s.setblocking(False)
    public func setNonBlocking(_ on: Bool) throws {
        let flags = try retryingEINTR("fcntl") { fcntl(descriptor, F_GETFL) }
        let wanted = on ? flags | O_NONBLOCK : flags & ~O_NONBLOCK
        if wanted != flags { _ = try retryingEINTR("fcntl") { fcntl(descriptor, F_SETFL, wanted) } }
    }

    /// SO_LINGER with a zero timeout: close() then sends RST instead of FIN.
    /// Python: s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
    public func setResetOnClose() throws {
        var value = linger(l_onoff: 1, l_linger: 0)
        _ = try retryingEINTR("setsockopt") { setsockopt(descriptor, SOL_SOCKET, SO_LINGER, &value, socklen_t(MemoryLayout<linger>.size)) }
    }

    public var localAddress: SocketAddress? { name(getsockname) }  // Python: s.getsockname()
    public var peerAddress: SocketAddress? { name(getpeername) }  // Python: s.getpeername()

    private func name(_ call: (Int32, UnsafeMutablePointer<sockaddr>, UnsafeMutablePointer<socklen_t>) -> Int32) -> SocketAddress? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let status = withUnsafeMutablePointer(to: &storage) { raw in
            raw.withMemoryRebound(to: sockaddr.self, capacity: 1) { call(descriptor, $0, &length) }
        }
        return status == 0 ? SocketAddress(storage: storage, length: length) : nil
    }
}

/// Makes a write to a vanished peer an EPIPE error instead of a process-killing signal.
/// Python: signal.signal(signal.SIGPIPE, signal.SIG_IGN), which the Python interpreter itself does at startup.
package func ignoreBrokenPipeSignal() {
    signal(SIGPIPE, SIG_IGN)
}
