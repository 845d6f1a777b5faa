import Crypto

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

    /// A version 4 header: an entry of a folder tree at the relative `path` (components joined by `/`, truncated to
    /// the wire limit on a UTF-8 boundary). A tree's top folder may announce the tree's `total`.
    public static func treeHeader(path: String, size: Int64, kind: FileHeader.Kind, secret: SharedSecret? = nil,
                                  identity: [UInt8] = [], total: TreeTotal? = nil) -> [UInt8] {
        precondition(total == nil || (kind == .folder && identity.isEmpty), "a total goes in a folder entry, in the identity's place")
        let identity = total?.wire ?? identity
        precondition(identity.count <= 255, "an identity is at most 255 bytes")
        precondition(size >= 0, "a size is never negative")
        let pathBytes = Array(path.truncatedToUTF8Length(FileTransferProtocol.maxNameLength).utf8)
        var bytes = FileTransferProtocol.headerMagic
        bytes.reserveCapacity(FileTransferProtocol.fixedTreeHeaderLength + pathBytes.count + (secret?.bytes.count ?? 0))
        bytes.append(FileTransferProtocol.treeVersion)
        appendBigEndian(UInt64(pathBytes.count), byteCount: 2, to: &bytes)
        appendBigEndian(UInt64(size), byteCount: 8, to: &bytes)
        bytes.append(kind.rawValue)
        bytes.append(UInt8(secret?.bytes.count ?? 0))
        bytes.append(UInt8(identity.count))
        if let secret { bytes.append(contentsOf: secret.bytes) }
        bytes.append(contentsOf: identity)
        bytes.append(contentsOf: pathBytes)
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
