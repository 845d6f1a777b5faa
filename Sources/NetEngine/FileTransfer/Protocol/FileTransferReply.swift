import Crypto

/// One line the server sends: `READY`, `OK <saved-name>` or `ERR <code> <message>`; or, before `READY` or `ERR`,
/// `WAIT <seconds> <message>` while someone decides whether the upload may start (`--ask`).
public enum FileTransferReply: Equatable, Sendable {
    case ready
    case waiting(seconds: Int, message: String)
    /// `READY <offset>`: the answer to a resumable file; the server has its first `offset` bytes already.
    case readyAt(Int64)
    case saved(name: String)
    case error(code: Int, message: String)

    /// The line as sent, newline included. Control characters in names and messages become spaces so a reply is
    /// always exactly one line.
    public var line: String {
        switch self {
        case .ready: return "READY\n"
        case let .waiting(seconds, message): return "WAIT \(seconds) \(Self.singleLine(message))\n"
        case let .readyAt(offset): return "READY \(offset)\n"
        case let .saved(name): return "OK \(Self.singleLine(name))\n"
        case let .error(code, message): return "ERR \(code) \(Self.singleLine(message))\n"
        }
    }

    /// Parses one line (without or with its trailing "\n" / "\r\n"); nil when it is none of the three forms.
    public init?(line raw: String) {
        // By scalars: "\r\n" is a single Character, so Character-wise checks would miss it.
        var scalars = Substring(raw).unicodeScalars
        while let last = scalars.last, last == "\n" || last == "\r" { scalars.removeLast() }
        let text = Substring(scalars)
        if text == "READY" {
            self = .ready
        } else if text.hasPrefix("WAIT ") {
            let rest = text.dropFirst(5)
            let secondsText = rest.prefix { $0 != " " }
            guard let seconds = Int(secondsText), seconds >= 0 else { return nil }
            self = .waiting(seconds: seconds, message: String(rest.dropFirst(secondsText.count).drop { $0 == " " }))
        } else if text.hasPrefix("READY "), let offset = Int64(text.dropFirst(6)), offset >= 0 {
            self = .readyAt(offset)
        } else if text.hasPrefix("OK ") {
            let name = text.dropFirst(3)
            guard !name.isEmpty else { return nil }
            self = .saved(name: String(name))
        } else if text.hasPrefix("ERR ") {
            let rest = text.dropFirst(4)
            let codeText = rest.prefix { $0 != " " }
            guard let code = Int(codeText), codeText.count == 3 else { return nil }
            self = .error(code: code, message: String(rest.dropFirst(codeText.count).drop { $0 == " " }))
        } else {
            return nil
        }
    }

    private static func singleLine(_ text: String) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.map { scalar in
            scalar.value < 0x20 || scalar.value == 0x7F || (0x80..<0xA0).contains(scalar.value)
                || scalar.value == 0x2028 || scalar.value == 0x2029 ? " " : scalar
        }))
    }
}
