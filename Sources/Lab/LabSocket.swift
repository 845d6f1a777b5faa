#if canImport(Glibc)
import Glibc
#endif

/// The few helpers the lab programs share, so that each program's own file shows its socket calls and nothing else.
enum LabSocket {
    /// Writes bytes to standard output after what print() buffered (C's `stdout` is shared mutable state that Swift 6
    /// will not touch, hence the descriptor).
    static func writeOut(_ bytes: ArraySlice<UInt8>) {
        fflush(nil)
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = write(1, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { return }
                offset += n
            }
        }
    }

    /// Writes `text` to standard error.
    static func writeError(_ text: String) {
        writeOut([])
        var text = text
        text.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
    }

    /// SOCK_STREAM as the Int32 that socket() takes (Glibc imports it as an enum).
    static let stream = Int32(SOCK_STREAM.rawValue)

    /// Python's socket.SO_REUSEADDR set to 1: a restarted server can bind its port again at once.
    static func reuseAddress(_ socket: Int32) -> Int32 {
        var on: Int32 = 1
        return setsockopt(socket, SOL_SOCKET, SO_REUSEADDR, &on, socklen_t(MemoryLayout<Int32>.size))
    }

    /// Python's ('127.0.0.1', 12345) tuple: a dotted IPv4 address, or a host name resolved to its first IPv4 address.
    static func address(_ host: String, _ port: UInt16) throws -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        if inet_pton(AF_INET, host, &address.sin_addr) == 1 { return address }
        var hints = addrinfo()
        hints.ai_family = AF_INET
        hints.ai_socktype = stream
        var found: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, nil, &hints, &found)
        guard status == 0, let first = found else {
            throw LabError("cannot resolve host '\(host)': \(String(cString: gai_strerror(status)).lowercased())")
        }
        defer { freeaddrinfo(found) }
        first.pointee.ai_addr.withMemoryRebound(to: sockaddr_in.self, capacity: 1) {
            address.sin_addr = $0.pointee.sin_addr
        }
        return address
    }

    /// Runs a system call, again when a signal interrupted it (EINTR); -1 becomes a one-line `LabError`.
    @discardableResult
    static func call<T: BinaryInteger>(_ name: String, _ subject: String? = nil, _ body: () -> T) throws -> T {
        while true {
            let result = body()
            if result >= 0 { return result }
            if errno == EINTR { continue }
            throw LabError(errno: errno, call: name, subject: subject)
        }
    }

    /// Hands `address` to a call that takes the generic `struct sockaddr *` and its length (bind, connect).
    static func withSockaddr<R>(_ address: sockaddr_in, _ body: (UnsafePointer<sockaddr>, socklen_t) -> R) -> R {
        withUnsafePointer(to: address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
    }

    /// Python's sendall(): send() may take only part of the bytes, so loop until every one is out.
    /// MSG_NOSIGNAL: a peer that has gone makes this an EPIPE error instead of a SIGPIPE that kills the program.
    static func sendAll(_ socket: Int32, _ bytes: ArraySlice<UInt8>) throws {
        try bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                offset += try call("send") {
                    send(socket, buffer.baseAddress! + offset, buffer.count - offset, Int32(MSG_NOSIGNAL))
                }
            }
        }
    }

    /// Python's f.write(data) on a file opened 'wb': write() too may take only part of the bytes.
    static func writeAll(_ file: Int32, _ bytes: ArraySlice<UInt8>, path: String) throws {
        try bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                offset += try call("write", path) { write(file, buffer.baseAddress! + offset, buffer.count - offset) }
            }
        }
    }

    /// "127.0.0.1:54321": the address a socket is bound to (after bind to port 0, the port the kernel picked).
    static func localAddress(_ socket: Int32) -> String { name(socket, getsockname) }

    /// The address of the peer of a connected socket (Python's `addr` from accept()).
    static func peerAddress(_ socket: Int32) -> String { name(socket, getpeername) }

    private static func name(_ socket: Int32,
                             _ query: (Int32, UnsafeMutablePointer<sockaddr>, UnsafeMutablePointer<socklen_t>) -> Int32) -> String {
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let status = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { query(socket, $0, &length) }
        }
        guard status == 0 else { return "?" }
        var text = [CChar](repeating: 0, count: Int(INET_ADDRSTRLEN))
        inet_ntop(AF_INET, &address.sin_addr, &text, socklen_t(text.count))
        let host = String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return "\(host):\(UInt16(bigEndian: address.sin_port))"
    }
}
