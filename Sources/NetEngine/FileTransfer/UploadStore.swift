#if canImport(Glibc)
import Glibc
#endif
import CLinux
import Crypto

/// Settings the framed and the raw upload handlers share.
public struct FileServerOptions: Sendable {
    /// Folder uploads are saved into (and only into).
    public var directory: String
    /// Largest upload accepted, in bytes.
    public var maxSize: Int64
    /// fsync each file (and the folder) before reporting it saved.
    public var fsync: Bool
    /// Save every connection's bytes until EOF as a file, with no header, size or checksum (like `nc -l > file`).
    public var raw: Bool
    /// Seconds without a payload byte after which a framed upload is dropped and its partial file removed.
    public var stallTimeout: Double

    public static let defaultMaxSize: Int64 = 1 << 30

    public init(directory: String, maxSize: Int64 = FileServerOptions.defaultMaxSize, fsync: Bool = true, raw: Bool = false,
                stallTimeout: Double = 60) {
        self.directory = directory
        self.maxSize = maxSize
        self.fsync = fsync
        self.raw = raw
        self.stallTimeout = stallTimeout
    }
}

/// A file that made it: its name in the folder, full path, size and SHA-256 (hex).
public struct SavedFile: Equatable, Sendable {
    public let name: String
    public let path: String
    public let size: Int64
    public let sha256: String
}

/// The upload folder: hands out hidden temporary files and publishes finished ones under a name that exists nowhere
/// else in the folder, so an existing file is never overwritten.
public final class UploadStore {
    public let directory: String
    public let fsyncEnabled: Bool

    public static let temporaryPrefix = ".netconsole-upload-"
    public static let temporarySuffix = ".part"

    public init(options: FileServerOptions) {
        directory = options.directory
        fsyncEnabled = options.fsync
    }

    /// Creates `directory` (and its parents) if missing and proves it writable by creating and removing a temporary
    /// file. Throws a `SocketError` whose message says what is wrong.
    public static func prepare(directory: String) throws {
        try makeDirectories(directory)
        let probe = try UploadStore(options: FileServerOptions(directory: directory, fsync: false)).begin()
        probe.discard()
    }

    /// A new, empty, hidden temporary file in the folder.
    public func begin() throws -> PendingUpload {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<100 {
            let token = String(generator.next() as UInt64, radix: 36)
            let path = join(directory, "\(Self.temporaryPrefix)\(token)\(Self.temporarySuffix)")
            let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o644)
            if fd >= 0 { return PendingUpload(descriptor: fd, temporaryPath: path, store: self) }
            if errno == EEXIST || errno == EINTR { continue }
            throw SocketError(errno: errno, operation: "create a temporary file", subject: directory)
        }
        throw SocketError(code: EEXIST, message: "cannot create a temporary file in \(directory)")
    }

    /// Bytes free for an unprivileged writer in the folder's file system, when the system says.
    public func availableBytes() -> Int64? {
        var info = statvfs()
        guard statvfs(directory, &info) == 0 else { return nil }
        let total = UInt64(info.f_bavail) &* UInt64(info.f_frsize)
        return total > UInt64(Int64.max) ? Int64.max : Int64(total)
    }

    /// Gives the temporary file at `temporaryPath` the first free name among `name`, `name (1)`, `name (2)`, ...
    /// with link(2), which fails rather than replace an existing file; then removes the temporary name.
    func publish(temporaryPath: String, as name: String) throws -> (name: String, path: String) {
        for number in 0..<10_000 {
            let candidate = SafeFileName.variant(of: name, number: number)
            let path = join(directory, candidate)
            if link(temporaryPath, path) == 0 {
                unlink(temporaryPath)
                syncDirectory()
                return (candidate, path)
            }
            switch errno {
            case EEXIST, EINTR:
                continue
            case EPERM, EOPNOTSUPP, EMLINK, ENOSYS:
                // No hard links on this file system: reserve the name exclusively, then rename over the reservation.
                let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o644)
                if fd < 0 {
                    if errno == EEXIST { continue }
                    throw SocketError(errno: errno, operation: "create", subject: candidate)
                }
                close(fd)
                guard rename(temporaryPath, path) == 0 else {
                    let code = errno
                    unlink(path)
                    throw SocketError(errno: code, operation: "rename", subject: candidate)
                }
                syncDirectory()
                return (candidate, path)
            case let code:
                throw SocketError(errno: code, operation: "save", subject: candidate)
            }
        }
        throw SocketError(code: EEXIST, message: "too many files named like \(name)")
    }

    private func syncDirectory() {
        guard fsyncEnabled else { return }
        let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        _ = fsync(fd)
        close(fd)
    }

    private static func makeDirectories(_ path: String) throws {
        var info = stat()
        if stat(path, &info) == 0 {
            guard info.st_mode & S_IFMT == S_IFDIR else {
                throw SocketError(code: ENOTDIR, message: "\(path) exists and is not a folder")
            }
            return
        }
        let parent = path.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
        if !parent.isEmpty && parent != path { try makeDirectories(parent) }
        if mkdir(path, 0o755) != 0 && errno != EEXIST {
            throw SocketError(errno: errno, operation: "create folder", subject: path)
        }
    }
}

/// One upload being written: a hidden temporary file, hashed as it is written. It becomes a visible file only
/// through `publish`; every other ending (and deinit) removes it.
public final class PendingUpload {
    public private(set) var written: Int64 = 0
    public let temporaryPath: String
    private var descriptor: Int32
    private var hasher = SHA256()
    private let store: UploadStore
    private var finished = false
    /// Bytes already handed to the disk's writeback (fsync mode only).
    private var writebackStartedUpTo: Int64 = 0

    /// With fsync on, writeback of every this many new bytes is started while the upload goes on, so the disk
    /// writes during the transfer instead of all at the final fsync (which then only waits for the tail).
    static let writebackChunk: Int64 = 4 << 20

    init(descriptor: Int32, temporaryPath: String, store: UploadStore) {
        self.descriptor = descriptor
        self.temporaryPath = temporaryPath
        self.store = store
    }

    deinit { discard() }

    /// Appends `bytes` to the file and the running digest.
    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard !finished else { throw SocketError(code: EBADF, message: "upload already finished") }
        hasher.update(bufferPointer: bytes)
        var offset = 0
        while offset < bytes.count {
            let n = Glibc.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                throw SocketError(errno: errno, operation: "write", subject: "upload folder")
            }
            offset += n
        }
        written += Int64(bytes.count)
        if store.fsyncEnabled && written - writebackStartedUpTo >= Self.writebackChunk {
            // Asynchronous: queues the dirty pages for writing and returns; errors surface at fsync.
            _ = sync_file_range(descriptor, Int(writebackStartedUpTo), Int(written - writebackStartedUpTo), UInt32(SYNC_FILE_RANGE_WRITE))
            writebackStartedUpTo = written
        }
    }

    /// Checks the digest of everything written against `expectedSHA256` (nil: nothing to check, raw mode), fsyncs
    /// when the store asks for it, and publishes the file under `name` or a free variant of it.
    /// A mismatch throws a `FileTransferError` 422; disk trouble throws a `SocketError`. Either way the file is gone.
    public func publish(as name: String, expectedSHA256: [UInt8]?) throws -> SavedFile {
        guard !finished else { throw SocketError(code: EBADF, message: "upload already finished") }
        let digest = Array(hasher.finalize())
        do {
            if let expected = expectedSHA256, expected != digest {
                throw FileTransferError(code: FileTransferStatus.checksumMismatch,
                                        message: "checksum mismatch: received bytes hash to \(hexString(digest)), the trailer says \(hexString(expected))")
            }
            if store.fsyncEnabled {
                while fsync(descriptor) != 0 {
                    if errno != EINTR { throw SocketError(errno: errno, operation: "fsync", subject: "upload folder") }
                }
            }
            closeDescriptor()
            let published = try store.publish(temporaryPath: temporaryPath, as: name)
            finished = true
            return SavedFile(name: published.name, path: published.path, size: written, sha256: hexString(digest))
        } catch {
            discard()
            throw error
        }
    }

    /// Closes and removes the temporary file; does nothing once published or discarded.
    public func discard() {
        guard !finished else { return }
        finished = true
        closeDescriptor()
        unlink(temporaryPath)
    }

    private func closeDescriptor() {
        if descriptor >= 0 {
            close(descriptor)
            descriptor = -1
        }
    }
}

/// Lowercase hex of `bytes`.
public func hexString<Bytes: Sequence>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
    let digits: [UInt8] = Array("0123456789abcdef".utf8)
    var out: [UInt8] = []
    for byte in bytes {
        out.append(digits[Int(byte >> 4)])
        out.append(digits[Int(byte & 0x0F)])
    }
    return String(decoding: out, as: UTF8.self)
}

func join(_ directory: String, _ name: String) -> String {
    directory.hasSuffix("/") ? directory + name : directory + "/" + name
}
