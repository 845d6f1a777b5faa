import NetEngine

/// The UDP echo server's peers in the connection list: UDP has no connections, so each peer that sent datagrams is a
/// row of its own (numbered `u1`, `u2`, ... apart from TCP's), with its datagrams and bytes, until it has been quiet
/// for `udpPeerIdle` seconds; then it lingers like a closed connection and goes.
extension ConsoleState {
    public static let udpEchoService = "udp"
    /// Seconds without a datagram after which a UDP peer's row counts as ended.
    public static let udpPeerIdle = 30.0

    public struct UDPPeerRow: Equatable {
        /// What the `#` column shows.
        public var label: String
        public var datagrams: Int
        public var lastSeen: Double
    }

    /// A peer's echoed totals so far (`datagramsEchoed`): its row, made on its first datagram, takes the news.
    mutating func noteDatagrams(service: String, peer: SocketAddress, datagrams: Int, bytes: Int, now: Double) {
        let peerText = peer.description
        let index = connections.lastIndex { $0.udp != nil && $0.service == service && $0.peer == peerText }
        var row: ConnectionRow
        if let index {
            row = connections[index]
        } else {
            udpRowsMade += 1
            row = ConnectionRow(id: -udpRowsMade, service: service, peer: peerText, openedAt: now)
            row.udp = UDPPeerRow(label: "u\(udpRowsMade)", datagrams: 0, lastSeen: now)
            acceptedTotal += 1
        }
        // The server's totals per peer only grow, unless it forgot the peer; then these are the new peer's first.
        let delta = bytes >= row.bytesIn ? bytes - row.bytesIn : bytes
        row.bytesIn = bytes
        row.bytesOut = bytes
        row.udp?.datagrams = datagrams
        row.udp?.lastSeen = now
        row.closedAt = nil
        row.rate.record(delta * 2, at: now)
        bytesInTotal += delta
        bytesOutTotal += delta
        if let index { connections[index] = row } else { connections.append(row) }
    }

    /// Peers quiet for `udpPeerIdle` seconds end (they then linger and go like closed connections).
    mutating func endIdleUDPPeers(now: Double) {
        for index in connections.indices {
            guard let udp = connections[index].udp, connections[index].closedAt == nil, now - udp.lastSeen >= Self.udpPeerIdle else { continue }
            connections[index].closedAt = now
        }
    }

    static func udpStateText(_ connection: ConnectionRow, _ udp: UDPPeerRow) -> String {
        let count = "\(udp.datagrams) datagram\(udp.datagrams == 1 ? "" : "s")"
        return connection.closedAt == nil ? count : "quiet · \(count)"
    }
}
