/// Where a transport's opening exchange stands.
public enum HandshakeStep: Equatable, Sendable {
    case done
    case wantsRead
    case wantsWrite
}
