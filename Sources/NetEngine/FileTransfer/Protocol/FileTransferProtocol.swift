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
    /// A folder tree's entries (`send DIR`): version 2's fields, then the entry's kind and a relative path; the secret
    /// may be empty. (Version 3 is not used.)
    public static let treeVersion: UInt8 = 4
    /// Magic (4), version (1), name length (2, big-endian), size (8, big-endian).
    public static let fixedHeaderLength = 15
    /// Version 2: version 1's fixed part, then the secret's length (1).
    public static let fixedSecretHeaderLength = 16
    /// Version 4: version 1's fixed part, the kind (1), the secret's length (1, may be 0), the identity's length (1).
    public static let fixedTreeHeaderLength = 18
    /// Longest name accepted on the wire, in bytes; longer names are refused as bad headers.
    public static let maxNameLength = 4096
    /// Magic (4) and SHA-256 digest (32).
    public static let trailerLength = 36
    public static let digestLength = 32
    /// Longest reply line a client accepts.
    public static let maxReplyLength = 8192
}
