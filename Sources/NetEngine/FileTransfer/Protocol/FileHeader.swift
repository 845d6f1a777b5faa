import Crypto

/// What a client announces before a file's bytes.
public struct FileHeader: Equatable, Sendable {
    /// What a version 4 (folder tree) header announces.
    public enum Kind: UInt8, Sendable {
        /// A file: the server answers `READY` (or `ERR`) before the payload.
        case file = 0
        /// A small file whose payload and trailer follow the header at once; one answer after the trailer.
        case eagerFile = 1
        /// A folder (no payload); answered at once.
        case folder = 2
        /// The end of a folder tree (no payload); `size` is how many entries the sender skipped. Answered at once.
        case end = 3
        /// A file the server may keep part of if the connection breaks: it answers `READY <offset>`, and only the
        /// bytes from that offset follow (the trailer still covers the whole file).
        case resumableFile = 4
    }

    /// The name as sent (UTF-8, invalid sequences repaired); the server reduces it to a safe base name. In a
    /// version 4 header, a relative path with `/` between its components.
    public var name: String
    public var size: Int64
    /// The shared secret a version 2 or 4 header carries; nil in a version 1 header.
    public var secret: [UInt8]?
    public var kind: Kind
    /// What the sender says identifies the file's content (version 4; for `resumableFile`): a changed file has
    /// another identity, so its kept part is never continued.
    public var identity: [UInt8]
    /// Whether it came in a version 4 header, whose name is a relative path inside a folder tree.
    public var inTree: Bool
    /// What a folder entry's sender says its tree holds (carried where a file's identity goes); only a tree's top
    /// folder announces it. Display-only.
    public var total: TreeTotal?

    public init(name: String, size: Int64, secret: [UInt8]? = nil, kind: Kind = .file, inTree: Bool = false,
                identity: [UInt8] = [], total: TreeTotal? = nil) {
        self.name = name
        self.size = size
        self.secret = secret
        self.kind = kind
        self.inTree = inTree
        self.identity = identity
        self.total = total
    }

    /// Whether payload bytes and a trailer follow the header.
    public var hasPayload: Bool { kind == .file || kind == .eagerFile || kind == .resumableFile }
}
