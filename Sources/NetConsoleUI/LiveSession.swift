import NetEngine

/// The network side of one session: a `TCPClient` running a `SessionHandler`, and what was typed before the
/// connection was up. Lives on the console's loop; `onEvent` and `onFailure` are called there.
final class LiveSession {
    private let client: TCPClient
    private let handler: SessionHandler
    private var queued: [[UInt8]] = []
    private var isOpen = false
    private var wantsFinish = false

    init(loop: EventLoop, endpoint: Endpoint, connectTimeout: Double,
         onEvent: @escaping (SessionHandler.Event) -> Void, onFailure: @escaping (String) -> Void) {
        var opened: (() -> Void)?
        handler = SessionHandler { event in
            if case .opened = event { opened?() }
            onEvent(event)
        }
        client = TCPClient(loop: loop, endpoint: endpoint, service: "session", handler: handler, onConnectFailure: onFailure)
        client.connectTimeout = connectTimeout
        opened = { [unowned self] in self.flush() }
    }

    func start() { client.start() }

    func send(_ bytes: [UInt8]) {
        if isOpen { handler.send(bytes) } else { queued.append(bytes) }
    }

    func finishSending() {
        if isOpen { handler.finishSending() } else { wantsFinish = true }
    }

    func close() { client.cancel() }

    private func flush() {
        isOpen = true
        for bytes in queued { handler.send(bytes) }
        queued = []
        if wantsFinish { handler.finishSending() }
    }
}
