#if canImport(Glibc)
import Glibc
#endif

/// The echo service over UDP (RFC 862): every datagram goes back to its sender as it came. It runs on an event loop
/// beside TCP servers and reads at most `datagramsPerTurn` datagrams each time the loop offers it the socket, so a
/// flood from one source delays the loop's other sockets by one bounded batch, never starves them.
///
/// It reports per peer, not per datagram: the first datagram of a peer, then running totals at most once a second,
/// and the same for datagrams dropped (too large, truncated, refused by the access policy, no room to reply).
public final class UDPEchoServer: EventHandler {
    public let service: String
    public let loop: EventLoop
    public private(set) var localAddress: SocketAddress?
    /// Sources it refuses have their datagrams dropped unanswered.
    public var accessPolicy = AccessPolicy()
    public let datagramsPerTurn: Int

    /// Peers tracked at once; beyond this, new peers are echoed but counted only in the totals.
    static let maxTrackedPeers = 1024
    /// A peer silent this long is forgotten (its totals were reported).
    static let peerLifetime = 60.0

    public private(set) var datagramsEchoed = 0
    public private(set) var bytesEchoed = 0
    public private(set) var datagramsDropped = 0

    private let sink: EventSink?
    private var socket: DatagramSocket?
    private let buffer: UnsafeMutableRawBufferPointer
    private var peers: [PeerKey: PeerTally] = [:]
    private var reportTimer: EventLoop.TimerToken?

    public init(service: String = "udp echo", loop: EventLoop, datagramsPerTurn: Int = 64, sink: EventSink?) {
        self.service = service
        self.loop = loop
        self.datagramsPerTurn = datagramsPerTurn
        self.sink = sink
        // One byte more than any datagram the kernel can hand over, so MSG_TRUNC can only report what is real.
        buffer = .allocate(byteCount: 65_536, alignment: 16)
    }

    deinit { buffer.deallocate() }

    public var isListening: Bool { socket != nil }

    /// Binds `address` (port 0 picks a free port: read `localAddress`) and starts answering on the loop.
    public func start(at address: SocketAddress) throws {
        let socket = try DatagramSocket.bound(to: address)
        try loop.register(socket.descriptor, handler: self)
        self.socket = socket
        localAddress = socket.localAddress ?? address
        reportTimer = loop.schedule(after: 1, repeating: true) { [weak self] in self?.reportTotals() }
        sink?(.listening(service: service, address: localAddress!))
    }

    public func stop() {
        guard let socket else { return }
        loop.unregister(socket.descriptor)
        socket.close()
        self.socket = nil
        if let reportTimer { loop.cancel(reportTimer) }
        reportTimer = nil
        reportTotals()
        if let address = localAddress { sink?(.stoppedListening(service: service, address: address)) }
    }

    // MARK: Datagrams

    public func handleEvent(readable: Bool, writable: Bool, hangup: Bool) {
        guard let socket else { return }
        for _ in 0..<datagramsPerTurn {
            let datagram: DatagramSocket.Received
            do {
                guard let received = try socket.receive(into: buffer) else { return }
                datagram = received
            } catch let error as SocketError {
                sink?(.error("\(service): \(error.message)"))
                return
            } catch { return }
            handle(datagram, on: socket)
        }
    }

    private func handle(_ datagram: DatagramSocket.Received, on socket: DatagramSocket) {
        let peer = datagram.peer
        if let refusal = accessPolicy.refusal(for: peer) {
            return drop(from: peer, reason: refusal, denied: true)
        }
        if datagram.wasTruncated || datagram.length > DatagramSocket.maxPayload {
            return drop(from: peer, reason: "a datagram of \(datagram.length) bytes is larger than \(DatagramSocket.maxPayload), not echoed")
        }
        let sent: Bool
        do {
            sent = try socket.send(UnsafeRawBufferPointer(rebasing: buffer[0..<datagram.length]), to: peer)
        } catch let error as SocketError {
            return drop(from: peer, reason: "cannot reply: \(error.message)")
        } catch { return }
        guard sent else { return drop(from: peer, reason: "no room in the socket buffer to reply") }
        datagramsEchoed += 1
        bytesEchoed += datagram.length
        withTally(of: peer) { tally, isNew in
            tally.datagrams += 1
            tally.bytes += datagram.length
            if isNew || tally.reportedDatagrams == 0 { report(&tally, echoes: true) }
        }
    }

    private func drop(from peer: SocketAddress, reason: String, denied: Bool = false) {
        datagramsDropped += 1
        withTally(of: peer) { tally, _ in
            tally.dropped += 1
            tally.dropReason = reason
            tally.dropsDenied = denied
            if tally.reportedDropped == 0 { report(&tally, echoes: false) }
        }
    }

    // MARK: Per-peer totals

    private func withTally(of peer: SocketAddress, _ change: (inout PeerTally, Bool) -> Void) {
        let key = PeerKey(peer)
        // The loop's turn time: a clock read per datagram is a cost the echo path need not pay for a 60 s lifetime.
        let now = loop.turnTime
        if var tally = peers[key] {
            tally.lastSeen = now
            change(&tally, false)
            peers[key] = tally
        } else if peers.count < Self.maxTrackedPeers {
            var tally = PeerTally(peer: peer, lastSeen: now)
            change(&tally, true)
            peers[key] = tally
        }
    }

    /// Emits what changed for `tally` and marks it reported.
    private func report(_ tally: inout PeerTally, echoes: Bool) {
        if echoes {
            tally.reportedDatagrams = tally.datagrams
            sink?(.datagramsEchoed(service: service, peer: tally.peer, datagrams: tally.datagrams, bytes: tally.bytes))
        } else {
            tally.reportedDropped = tally.dropped
            if tally.dropsDenied {
                let count = tally.dropped == 1 ? "" : " (\(tally.dropped) datagrams so far)"
                sink?(.connectionDenied(service: service, peer: tally.peer, reason: tally.dropReason + count))
            } else {
                sink?(.datagramsDropped(service: service, peer: tally.peer, count: tally.dropped, reason: tally.dropReason))
            }
        }
    }

    private func reportTotals() {
        let now = MonotonicClock.now()
        for key in Array(peers.keys) {
            guard var tally = peers[key] else { continue }
            if tally.datagrams != tally.reportedDatagrams { report(&tally, echoes: true) }
            if tally.dropped != tally.reportedDropped { report(&tally, echoes: false) }
            if now - tally.lastSeen > Self.peerLifetime {
                peers.removeValue(forKey: key)
            } else {
                peers[key] = tally
            }
        }
    }
}

/// A peer's address and port as plain integers: hashing it costs no formatting.
private struct PeerKey: Hashable {
    let high: UInt64
    let low: UInt64
    let port: UInt16

    /// Read from the socket address in place: no array per datagram.
    init(_ address: SocketAddress) {
        var storage = address.storage
        if address.family == AF_INET6 {
            let (high, low) = withUnsafeBytes(of: &storage) { raw -> (UInt64, UInt64) in
                let bytes = raw.baseAddress!.assumingMemoryBound(to: sockaddr_in6.self).pointee.sin6_addr
                return withUnsafeBytes(of: bytes) { ($0.loadUnaligned(fromByteOffset: 0, as: UInt64.self),
                                                     $0.loadUnaligned(fromByteOffset: 8, as: UInt64.self)) }
            }
            self.high = high
            self.low = low
        } else {
            let v4 = withUnsafeBytes(of: &storage) { $0.baseAddress!.assumingMemoryBound(to: sockaddr_in.self).pointee.sin_addr.s_addr }
            self.high = UInt64.max
            self.low = UInt64(v4)
        }
        self.port = address.port
    }
}

/// What one peer sent, and how much of it was reported.
private struct PeerTally {
    let peer: SocketAddress
    var lastSeen: Double
    var datagrams = 0
    var bytes = 0
    var dropped = 0
    var dropReason = ""
    var dropsDenied = false
    var reportedDatagrams = 0
    var reportedDropped = 0

    init(peer: SocketAddress, lastSeen: Double) {
        self.peer = peer
        self.lastSeen = lastSeen
    }
}
