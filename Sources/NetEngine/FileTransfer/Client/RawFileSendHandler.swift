/// `send --raw` for one file, as a handler on the one `Connection`: the file's bytes, then a half-close (like
/// `nc -N`), then it waits for the peer to close, keeping the `OK` or `ERR` line a raw netconsole server sends. A send
/// that fails part way resets the connection, because a raw server saves whatever ends with a FIN.
/// Use on the connection's loop thread.
public final class RawFileSendHandler: ConnectionHandler {
    public enum Outcome: Equatable {
        /// The file was delivered or refused (reported on `onEvent`); the next one may go.
        case done
        /// The session ends.
        case failed(String)
    }

    private enum Phase { case connecting, streaming, awaitingClose, done }

    public let index: Int
    public let path: String
    private let replyTimeout: Double
    private let onEvent: (FileSendEvent) -> Void
    private let onEnd: (Outcome) -> Void
    private weak var connection: Connection?
    private var phase = Phase.connecting
    private var pump: PayloadPump?
    /// Most bytes a second (`send --raw --limit-rate`).
    public var rateLimit: Int64?
    private var digest: [UInt8] = []
    private var replyBytes: [UInt8] = []
    /// The first line from the peer that is a server's verdict (a raw netconsole server's `OK` or `ERR`).
    private var verdict: FileTransferReply?

    public init(index: Int, path: String, replyTimeout: Double, onEvent: @escaping (FileSendEvent) -> Void,
                onEnd: @escaping (Outcome) -> Void) {
        self.index = index
        self.path = path
        self.replyTimeout = replyTimeout
        self.onEvent = onEvent
        self.onEnd = onEnd
    }

    public var isFinished: Bool { phase == .done }

    public func cancel() {
        fail("cancelled")
    }

    // MARK: Sending

    private var stallMessage: String {
        "the server took no data for \(formatSeconds(replyTimeout)) while sending \(path)"
    }

    private func continueSending() {
        guard phase == .streaming, let pump, let connection else { return }
        let step = pump.pump(connection) { sent in
            onEvent(.progress(index: index, sent: sent, size: pump.source.size))
            connection.setDeadline(after: replyTimeout, reason: stallMessage)
        }
        switch step {
        case .waiting:
            break
        case .paused, .yielded:
            pump.callAgain(after: step, on: connection.loop) { [weak self] in self?.continueSending() }
        case let .complete(digest):
            self.digest = digest
            pump.source.close()
            connection.shutdownWrite()
            phase = .awaitingClose
            connection.setDeadline(after: replyTimeout, reason: "\(connection.peer) did not close the connection within "
                                   + "\(formatSeconds(replyTimeout)) after \(path) was sent")
        case let .failed(reason):
            fail(reason)
        }
    }

    private func end(_ outcome: Outcome) {
        guard phase != .done else { return }
        let wasStreaming = phase == .streaming
        phase = .done
        pump?.source.close()
        pump = nil
        if let connection, !connection.isClosed {
            if wasStreaming, case .failed = outcome { connection.reset() } else { connection.close() }
        }
        onEnd(outcome)
    }

    private func fail(_ message: String) {
        end(.failed(message))
    }

    // MARK: ConnectionHandler

    public func connectionStarted(_ connection: Connection) {
        guard phase == .connecting else { return connection.close() }
        self.connection = connection
        onEvent(.connected(connection.peer))
        guard phase == .connecting else { return }
        let source = FileSource(path: path)
        do {
            try source.open()
        } catch {
            switch error {
            case let .unavailable(reason):
                onEvent(.fileRefused(index: index, reason: "\(path): \(reason)"))
                return end(.done)
            case let .unreadable(reason):
                return fail(reason)
            }
        }
        pump = PayloadPump(source: source)
        pump?.rateLimit = rateLimit
        onEvent(.fileStarted(index: index, path: path, size: source.size))
        guard phase == .connecting else { return }
        phase = .streaming
        connection.setDeadline(after: replyTimeout, reason: stallMessage)
        continueSending()
    }

    public func connection(_ connection: Connection, received bytes: UnsafeRawBufferPointer) {
        replyBytes.append(contentsOf: bytes)
        while phase != .done, let newline = replyBytes.firstIndex(of: 0x0A) {
            let reply = FileTransferReply(line: String(decoding: replyBytes[..<newline], as: UTF8.self))
            replyBytes.removeSubrange(...newline)
            // Whatever a raw peer says is only news if it is our server's verdict.
            if verdict == nil, let reply, reply != .ready { verdict = reply }
            if case let .error(code, message)? = reply {
                onEvent(.fileRefused(index: index, reason: "\(code) \(message)"))
                return end(.done)
            }
        }
        if replyBytes.count > FileTransferProtocol.maxReplyLength { replyBytes.removeAll() }
    }

    public func connectionReachedEnd(_ connection: Connection) {
        guard phase == .awaitingClose else { return lost("the server closed the connection") }
        if case let .saved(name)? = verdict {
            onEvent(.fileConfirmed(index: index, savedAs: name, sha256: hexString(digest)))
        } else {
            onEvent(.fileConfirmed(index: index, savedAs: "", sha256: hexString(digest)))
        }
        end(.done)
    }

    public func connectionDeadlinePassed(_ connection: Connection, reason: String) {
        fail(reason)
    }

    public func connectionDrained(_ connection: Connection) {
        guard phase == .streaming, let pump else { return }
        pump.report(connection, progress: { sent in
            onEvent(.progress(index: index, sent: sent, size: pump.source.size))
            connection.setDeadline(after: replyTimeout, reason: stallMessage)
        }, force: false)
        continueSending()
    }

    public func connectionClosed(_ connection: Connection, error: SocketError?) {
        lost(error?.message ?? "the server closed the connection")
    }

    /// A dead connection ends the session; an `ERR` line the server managed to send first is the better reason.
    private func lost(_ message: String) {
        guard phase != .done else { return }
        if let line = replyBytes.split(separator: 0x0A).first,
           case let .error(code, reason)? = FileTransferReply(line: String(decoding: line, as: UTF8.self)) {
            onEvent(.fileRefused(index: index, reason: "\(code) \(reason)"))
            return fail("the server closed the connection: \(code) \(reason)")
        }
        fail(phase == .connecting ? message : "\(message) while sending \(path)")
    }
}
