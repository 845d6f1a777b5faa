/// A session key's wish, carried out by `ConsoleState.perform(_:clock:now:)` once the console knows the time.
public enum SessionRequest: Equatable, Sendable {
    /// Enter on the target: open a session to it, or go back to the one open there.
    case connect(target: String)
    case reconnect
    case finishSending
    case disconnect
    /// Send again the message on this transcript line (an index into the shown transcript's lines).
    case resend(index: Int)
}
