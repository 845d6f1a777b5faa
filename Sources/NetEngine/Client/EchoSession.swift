#if canImport(Glibc)
import Glibc
#endif

/// One echo exchange that never blocks its event loop: connect, send the message, read until as many bytes came
/// back as were sent, then report the reply and the round-trip time (from the first byte sent to the last byte
/// received). The console uses it so that its own echo server, on the same loop, can answer.
/// Create, `start()` and `cancel()` on the loop's thread; `completion` is called there exactly once.
public final class EchoSession: EventHandler {
    public enum Outcome: Equatable {
        /// The echo (as many bytes as were sent), its round-trip time, and the bytes beyond the echo that had
        /// arrived with it: a server that answers with more than it got is shown, not silently cut short.
        case reply(bytes: [UInt8], roundTrip: Double, extra: [UInt8])
        case failed(String)
    }

    public let endpoint: Endpoint
    public let message: [UInt8]
    /// Seconds the whole exchange may take, connecting included.
    public let timeout: Double

    private let loop: EventLoop
    private var completion: ((Outcome) -> Void)?
    private var attempts: ConnectAttempts?
    private var socket: Socket?
    private var connected = false
    private var sentCount = 0
    private var reply: [UInt8] = []
    private var sendStartedAt = 0.0
    private var timer: EventLoop.TimerToken?

    public init(loop: EventLoop, endpoint: Endpoint, message: [UInt8], timeout: Double = 5,
                completion: @escaping (Outcome) -> Void) {
        self.loop = loop
        self.endpoint = endpoint
        self.message = message
        self.timeout = timeout
        self.completion = completion
    }

    public var isFinished: Bool { completion == nil }

    public func start() {
        guard !message.isEmpty else { return finish(.failed("nothing to send")) }
        timer = loop.schedule(after: timeout) { [weak self] in
            guard let self, !self.isFinished else { return }
            self.timer = nil
            let what = self.attempts == nil ? "no address for \(self.endpoint.host)"
                : self.connected ? "no complete echo (\(self.reply.count) of \(self.message.count) bytes)" : "no connection"
            self.finish(.failed("\(what) from \(self.endpoint) within \(formatSeconds(self.timeout))"))
        }
        ConnectAttempts.resolve(endpoint, on: loop) { [weak self] result in
            guard let self, !self.isFinished else { return }
            switch result {
            case let .success(attempts):
                self.attempts = attempts
                self.connectNext()
            case let .failure(error):
                self.finish(.failed("\(error)"))
            }
        }
    }

    /// Abandons the exchange without calling `completion`.
    public func cancel() {
        completion = nil
        teardown()
    }

    private func connectNext() {
        teardown()
        guard let socket = attempts?.startNext(on: loop, handler: self) else {
            return finish(.failed(attempts?.failure ?? "cannot connect to \(endpoint)"))
        }
        self.socket = socket
    }

    public func handleEvent(readable: Bool, writable: Bool, hangup: Bool) {
        guard let socket, !isFinished else { return }
        do {
            if !connected {
                guard writable || hangup else { return }
                try attempts?.finish(socket)
                connected = true
                sendStartedAt = MonotonicClock.now()
            }
            if sentCount < message.count {
                let n = try message.withUnsafeBytes { try socket.send(UnsafeRawBufferPointer(rebasing: $0[sentCount...])) }
                sentCount += n
                if sentCount == message.count { loop.setInterest(socket.descriptor, read: true, write: false) }
            }
            if readable || hangup { try readReply(from: socket) }
        } catch let error as SocketError {
            if !connected {
                attempts?.noteFailure(error.message)
                connectNext()
            } else {
                finish(.failed(error.message))
            }
        } catch {}
    }

    private func readReply(from socket: Socket) throws {
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while reply.count < message.count {
            let wanted = min(buffer.count, message.count - reply.count)
            guard let n = try buffer.withUnsafeMutableBytes({ try socket.receive(into: UnsafeMutableRawBufferPointer(rebasing: $0[0..<wanted])) }) else { return }
            if n == 0 {
                return finish(.failed("\(endpoint) closed the connection after echoing \(reply.count) of \(message.count) bytes"))
            }
            reply.append(contentsOf: buffer[0..<n])
        }
        let roundTrip = MonotonicClock.now() - sendStartedAt
        var extra: [UInt8] = []
        while extra.count < buffer.count,
              let n = try? buffer.withUnsafeMutableBytes({ try socket.receive(into: $0) }), n > 0 {
            extra.append(contentsOf: buffer[0..<n])
        }
        finish(.reply(bytes: reply, roundTrip: roundTrip, extra: extra))
    }

    private func finish(_ outcome: Outcome) {
        let done = completion
        completion = nil
        teardown()
        if let timer { loop.cancel(timer) }
        timer = nil
        done?(outcome)
    }

    private func teardown() {
        guard let socket else { return }
        loop.unregister(socket.descriptor)
        socket.close()
        self.socket = nil
    }
}
