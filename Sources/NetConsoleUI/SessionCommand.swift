import NetEngine

/// What the console must do on the network for a session: the state decides, `ConsoleApp` does it.
public enum SessionCommand: Equatable {
    /// Connect (again) to `endpoint`, by TCP or with a UDP socket; a connection the session still has is closed first.
    case connect(id: Int, endpoint: Endpoint, udp: Bool = false)
    /// Send the bytes, once connected if it is still connecting.
    case send(id: Int, bytes: [UInt8])
    /// Half-close: a FIN once everything is sent; replies still arrive.
    case finishSending(id: Int)
    case close(id: Int)
}
