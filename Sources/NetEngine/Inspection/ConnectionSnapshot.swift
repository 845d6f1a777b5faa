#if canImport(Glibc)
import Glibc
#endif

/// Everything about one connection at one moment, as a value another thread may keep: its addresses, age, byte
/// counts, the kernel's view, and the payload its rings hold (empty when it is not watched).
public struct ConnectionSnapshot: Equatable, Sendable {
    public var id: Int
    public var service: String
    public var peer: SocketAddress
    public var local: SocketAddress?
    /// Seconds since the connection was accepted or connected.
    public var age: Double
    /// Monotonic seconds when the snapshot was taken, for rates between two snapshots.
    public var takenAt: Double
    public var bytesIn: Int
    public var bytesOut: Int
    /// Bytes the connection holds because the kernel would not take them yet.
    public var pendingOutput: Int
    public var isClosed: Bool
    /// The kernel's view; nil without a socket (closed, or an in-memory transport).
    public var tcp: TCPInfo?
    public var isCapturing: Bool
    /// The payload held each way, oldest first; `time` is wall-clock seconds.
    public var received: [PayloadChunk]
    public var sent: [PayloadChunk]

    public init(id: Int, service: String, peer: SocketAddress, local: SocketAddress?, age: Double, takenAt: Double, bytesIn: Int,
                bytesOut: Int, pendingOutput: Int, isClosed: Bool, tcp: TCPInfo?, isCapturing: Bool, received: [PayloadChunk],
                sent: [PayloadChunk]) {
        self.id = id
        self.service = service
        self.peer = peer
        self.local = local
        self.age = age
        self.takenAt = takenAt
        self.bytesIn = bytesIn
        self.bytesOut = bytesOut
        self.pendingOutput = pendingOutput
        self.isClosed = isClosed
        self.tcp = tcp
        self.isCapturing = isCapturing
        self.received = received
        self.sent = sent
    }

    /// Both directions in the order the bytes crossed (by time; a read and a write of one turn, received first).
    public var chunks: [PayloadChunk] {
        (received + sent).enumerated().sorted { a, b in
            a.element.time != b.element.time ? a.element.time < b.element.time : a.offset < b.offset
        }.map(\.element)
    }

    /// Wall-clock seconds minus monotonic seconds now, to turn a loop's monotonic times into wall-clock ones.
    static func wallClockOffset() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9 - MonotonicClock.now()
    }
}
