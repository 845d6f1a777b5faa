/// Steps a transport's opening exchange (a TLS handshake) on the loop before the connection's handler starts. It
/// gets the descriptor's events until the exchange is done, then hands them back to the connection.
/// It holds the connection strongly: in the loop's place, it may be the only one that does (the connection drops it
/// when the exchange ends or the connection closes).
final class TransportHandshake: EventHandler {
    private let connection: Connection
    private let transport: Transport

    init(connection: Connection, transport: Transport) {
        self.connection = connection
        self.transport = transport
    }

    func advance() {
        do {
            switch try transport.advanceHandshake() {
            case .done: connection.handshakeFinished()
            case .wantsRead: connection.setHandshakeInterest(read: true, write: false)
            case .wantsWrite: connection.setHandshakeInterest(read: false, write: true)
            }
        } catch let error as NetError {
            connection.handshakeFailed(error.message)
        } catch {
            connection.handshakeFailed("\(error)")
        }
    }

    func handleEvent(readable: Bool, writable: Bool, hangup: Bool) {
        advance()
    }
}
