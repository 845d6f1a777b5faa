import NetEngine

/// The network side of one session: a `TCPClient` running a `SessionHandler` (with what was typed before the
/// connection was up), or a `UDPSession`. Lives on the console's loop; `onEvent` is called there.
final class LiveSession {
    enum Event {
        case opened(peer: String, local: String?)
        /// Bytes from a TCP peer (valid during the call only).
        case received(UnsafeRawBufferPointer)
        /// One datagram from a UDP peer (valid during the call only).
        case datagram(UnsafeRawBufferPointer, truncated: Bool)
        case peerFinished
        /// The TCP connection ended: nil in order, else why.
        case closed(String?)
        /// It never opened.
        case failed(String)
        /// Something went wrong and the session goes on (UDP).
        case problem(String)
    }

    private var client: TCPClient?
    private var handler: SessionHandler?
    private var udp: UDPSession?
    private var queued: [[UInt8]] = []
    private var isOpen = false
    private var wantsFinish = false

    /// `tls`: a TCP session speaks TLS with it (UDP has none).
    init(loop: EventLoop, endpoint: Endpoint, udp isUDP: Bool, connectTimeout: Double, tls: TLSClientConfiguration? = nil,
         onEvent: @escaping (Event) -> Void) {
        var opened: (() -> Void)?
        defer { opened = { [unowned self] in self.flush() } }
        if isUDP {
            udp = UDPSession(loop: loop, endpoint: endpoint) { event in
                switch event {
                case let .opened(peer, local):
                    opened?()
                    onEvent(.opened(peer: peer.description, local: local?.description))
                case let .received(bytes, truncated): onEvent(.datagram(bytes, truncated: truncated))
                case .problem(let reason): onEvent(.problem(reason))
                case .failed(let reason): onEvent(.failed(reason))
                }
            }
            return
        }
        let handler = SessionHandler { event in
            switch event {
            case .opened(let connection):
                // The inspector (F8) shows what crossed since the start.
                connection.startCapture()
                opened?()
                onEvent(.opened(peer: connection.peer.description, local: connection.localAddress?.description))
            case .received(let bytes): onEvent(.received(bytes))
            case .peerFinished: onEvent(.peerFinished)
            case .closed(let error): onEvent(.closed(error?.message))
            }
        }
        let client = TCPClient(loop: loop, endpoint: endpoint, service: "session", handler: handler) { reason in onEvent(.failed(reason)) }
        client.connectTimeout = connectTimeout
        client.tls = tls
        self.handler = handler
        self.client = client
    }

    /// The TCP connection while it is open.
    var connection: Connection? { client?.connection }

    func start() {
        client?.start()
        udp?.start()
    }

    func send(_ bytes: [UInt8]) {
        guard isOpen else { return queued.append(bytes) }
        if let udp { udp.send(bytes) } else { handler?.send(bytes) }
    }

    func finishSending() {
        if isOpen { handler?.finishSending() } else { wantsFinish = true }
    }

    func close() {
        client?.cancel()
        udp?.close()
    }

    private func flush() {
        isOpen = true
        let waiting = queued
        queued = []
        for bytes in waiting { send(bytes) }
        if wantsFinish { handler?.finishSending() }
    }
}
