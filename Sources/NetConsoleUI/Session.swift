/// One conversation in the client pane: a target, the connection's state, how messages are sent, and its own
/// transcript. Pure: the console's `LiveSession` does the I/O and reports here through `ConsoleState`.
public struct Session: Equatable {
    public enum Status: Equatable {
        case connecting
        case open
        /// Why and when it ended ("HH:MM:SS").
        case closed(reason: String, at: String)
    }

    public let id: Int
    /// HOST:PORT as the endpoint prints it.
    public internal(set) var target: String
    public internal(set) var status = Status.connecting
    /// We sent our FIN (half-close); replies still arrive.
    public internal(set) var finishedSending = false
    /// The peer sent its FIN; we may still send.
    public internal(set) var peerFinished = false
    public var lineEnding = LineEnding.lf
    public var hexInput = false
    public internal(set) var bytesIn = 0
    public internal(set) var bytesOut = 0
    /// This end's HOST:PORT while connected, to know the session's own connection in the server pane.
    public internal(set) var localAddress: String?
    /// A UDP session: each message one datagram, echoes matched whole, the ones that never come counted as lost.
    public internal(set) var isUDP = false
    public internal(set) var datagramsSent = 0
    public internal(set) var datagramsEchoed = 0
    public internal(set) var datagramsLost = 0
    /// Datagrams sent and not yet echoed, oldest first (bounded like the TCP echoes).
    var datagramsWaiting: [EchoMatcher.Pending] = []
    /// The transcript while another session is shown (the shown one's is `ConsoleState.transcript`).
    var storedLog: ActivityLog
    /// The bytes of the messages sent, by their transcript line, for resending; bounded by `sentBytesBudget`.
    var sentPayloads: [Int: [UInt8]] = [:]
    var sentPayloadOrder: [Int] = []
    var sentPayloadBytes = 0
    var echo = EchoMatcher()
    /// The start of a character a TCP chunk ended in the middle of (at most 3 bytes), shown with the next chunk.
    var partialCharacter: [UInt8] = []
    /// The user asked for the end (disconnect or reconnect), so an orderly close is theirs, not the peer's.
    var closingByUser = false
    /// Transcript lines of messages typed while it was still connecting: they go out once it opens, or never.
    var sentWhileConnecting: [Int] = []

    /// Bytes of sent messages kept for resending, per session.
    static let sentBytesBudget = 256 * 1024

    init(id: Int, target: String, log: ActivityLog) {
        self.id = id
        self.target = target
        storedLog = log
    }

    public var isClosed: Bool { if case .closed = status { return true } else { return false } }
    public var isOpen: Bool { status == .open }

    /// "connecting…", "open", "FIN sent", "closed: peer closed at 12:00:03".
    public var statusText: String {
        switch status {
        case .connecting: return "connecting…"
        case .open where isUDP:
            return "open · \(datagramsSent) sent · \(datagramsEchoed) echoed · \(datagramsLost) lost"
        case .open:
            switch (finishedSending, peerFinished) {
            case (true, true): return "closing"
            case (true, false): return "FIN sent, reading"
            case (false, true): return "peer sent FIN"
            case (false, false): return "open"
            }
        case let .closed(reason, at): return "closed: \(reason) at \(at)"
        }
    }

    /// One character for the session list: … connecting, ● open, ◐ half-closed, ✗ closed.
    public var statusMark: String {
        switch status {
        case .connecting: return "…"
        case .open: return finishedSending || peerFinished ? "◐" : "●"
        case .closed: return "✗"
        }
    }

    mutating func keepSent(_ bytes: [UInt8], line: Int) {
        let kept = Array(bytes.prefix(Self.sentBytesBudget))
        sentPayloads[line] = kept
        sentPayloadOrder.append(line)
        sentPayloadBytes += kept.count
        while sentPayloadBytes > Self.sentBytesBudget, !sentPayloadOrder.isEmpty {
            let oldest = sentPayloadOrder.removeFirst()
            sentPayloadBytes -= sentPayloads.removeValue(forKey: oldest)?.count ?? 0
        }
    }

    /// Forgets sent bytes whose lines the transcript no longer keeps (`firstKept` is the oldest line's number).
    mutating func forgetSent(before firstKept: Int) {
        while let oldest = sentPayloadOrder.first, oldest < firstKept {
            sentPayloadOrder.removeFirst()
            sentPayloadBytes -= sentPayloads.removeValue(forKey: oldest)?.count ?? 0
        }
    }
}
