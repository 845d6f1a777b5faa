/// What a session puts after each message it sends: LF, CR LF (HTTP, SMTP, Redis), or nothing.
public enum LineEnding: String, CaseIterable, Equatable, Sendable {
    case lf = "LF"
    case crlf = "CRLF"
    case none = "no line end"

    public var bytes: [UInt8] {
        switch self {
        case .lf: return [0x0A]
        case .crlf: return [0x0D, 0x0A]
        case .none: return []
        }
    }

    public var next: LineEnding {
        switch self {
        case .lf: return .crlf
        case .crlf: return .none
        case .none: return .lf
        }
    }
}
