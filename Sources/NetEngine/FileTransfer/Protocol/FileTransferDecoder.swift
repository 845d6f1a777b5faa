/// The server side of the framing as a state machine fed whatever bytes arrived: it yields a header, then slices of
/// the payload (views into the caller's buffer, never copies), then the trailer, and starts over for the next file.
/// It buffers at most one header (bounded by the name limit) or one trailer, never the advertised size.
public struct FileTransferDecoder {
    public enum Event {
        case header(FileHeader)
        /// Payload bytes: a view into the input, valid until the input is.
        case data(UnsafeRawBufferPointer)
        /// The SHA-256 the client computed over the payload.
        case trailer(sha256: [UInt8])
    }

    private enum Stage: Equatable {
        case header
        case payload(remaining: Int64)
        case trailer
        case failed
    }

    private var stage = Stage.header
    /// Header or trailer bytes collected so far.
    private var pending: [UInt8] = []
    /// Header bytes expected in total, once the name (and secret) lengths are known.
    private var headerLength = FileTransferProtocol.fixedHeaderLength
    /// The fixed part's length for the version being read: 15 (version 1), 16 (version 2, with a secret) or 18 (version 4).
    private var fixedLength = FileTransferProtocol.fixedHeaderLength
    private var secretLength = 0
    private var kind = FileHeader.Kind.file
    private var identityLength = 0
    private var declaredSize: Int64 = 0

    public init() {}

    /// True between files with no byte of the next header seen yet (a clean place for the stream to end).
    public var isBetweenFiles: Bool { stage == .header && pending.isEmpty }

    /// Payload bytes still expected for the current file (0 outside a payload).
    public var remainingPayload: Int64 {
        if case let .payload(remaining) = stage { return remaining }
        return 0
    }

    /// The server keeps the first `offset` bytes of the file whose header was just decoded (a resumed upload): only
    /// the rest of its payload follows, then the trailer.
    public mutating func resumeCurrentFile(at offset: Int64) {
        guard case let .payload(remaining) = stage, offset > 0, offset <= remaining else { return }
        stage = .payload(remaining: remaining - offset)
    }

    /// Forgets the file whose header was just decoded, for a server that refused it: the client sends no payload
    /// and no trailer for it, so the next bytes are the next header.
    public mutating func skipCurrentFile() {
        stage = .header
        resetPending()
    }

    /// Decodes from `input` starting at `offset`, advancing it. Returns nil once every byte is used (more input
    /// is needed). After it throws, the stream cannot be resynchronised and every later call throws again.
    public mutating func next(_ input: UnsafeRawBufferPointer, offset: inout Int) throws -> Event? {
        while true {
            switch stage {
            case .failed:
                throw FileTransferError.badHeader("stream already failed")
            case let .payload(remaining):
                if remaining == 0 {
                    stage = .trailer
                    resetPending()
                    continue
                }
                guard offset < input.count else { return nil }
                let take = Int(min(Int64(input.count - offset), remaining))
                let slice = UnsafeRawBufferPointer(rebasing: input[offset..<(offset + take)])
                offset += take
                stage = .payload(remaining: remaining - Int64(take))
                return .data(slice)
            case .header:
                guard offset < input.count else { return nil }
                if let header = try collectHeader(input, offset: &offset) {
                    stage = header.hasPayload ? .payload(remaining: header.size) : .header
                    resetPending()
                    return .header(header)
                }
            case .trailer:
                guard offset < input.count else { return nil }
                if let digest = try collectTrailer(input, offset: &offset) {
                    stage = .header
                    resetPending()
                    return .trailer(sha256: digest)
                }
            }
        }
    }

    private mutating func resetPending() {
        pending.removeAll(keepingCapacity: true)
        headerLength = FileTransferProtocol.fixedHeaderLength
        fixedLength = FileTransferProtocol.fixedHeaderLength
        secretLength = 0
        kind = .file
        identityLength = 0
    }

    /// Appends up to `wanted - pending.count` bytes from the input.
    private mutating func take(upTo wanted: Int, from input: UnsafeRawBufferPointer, offset: inout Int) {
        let count = min(wanted - pending.count, input.count - offset)
        guard count > 0 else { return }
        pending.append(contentsOf: input[offset..<(offset + count)])
        offset += count
    }

    private mutating func fail(_ message: String) -> FileTransferError {
        stage = .failed
        pending = []
        return .badHeader(message)
    }

    private mutating func collectHeader(_ input: UnsafeRawBufferPointer, offset: inout Int) throws -> FileHeader? {
        // The fixed part is checked field by field as bytes arrive, so garbage is refused at its first wrong byte.
        while pending.count < fixedLength && offset < input.count {
            let before = pending.count
            take(upTo: before + 1, from: input, offset: &offset)
            try checkFixedHeaderByte(at: before)
        }
        guard pending.count >= fixedLength else { return nil }
        take(upTo: headerLength, from: input, offset: &offset)
        guard pending.count == headerLength else { return nil }
        let carriesSecret = fixedLength == FileTransferProtocol.fixedSecretHeaderLength
            || (fixedLength == FileTransferProtocol.fixedTreeHeaderLength && secretLength > 0)
        let secret = carriesSecret ? Array(pending[fixedLength..<(fixedLength + secretLength)]) : nil
        let identity = pending[(fixedLength + secretLength)..<(fixedLength + secretLength + identityLength)]
        let nameBytes = pending[(fixedLength + secretLength + identityLength)...]
        let inTree = fixedLength == FileTransferProtocol.fixedTreeHeaderLength
        // A folder has no content to identify: there the field carries the tree's total, or anything, ignored.
        let isFolder = inTree && kind == .folder
        return FileHeader(name: String(decoding: nameBytes, as: UTF8.self), size: declaredSize, secret: secret, kind: kind,
                          inTree: inTree, identity: isFolder ? [] : Array(identity), total: isFolder ? TreeTotal(wire: identity) : nil)
    }

    private mutating func checkFixedHeaderByte(at index: Int) throws {
        let magic = FileTransferProtocol.headerMagic
        switch index {
        case 0..<magic.count:
            if pending[index] != magic[index] {
                throw fail("not a netconsole file header (expected the magic \"NCFT\"; a plain byte stream needs a server started with --raw)")
            }
        case 4:
            switch pending[4] {
            case FileTransferProtocol.version: fixedLength = FileTransferProtocol.fixedHeaderLength
            case FileTransferProtocol.secretVersion: fixedLength = FileTransferProtocol.fixedSecretHeaderLength
            case FileTransferProtocol.treeVersion: fixedLength = FileTransferProtocol.fixedTreeHeaderLength
            default:
                throw fail("unsupported protocol version \(pending[4]) (this server speaks versions \(FileTransferProtocol.version), "
                           + "\(FileTransferProtocol.secretVersion) and \(FileTransferProtocol.treeVersion))")
            }
        case 6:
            let length = Int(pending[5]) << 8 | Int(pending[6])
            if length > FileTransferProtocol.maxNameLength {
                throw fail("file name of \(length) bytes is longer than the limit of \(FileTransferProtocol.maxNameLength)")
            }
            headerLength = fixedLength + length
        case 14:
            var size: UInt64 = 0
            for byte in pending[7..<15] { size = size << 8 | UInt64(byte) }
            guard size <= UInt64(Int64.max) else { throw fail("declared size \(size) is not a valid file size") }
            declaredSize = Int64(size)
        case 15 where fixedLength == FileTransferProtocol.fixedTreeHeaderLength:
            guard let entryKind = FileHeader.Kind(rawValue: pending[15]) else { throw fail("unknown entry kind \(pending[15])") }
            kind = entryKind
            if entryKind == .folder && declaredSize != 0 { throw fail("a folder entry has no payload (size \(declaredSize))") }
        case 16:
            secretLength = Int(pending[16])
            headerLength += secretLength
        case 17:
            identityLength = Int(pending[17])
            headerLength += identityLength
        case 15:
            secretLength = Int(pending[15])
            if secretLength == 0 { throw fail("a version 2 header needs a secret of 1 to \(SharedSecret.maxLength) bytes") }
            headerLength += secretLength
        default:
            break
        }
    }

    private mutating func collectTrailer(_ input: UnsafeRawBufferPointer, offset: inout Int) throws -> [UInt8]? {
        let magic = FileTransferProtocol.trailerMagic
        while pending.count < magic.count && offset < input.count {
            take(upTo: pending.count + 1, from: input, offset: &offset)
            if pending.last != magic[pending.count - 1] {
                throw fail("missing trailer after the payload (more bytes than the declared size, or a corrupted stream)")
            }
        }
        take(upTo: FileTransferProtocol.trailerLength, from: input, offset: &offset)
        guard pending.count == FileTransferProtocol.trailerLength else { return nil }
        return Array(pending[magic.count...])
    }
}
