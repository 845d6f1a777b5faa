/// Settings the framed and the raw upload handlers share.
public struct FileServerOptions: Sendable {
    /// Folder uploads are saved into (and only into). Created when the first upload arrives.
    public var directory: String
    /// Largest upload accepted, in bytes.
    public var maxSize: Int64
    /// fsync each file (and the folder) before reporting it saved.
    public var fsync: Bool
    /// Save every connection's bytes until EOF as a file, with no header, size or checksum (like `nc -l > file`).
    public var raw: Bool
    /// Seconds without a payload byte after which an upload is dropped and its partial file removed.
    public var stallTimeout: Double
    /// An upload slower than this many bytes per second, averaged over `minimumRateWindow`, is dropped (0: no minimum).
    public var minimumRate: Int64
    /// Raw mode: publish a connection that sent no byte at all as an empty file (port probes otherwise leave nothing).
    public var keepEmpty: Bool
    /// Seconds over which the minimum rate is averaged: long enough for a slow link's bursts, short enough that a
    /// peer trickling one byte at a time cannot hold a connection and a temporary file for minutes.
    public var minimumRateWindow: Double = 30
    /// When set, a framed upload must carry this secret in its header, and raw uploads are refused.
    public var secret: SharedSecret?
    /// `--ask`: every framed upload waits after its header for this to accept it (raw uploads are refused).
    public var approval: UploadApproval?
    /// Seconds an upload waits for `approval` before it is refused.
    public var approvalTimeout: Double = 60
    /// Seconds the part of an interrupted resumable upload is kept (`--keep-partial`).
    public var keepPartial: Double = 24 * 3600
    /// Bytes all kept parts may hold together, and those of one peer (each part also counts against `maxSize`).
    public var maxPartialBytes: Int64 = 8 << 30
    public var maxPartialBytesPerPeer: Int64 = 2 << 30

    public static let defaultMaxSize: Int64 = 1 << 30
    /// What a file service asks of each recv: an upload is one long stream, and each read costs a recv, a write and
    /// a hash update, so 1 MiB reads cost the server about a sixth less CPU per byte than 64 KiB ones (measured in
    /// BENCHMARKS.md). The buffer is shared by a loop's connections, so this is per loop, not per connection.
    public static let readBufferSize = 1 << 20

    public init(directory: String, maxSize: Int64 = FileServerOptions.defaultMaxSize, fsync: Bool = true, raw: Bool = false,
                stallTimeout: Double = 60, minimumRate: Int64 = 1024, keepEmpty: Bool = false) {
        self.directory = directory
        self.maxSize = maxSize
        self.fsync = fsync
        self.raw = raw
        self.stallTimeout = stallTimeout
        self.minimumRate = minimumRate
        self.keepEmpty = keepEmpty
    }
}
