import Crypto

/// The framed file-transfer protocol (docs/PROTOCOL.md): constants, the header, the encoder and the server's replies.
/// Pure Swift with no I/O, so it can be tested and fuzzed without sockets.
public enum FileTransferProtocol {
    /// "NCFT": starts every file header.
    public static let headerMagic: [UInt8] = [0x4E, 0x43, 0x46, 0x54]
    /// "NCFE": starts every trailer, right after the payload.
    public static let trailerMagic: [UInt8] = [0x4E, 0x43, 0x46, 0x45]
    /// The header without a secret.
    public static let version: UInt8 = 1
    /// The header with a shared secret (`send --secret-file`): version 1's fields, then the secret's length and bytes.
    public static let secretVersion: UInt8 = 2
    /// Magic (4), version (1), name length (2, big-endian), size (8, big-endian).
    public static let fixedHeaderLength = 15
    /// Version 2: version 1's fixed part, then the secret's length (1).
    public static let fixedSecretHeaderLength = 16
    /// Longest name accepted on the wire, in bytes; longer names are refused as bad headers.
    public static let maxNameLength = 4096
    /// Magic (4) and SHA-256 digest (32).
    public static let trailerLength = 36
    public static let digestLength = 32
    /// Longest reply line a client accepts.
    public static let maxReplyLength = 8192
}

/// What a client announces before a file's bytes.
public struct FileHeader: Equatable, Sendable {
    /// The name as sent (UTF-8, invalid sequences repaired); the server reduces it to a safe base name.
    public var name: String
    public var size: Int64
    /// The shared secret a version 2 header carries; nil in a version 1 header.
    public var secret: [UInt8]?

    public init(name: String, size: Int64, secret: [UInt8]? = nil) {
        self.name = name
        self.size = size
        self.secret = secret
    }
}

/// A protocol violation, with the status code the server answers it with.
public struct FileTransferError: Error, Equatable, CustomStringConvertible, Sendable {
    public let code: Int
    public let message: String

    public init(code: Int, message: String) {
        self.code = code
        self.message = message
    }

    public static func badHeader(_ message: String) -> FileTransferError {
        FileTransferError(code: FileTransferStatus.badRequest, message: message)
    }

    public var description: String { "\(code) \(message)" }
}

/// Status codes in `ERR` replies.
public enum FileTransferStatus {
    /// Malformed header or trailer, unsupported version.
    public static let badRequest = 400
    /// The server needs a shared secret and the upload carried none, or the wrong one.
    public static let unauthorized = 401
    /// The stream ended (or was cut) before the declared size.
    public static let incomplete = 408
    /// Declared size above the server's `--max-size`.
    public static let tooLarge = 413
    /// The bytes arrived but their SHA-256 is not the one in the trailer.
    public static let checksumMismatch = 422
    /// The server is at its connection limit (sent by `TCPServer` on accept).
    public static let busy = 503
    /// The server could not write or publish the file (disk full, permissions).
    public static let cannotWrite = 507
}

/// Builds the bytes a client sends.
public enum FileTransferEncoder {
    /// The header announcing a file called `name` (truncated to the wire limit on a UTF-8 boundary) of `size` bytes;
    /// version 2, carrying `secret`, when one is given.
    public static func header(name: String, size: Int64, secret: SharedSecret? = nil) -> [UInt8] {
        precondition(size >= 0, "a file size is never negative")
        let nameBytes = Array(name.truncatedToUTF8Length(FileTransferProtocol.maxNameLength).utf8)
        var bytes = FileTransferProtocol.headerMagic
        bytes.reserveCapacity(FileTransferProtocol.fixedSecretHeaderLength + nameBytes.count + (secret?.bytes.count ?? 0))
        bytes.append(secret == nil ? FileTransferProtocol.version : FileTransferProtocol.secretVersion)
        appendBigEndian(UInt64(nameBytes.count), byteCount: 2, to: &bytes)
        appendBigEndian(UInt64(size), byteCount: 8, to: &bytes)
        if let secret {
            bytes.append(UInt8(secret.bytes.count))
            bytes.append(contentsOf: secret.bytes)
        }
        bytes.append(contentsOf: nameBytes)
        return bytes
    }

    /// The SHA-256 of `bytes`, for callers that hold a whole (small) payload in memory.
    public static func sha256(of bytes: [UInt8]) -> [UInt8] {
        Array(SHA256.hash(data: bytes))
    }

    /// The trailer carrying the SHA-256 of the payload just sent.
    public static func trailer(sha256 digest: [UInt8]) -> [UInt8] {
        precondition(digest.count == FileTransferProtocol.digestLength, "a SHA-256 digest is 32 bytes")
        return FileTransferProtocol.trailerMagic + digest
    }

    private static func appendBigEndian(_ value: UInt64, byteCount: Int, to bytes: inout [UInt8]) {
        for index in stride(from: byteCount - 1, through: 0, by: -1) {
            bytes.append(UInt8(truncatingIfNeeded: value >> (UInt64(index) * 8)))
        }
    }
}

/// One line the server sends: `READY`, `OK <saved-name>` or `ERR <code> <message>`.
public enum FileTransferReply: Equatable, Sendable {
    case ready
    case saved(name: String)
    case error(code: Int, message: String)

    /// The line as sent, newline included. Control characters in names and messages become spaces so a reply is
    /// always exactly one line.
    public var line: String {
        switch self {
        case .ready: return "READY\n"
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

extension String {
    /// The longest prefix whose UTF-8 form fits in `limit` bytes, cut between Unicode scalars.
    func truncatedToUTF8Length(_ limit: Int) -> String {
        guard utf8.count > limit else { return self }
        var result = String.UnicodeScalarView()
        var used = 0
        for scalar in unicodeScalars {
            let length = String(scalar).utf8.count
            if used + length > limit { break }
            used += length
            result.append(scalar)
        }
        return String(result)
    }
}
