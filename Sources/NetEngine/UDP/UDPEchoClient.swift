#if canImport(Glibc)
import Glibc
#endif

/// A blocking UDP echo client: one datagram out, its echo back within a timeout, or it counts as lost. Replies that
/// are not the echo of the datagram just sent (a late echo of an earlier one) are skipped, never taken for it.
public final class UDPEchoClient {
    public let remote: SocketAddress
    private let socket: DatagramSocket
    private var buffer = [UInt8](repeating: 0, count: 65_536)

    public private(set) var sent = 0
    public private(set) var echoed = 0
    public private(set) var lost = 0
    /// Datagrams that arrived but were not the echo awaited (late, or not an echo at all).
    public private(set) var stray = 0

    public enum Outcome: Equatable {
        case echoed(roundTrip: Double)
        case lost
    }

    /// "Connects" to the first address of `endpoint`: only its datagrams are received, and a closed port is reported.
    public init(endpoint: Endpoint) throws {
        remote = try SocketAddress.resolve(host: endpoint.host, port: endpoint.port)[0]
        socket = try DatagramSocket(family: remote.family)
        try socket.connect(to: remote)
    }

    /// Sends `message` as one datagram and waits up to `timeout` seconds for the same bytes to come back.
    public func roundTrip(_ message: [UInt8], timeout: Double) throws -> Outcome {
        guard message.count <= DatagramSocket.maxPayload else {
            throw SocketError(code: EMSGSIZE, message: "a datagram of \(message.count) bytes is larger than \(DatagramSocket.maxPayload)")
        }
        let started = MonotonicClock.now()
        var queued = try message.withUnsafeBytes { try socket.send($0) }
        while !queued {
            _ = try socket.waitReadable(timeout: 0.001)
            queued = try message.withUnsafeBytes { try socket.send($0) }
            if MonotonicClock.now() - started > timeout { break }
        }
        sent += 1
        let deadline = started + timeout
        while true {
            let left = deadline - MonotonicClock.now()
            guard left > 0, try socket.waitReadable(timeout: left) else {
                lost += 1
                return .lost
            }
            let received: DatagramSocket.Received?
            do {
                received = try buffer.withUnsafeMutableBytes { try socket.receive(into: $0) }
            } catch let error as SocketError where error.code == ECONNREFUSED {
                throw SocketError(code: ECONNREFUSED, message: "nothing answers on UDP port \(remote) (port unreachable)")
            }
            guard let received else { continue }
            if received.length == message.count && !received.wasTruncated && buffer[0..<received.stored].elementsEqual(message) {
                echoed += 1
                return .echoed(roundTrip: MonotonicClock.now() - started)
            }
            stray += 1
        }
    }
}
