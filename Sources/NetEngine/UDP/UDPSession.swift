#if canImport(Glibc)
import Glibc
#endif

/// A UDP conversation on an event loop: a datagram socket fixed to one peer (resolved off the loop), each `send` one
/// datagram, each datagram that arrives reported the moment it arrives. There is no connection: a closed port shows
/// only as an ICMP error on a later receive, reported and survived. Create, `start()`, `send` and `close()` on the
/// loop's thread; `onEvent` is called there.
public final class UDPSession: EventHandler {
    public enum Event {
        /// The socket is ready: datagrams go to `peer` from `local`.
        case opened(peer: SocketAddress, local: SocketAddress?)
        /// One datagram (valid during the call only); `truncated` when it was larger than the buffer.
        case received(UnsafeRawBufferPointer, truncated: Bool)
        /// Something went wrong that does not end the session (port unreachable, a datagram that did not fit).
        case problem(String)
        /// It cannot go on: resolving failed, or the socket could not be made.
        case failed(String)
    }

    public let endpoint: Endpoint
    private let loop: EventLoop
    private let onEvent: (Event) -> Void
    private var socket: DatagramSocket?
    private var buffer = [UInt8](repeating: 0, count: DatagramSocket.maxPayload + 1)
    private var closed = false
    /// Datagrams read per readiness, so a flood cannot hold the loop.
    private let datagramsPerTurn = 64

    public init(loop: EventLoop, endpoint: Endpoint, onEvent: @escaping (Event) -> Void) {
        self.loop = loop
        self.endpoint = endpoint
        self.onEvent = onEvent
    }

    public func start() {
        ConnectAttempts.resolve(endpoint, on: loop) { [weak self] result in
            guard let self, !self.closed else { return }
            switch result {
            case let .success(attempts):
                guard let address = attempts.addresses.first else { return self.onEvent(.failed("no address for \(self.endpoint.host)")) }
                self.open(to: address)
            case let .failure(error):
                self.onEvent(.failed("\(error)"))
            }
        }
    }

    private func open(to address: SocketAddress) {
        do {
            let socket = try DatagramSocket(family: address.family)
            self.socket = socket
            try socket.connect(to: address)
            try loop.register(socket.descriptor, handler: self)
            onEvent(.opened(peer: address, local: socket.localAddress))
        } catch {
            socket?.close()
            socket = nil
            onEvent(.failed("\(error)"))
        }
    }

    /// Sends `bytes` as one datagram; says so (`problem`) when it is too large or the socket buffer is full.
    public func send(_ bytes: [UInt8]) {
        guard let socket else { return }
        guard bytes.count <= DatagramSocket.maxPayload else {
            return onEvent(.problem("a datagram of \(bytes.count) bytes is larger than \(DatagramSocket.maxPayload), not sent"))
        }
        do {
            let queued = try bytes.withUnsafeBytes { try socket.send($0) }
            if !queued { onEvent(.problem("no room in the socket buffer: the datagram was not sent")) }
        } catch let error as SocketError {
            onEvent(.problem(Self.explain(error, endpoint)))
        } catch {
            onEvent(.problem("\(error)"))
        }
    }

    public func close() {
        closed = true
        guard let socket else { return }
        loop.unregister(socket.descriptor)
        socket.close()
        self.socket = nil
    }

    public func handleEvent(readable: Bool, writable: Bool, hangup: Bool) {
        for _ in 0..<datagramsPerTurn {
            guard let socket else { return }
            do {
                let received = try buffer.withUnsafeMutableBytes { try socket.receive(into: $0) }
                guard let received else { return }
                buffer.withUnsafeBytes { all in
                    onEvent(.received(UnsafeRawBufferPointer(rebasing: all[0..<received.stored]), truncated: received.wasTruncated))
                }
            } catch let error as SocketError {
                onEvent(.problem(Self.explain(error, endpoint)))
            } catch {
                return
            }
        }
    }

    private static func explain(_ error: SocketError, _ endpoint: Endpoint) -> String {
        error.code == ECONNREFUSED ? "nothing answers on UDP port \(endpoint) (port unreachable)" : error.message
    }
}
