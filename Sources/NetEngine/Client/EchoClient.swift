#if canImport(Glibc)
import Glibc
#endif
import CLinux

/// The lab's echo client: a blocking connection that sends a message and waits for the same number of bytes back.
public final class EchoClient {
    public let socket: Socket
    public let remote: String

    /// Connects to `endpoint`, trying each address its host resolves to.
    public init(connectingTo endpoint: Endpoint) throws {
        socket = try Socket.connect(host: endpoint.host, port: endpoint.port)
        remote = socket.peerAddress?.description ?? endpoint.description
    }

    /// Sends `message` and returns the reply: as many bytes as were sent, no more (see `takeWaitingBytes()` for
    /// what a server sends beyond that). Throws a `TimeoutError` when the server stays silent for `timeout` seconds, and a
    /// clear error when it closes first.
    public func roundTrip(_ message: [UInt8], timeout: Double = 10) throws -> [UInt8] {
        try socket.sendAll(message)
        var reply = [UInt8](repeating: 0, count: message.count)
        var received = 0
        while received < message.count {
            do {
                try socket.waitFor(events: Int16(POLLIN), timeoutMilliseconds: Int32(timeout * 1000))
            } catch is TimeoutError {
                throw TimeoutError("no reply from \(remote) within \(formatSeconds(timeout)) (\(received) of \(message.count) bytes back)")
            }
            let n = try reply.withUnsafeMutableBytes { buffer in
                try socket.receive(into: UnsafeMutableRawBufferPointer(rebasing: buffer[received...]))
            }
            guard let n else { continue }
            if n == 0 {
                throw SocketError(code: EPIPE, message: "server \(remote) closed the connection (\(received) of \(message.count) bytes echoed)")
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
        socket.shutdown(.write)
        let rest = (try? read(until: MonotonicClock.now() + timeout, limit: 64 * 1024)) ?? []
        socket.close()
        return rest
    }

    /// Tells the server we are done (FIN) and closes.
    public func close() {
        socket.shutdown(.write)
        socket.close()
    }

    /// Reads until the end of the stream, `limit` bytes, or `deadline` (monotonic seconds; 0: only what is waiting).
    private func read(until deadline: Double, limit: Int) throws -> [UInt8] {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while bytes.count < limit {
            let wait = max(0, Int32(((deadline - MonotonicClock.now()) * 1000).rounded(.up)))
            do { try socket.waitFor(events: Int16(POLLIN), timeoutMilliseconds: wait) } catch is TimeoutError { break }
            let wanted = min(chunk.count, limit - bytes.count)
            guard let n = try chunk.withUnsafeMutableBytes({ try socket.receive(into: UnsafeMutableRawBufferPointer(rebasing: $0[0..<wanted])) }), n > 0 else { break }
            bytes.append(contentsOf: chunk[0..<n])
        }
        return bytes
    }
}
