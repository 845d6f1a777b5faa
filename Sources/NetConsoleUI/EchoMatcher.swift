/// Tells, from the bytes a peer sends back, whether it echoes what a session sent, and when each message's echo
/// is complete (its round-trip time). The first byte that is not the echo ends the matching: the peer is then
/// something else (HTTP, SMTP, ...) and what it sends is just shown.
struct EchoMatcher: Equatable {
    struct Pending: Equatable {
        /// The transcript line of the message sent, for its waiting marker.
        var line: Int
        var bytes: [UInt8]
        var matched = 0
        var sentAt: Double
    }

    struct Outcome: Equatable {
        /// Whether the bytes began as the echo of what was sent.
        var wasEcho = false
        /// Messages whose echo completed, with their round-trip times.
        var completed: [(line: Int, roundTrip: Double)] = []
        /// Messages that will not be echoed after all.
        var abandoned: [Int] = []

        static func == (lhs: Outcome, rhs: Outcome) -> Bool {
            lhs.wasEcho == rhs.wasEcho && lhs.abandoned == rhs.abandoned
                && lhs.completed.map(\.line) == rhs.completed.map(\.line)
                && lhs.completed.map(\.roundTrip) == rhs.completed.map(\.roundTrip)
        }
    }

    /// At most this many messages wait for their echo; an older one is given up.
    static let maxPending = 64

    private(set) var pending: [Pending] = []
    /// False once the peer sent something that was not the echo; a new connection starts over.
    private(set) var isEchoing = true

    /// Notes a message sent; returns the line of a message given up to keep the list bounded.
    mutating func sent(_ bytes: [UInt8], line: Int, at time: Double) -> Int? {
        guard isEchoing, !bytes.isEmpty else { return nil }
        pending.append(Pending(line: line, bytes: bytes, sentAt: time))
        return pending.count > Self.maxPending ? pending.removeFirst().line : nil
    }

    /// Restarts the clocks of messages not yet on the wire (sent while connecting).
    mutating func restartClocks(at time: Double) {
        for index in pending.indices where pending[index].matched == 0 { pending[index].sentAt = time }
    }

    mutating func received<Bytes: Collection>(_ bytes: Bytes, at time: Double) -> Outcome where Bytes.Element == UInt8 {
        var outcome = Outcome()
        guard isEchoing, !pending.isEmpty else {
            if !bytes.isEmpty { isEchoing = false }
            return outcome
        }
        var index = bytes.startIndex
        var first = true
        while index != bytes.endIndex, !pending.isEmpty {
            if bytes[index] != pending[0].bytes[pending[0].matched] {
                isEchoing = false
                outcome.abandoned = pending.map(\.line)
                pending.removeAll()
                return outcome
            }
            if first { outcome.wasEcho = true }
            first = false
            pending[0].matched += 1
            index = bytes.index(after: index)
            if pending[0].matched == pending[0].bytes.count {
                let done = pending.removeFirst()
                outcome.completed.append((done.line, time - done.sentAt))
            }
        }
        // More than was sent: not an echo server after all, but what it echoed still counts.
        if index != bytes.endIndex { isEchoing = false }
        return outcome
    }

    mutating func giveUp(line: Int) {
        pending.removeAll { $0.line == line }
    }

    mutating func reset() {
        pending.removeAll()
        isEchoing = true
    }
}
