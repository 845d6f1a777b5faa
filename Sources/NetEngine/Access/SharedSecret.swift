#if canImport(Glibc)
import Glibc
#endif
import Crypto

/// The file server's shared secret (`--secret-file`): the sender puts it in every framed header (version 2), the
/// server compares it with its own. The comparison is of SHA-256 digests, byte for byte without stopping at the
/// first difference, so neither the secret's length nor how much of a guess was right shows in the time it takes.
public struct SharedSecret: Sendable {
    /// The secret as sent on the wire.
    public let bytes: [UInt8]
    private let digest: [UInt8]

    /// The most bytes a secret may have: its length is one byte in the header.
    public static let maxLength = 255

    public init(_ bytes: [UInt8]) throws {
        guard !bytes.isEmpty else { throw SharedSecretError(message: "the secret is empty") }
        guard bytes.count <= Self.maxLength else {
            throw SharedSecretError(message: "the secret is \(bytes.count) bytes, longer than the limit of \(Self.maxLength)")
        }
        self.bytes = bytes
        digest = Array(SHA256.hash(data: bytes))
    }

    /// Whether `candidate` is the secret, in time that depends only on the candidate's length.
    public func matches(_ candidate: [UInt8]) -> Bool {
        let other = Array(SHA256.hash(data: candidate))
        var difference: UInt8 = 0
        for index in 0..<digest.count { difference |= digest[index] ^ other[index] }
        return difference == 0
    }

    /// The secret in the first line of the file at `path`, without surrounding whitespace (so an editor's newline
    /// or a trailing space does not become part of it).
    public static func load(fromFile path: String) throws -> SharedSecret {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw SharedSecretError(message: "cannot read the secret file \(path): \(describe(errno))") }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while !bytes.contains(0x0A) && bytes.count <= 64 * 1024 {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n < 0 { throw SharedSecretError(message: "cannot read the secret file \(path): \(describe(errno))") }
            if n == 0 { break }
            bytes += chunk[0..<n]
        }
        let firstLine = bytes.prefix { $0 != 0x0A }
        let isSpace: (UInt8) -> Bool = { $0 == 0x20 || (0x09...0x0D).contains($0) }
        let trimmed = Array(firstLine.drop(while: isSpace).reversed().drop(while: isSpace).reversed())
        if trimmed.isEmpty {
            throw SharedSecretError(message: "the secret file \(path) is empty: its first line must hold the secret")
        }
        do { return try SharedSecret(trimmed) } catch let error as SharedSecretError {
            throw SharedSecretError(message: "the secret file \(path): \(error.message)")
        }
    }

    private static func describe(_ code: Int32) -> String {
        switch code {
        case ENOENT: return "no such file"
        case EACCES: return "permission denied"
        case EISDIR: return "it is a folder"
        default: return String(cString: strerror(code)).lowercased()
        }
    }
}

/// A secret that cannot be used, with the reason in words.
public struct SharedSecretError: Error, CustomStringConvertible, Equatable, Sendable {
    public let message: String
    public var description: String { message }
}
