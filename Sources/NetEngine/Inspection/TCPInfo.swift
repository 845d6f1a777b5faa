#if canImport(Glibc)
import Glibc
#endif
import CLinux

/// The kernel's view of one TCP connection: `getsockopt(TCP_INFO)` and the `SIOCINQ`/`SIOCOUTQ` queue sizes.
/// Times are in seconds, rates in bytes per second.
public struct TCPInfo: Equatable, Sendable {
    /// The connection's state as the kernel numbers it (`TCP_ESTABLISHED` is 1 ... `TCP_CLOSING` is 11).
    public var state: UInt8
    /// Smoothed round-trip time and its mean deviation.
    public var roundTrip: Double
    public var roundTripVariance: Double
    /// Congestion window, in segments.
    public var congestionWindow: UInt32
    /// Slow-start threshold, in segments; nil while the kernel has not set one (it reports "infinity").
    public var slowStartThreshold: UInt32?
    /// Retransmissions of the segment now at the head, and of the whole connection.
    public var retransmits: UInt8
    public var totalRetransmits: UInt32
    /// Segments sent and not yet acknowledged.
    public var unacknowledged: UInt32
    public var deliveryRate: UInt64
    public var maxSegmentSize: UInt32
    /// Bytes received and not yet read by us (`SIOCINQ`), and sent and not yet acknowledged by the peer (`SIOCOUTQ`).
    public var receiveQueue: Int
    public var sendQueue: Int

    public init(state: UInt8, roundTrip: Double, roundTripVariance: Double, congestionWindow: UInt32, slowStartThreshold: UInt32?,
                retransmits: UInt8, totalRetransmits: UInt32, unacknowledged: UInt32, deliveryRate: UInt64,
                maxSegmentSize: UInt32, receiveQueue: Int, sendQueue: Int) {
        self.state = state
        self.roundTrip = roundTrip
        self.roundTripVariance = roundTripVariance
        self.congestionWindow = congestionWindow
        self.slowStartThreshold = slowStartThreshold
        self.retransmits = retransmits
        self.totalRetransmits = totalRetransmits
        self.unacknowledged = unacknowledged
        self.deliveryRate = deliveryRate
        self.maxSegmentSize = maxSegmentSize
        self.receiveQueue = receiveQueue
        self.sendQueue = sendQueue
    }

    /// The kernel's view of the TCP socket `descriptor`.
    public static func read(descriptor: Int32) throws -> TCPInfo {
        var info = clinux_tcp_info()
        var length = socklen_t(MemoryLayout<clinux_tcp_info>.size)
        // Python: s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 232), unpacked with struct
        _ = try retryingEINTR("getsockopt TCP_INFO") { getsockopt(descriptor, Int32(IPPROTO_TCP), CLINUX_TCP_INFO, &info, &length) }
        var inbound: Int32 = 0
        var outbound: Int32 = 0
        // Python: fcntl.ioctl(s, termios.FIONREAD, buf), and TIOCOUTQ for the send queue
        _ = try retryingEINTR("ioctl SIOCINQ") { clinux_ioctl_int(descriptor, UInt(CLINUX_SIOCINQ), &inbound) }
        _ = try retryingEINTR("ioctl SIOCOUTQ") { clinux_ioctl_int(descriptor, UInt(CLINUX_SIOCOUTQ), &outbound) }
        // The kernel's "no threshold yet" (TCP_INFINITE_SSTHRESH).
        let infinite: UInt32 = 0x7fff_ffff
        return TCPInfo(state: info.tcpi_state, roundTrip: Double(info.tcpi_rtt) / 1e6, roundTripVariance: Double(info.tcpi_rttvar) / 1e6,
                       congestionWindow: info.tcpi_snd_cwnd,
                       slowStartThreshold: info.tcpi_snd_ssthresh >= infinite ? nil : info.tcpi_snd_ssthresh,
                       retransmits: info.tcpi_retransmits, totalRetransmits: info.tcpi_total_retrans,
                       unacknowledged: info.tcpi_unacked, deliveryRate: info.tcpi_delivery_rate, maxSegmentSize: info.tcpi_snd_mss,
                       receiveQueue: Int(inbound), sendQueue: Int(outbound))
    }
}
