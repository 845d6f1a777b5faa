#if canImport(Glibc)
import Glibc
#endif
import CLinux

/// The lab's echo client: a blocking connection that sends a message and waits for the same number of bytes back.
/// With TLS the socket is non-blocking under OpenSSL and the waits are polls, so the timeouts hold the same.
public final class EchoClient {
    public let socket: Socket
    public let remote: String
    /// The TLS layer, when the connection speaks TLS.
    public let tls: TLSTransport?
    private let transport: Transport

    /// Connects to `endpoint`, trying each address its host resolves to; with `tls`, runs the handshake (within
    /// `timeout` seconds) and checks the server's certificate.
    public init(connectingTo endpoint: Endpoint, tls configuration: TLSClientConfiguration? = nil, timeout: Double = 10) throws {
        socket = try Socket.connect(host: endpoint.host, port: endpoint.port)
        remote = socket.peerAddress?.description ?? endpoint.description
        guard let configuration else {
            tls = nil
            transport = socket
            return
        }
        try socket.setNonBlocking(true)
        let tls = try configuration.transport(over: socket, to: endpoint)
        let deadline = MonotonicClock.now() + timeout
        do {
            while true {
                let step = try tls.advanceHandshake()
                if step == .done { break }
                let wait = max(0, Int32(((deadline - MonotonicClock.now()) * 1000).rounded(.up)))
                try socket.waitFor(events: Int16(step == .wantsRead ? POLLIN : POLLOUT), timeoutMilliseconds: wait)
            }
        } catch is TimeoutError {
            throw TLSError("no TLS handshake with \(remote) within \(formatSeconds(timeout)): the server does not speak TLS, or is too busy")
        }
        self.tls = tls
        transport = tls
    }

    /// Sends `message` and returns the reply: as many bytes as were sent, no more (see `takeWaitingBytes()` for
    /// what a server sends beyond that). Throws a `TimeoutError` when the server stays silent for `timeout` seconds, and a
    /// clear error when it closes first.
    public func roundTrip(_ message: [UInt8], timeout: Double = 10) throws -> [UInt8] {
        try sendAll(message)
        var reply = [UInt8](repeating: 0, count: message.count)
        var received = 0
        while received < message.count {
            do {
                if !transport.hasBufferedInput { try socket.waitFor(events: Int16(POLLIN), timeoutMilliseconds: Int32(timeout * 1000)) }
            } catch is TimeoutError {
                throw TimeoutError("no reply from \(remote) within \(formatSeconds(timeout)) (\(received) of \(message.count) bytes back)")
            }
            let n: Int?
            do {
                n = try reply.withUnsafeMutableBytes { buffer in
                    try transport.receive(into: UnsafeMutableRawBufferPointer(rebasing: buffer[received...]))
                }
            } catch let error as SocketError where error.code == ECONNRESET && received == 0 && tls == nil {
                throw SocketError(code: ECONNRESET, message: "server \(remote) reset the connection without echoing anything (if it speaks TLS, connect with --tls)")
            }
            guard let n else { continue }
            if n == 0 {
                let hint = received == 0 && tls == nil ? "; if it speaks TLS, connect with --tls" : ""
                throw SocketError(code: EPIPE, message: "server \(remote) closed the connection (\(received) of \(message.count) bytes echoed\(hint))")
            }
            received += n
        }
        return reply
    }

    /// What has arrived and not been read, taken without waiting (at most `limit` bytes). Right after `roundTrip`
    /// these are bytes the server sent beyond the echo; taken before the next message, they cannot pass for its reply.
    public func takeWaitingBytes(limit: Int = 64 * 1024) throws -> [UInt8] {
        try read(until: 0, limit: limit)
    }

    /// Tells the server we are done (FIN), reads whatever it still sends until it closes or `timeout` seconds
    /// pass, and closes. Returns those bytes: an echo server that has echoed everything has nothing left to say.
    public func close(collectingFor timeout: Double) -> [UInt8] {
        transport.shutdownWrite()
        let rest = (try? read(until: MonotonicClock.now() + timeout, limit: 64 * 1024)) ?? []
        transport.close()
        return rest
    }

    /// Tells the server we are done (FIN) and closes.
    public func close() {
        transport.shutdownWrite()
        transport.close()
    }

    /// Sends every byte; a transport that takes none now (a full non-blocking socket) is waited for.
    private func sendAll(_ message: [UInt8]) throws {
        try message.withUnsafeBytes { bytes in
            var offset = 0
            while offset < bytes.count {
                let n = try transport.send(UnsafeRawBufferPointer(rebasing: bytes[offset...]))
                if n == 0 { try socket.waitFor(events: Int16(POLLOUT)) }
                offset += n
            }
        }
    }

    /// Reads until the end of the stream, `limit` bytes, or `deadline` (monotonic seconds; 0: only what is waiting).
    private func read(until deadline: Double, limit: Int) throws -> [UInt8] {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while bytes.count < limit {
            let wait = max(0, Int32(((deadline - MonotonicClock.now()) * 1000).rounded(.up)))
            if !transport.hasBufferedInput {
                do { try socket.waitFor(events: Int16(POLLIN), timeoutMilliseconds: wait) } catch is TimeoutError { break }
            }
            let wanted = min(chunk.count, limit - bytes.count)
            guard let received = try chunk.withUnsafeMutableBytes({ try transport.receive(into: UnsafeMutableRawBufferPointer(rebasing: $0[0..<wanted])) }) else {
                // TLS: the socket was readable but held no whole record yet.
                if deadline == 0 { break } else { continue }
            }
            guard received > 0 else { break }
            let n = received
            bytes.append(contentsOf: chunk[0..<n])
        }
        return bytes
    }
}
