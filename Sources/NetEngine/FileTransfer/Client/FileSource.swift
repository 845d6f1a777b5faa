#if canImport(Glibc)
import Glibc
#endif
import CMappedRead
import Crypto

/// One local file being sent: opened once, read front to back in blocks that are hashed as they are read, and
/// checked at the end against how it was when opening (a file that changed is never reported complete). A file that
/// reports a size of 0 but yields data (`/proc`, `/sys`) is read whole at opening and sent as it was then.
final class FileSource {
    let path: String
    private(set) var size: Int64 = 0
    private(set) var read: Int64 = 0
    private var descriptor: Int32 = -1
    private var identity = FileIdentity()
    private var snapshot: [UInt8]?
    private var hasher = SHA256()

    /// The most a zero-size file is read into memory to send it.
    static let snapshotLimit = 16 << 20

    enum OpenFailure: Error {
        /// The file cannot be opened: it is skipped.
        case unavailable(String)
        /// It opened but could not be read: the session ends.
        case unreadable(String)
    }

    /// The bytes that open it: `rawPath` when given (a name that is not UTF-8, found by listing a folder), else `path`'s.
    private let openPath: [UInt8]

    init(path: String, rawPath: [UInt8]? = nil) {
        self.path = path
        openPath = rawPath ?? Array(path.utf8)
    }

    deinit { close() }

    func open() throws(OpenFailure) {
        let fd = PathBytes.withCString(openPath) { Glibc.open($0, O_RDONLY | O_CLOEXEC) }
        var info = stat()
        if fd < 0 || fstat(fd, &info) != 0 {
            let reason = Self.describe(errno)
            if fd >= 0 { Glibc.close(fd) }
            throw .unavailable(reason)
        }
        descriptor = fd
        size = Int64(info.st_size)
        identity = FileIdentity(info)
        guard size == 0 else { return }
        switch Self.readWhole(fd, limit: Self.snapshotLimit) {
        case let .success(bytes):
            if !bytes.isEmpty {
                snapshot = bytes
                size = Int64(bytes.count)
            }
        case let .failure(reason):
            throw .unreadable("\(path): \(reason)")
        }
    }

    var isComplete: Bool { read == size }

    /// The open file, for the kernel to send from (`sendfile`); nil when the bytes come from a snapshot in memory.
    var directDescriptor: Int32? { snapshot == nil && descriptor >= 0 ? descriptor : nil }

    /// Why a file that shrank under the send cannot be sent, with where it ends now (each place that finds it shrunk
    /// knows only where its own read stopped).
    func shrankMessage() -> String {
        var info = stat()
        guard descriptor >= 0, fstat(descriptor, &info) == 0 else { return "\(path) shrank while being sent: it can no longer be read" }
        return "\(path) shrank while being sent: it ended after \(info.st_size) of \(size) bytes"
    }

    /// What tells this file's content from a changed one: device, inode, size and modification time.
    var identityBytes: [UInt8] {
        var info = stat()
        guard descriptor >= 0, fstat(descriptor, &info) == 0 else { return [] }
        var bytes: [UInt8] = []
        for value in [UInt64(info.st_dev), UInt64(info.st_ino), UInt64(bitPattern: Int64(size)),
                      UInt64(bitPattern: Int64(info.st_mtim.tv_sec)), UInt64(info.st_mtim.tv_nsec)] {
            withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) }
        }
        return bytes
    }

    /// Reads and hashes the first `offset` bytes without sending them (the server kept them from an earlier try).
    func skip(to offset: Int64) -> Result<Void, FileSendError> {
        guard offset <= size, read == 0 else { return .failure(FileSendError(message: "cannot resume \(path) at \(offset)")) }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { buffer.deallocate() }
        while read < offset {
            let chunk = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<Int(min(Int64(buffer.count), offset - read))])
            if case let .failure(error) = readBlock(into: chunk) { return .failure(error) }
        }
        return .success(())
    }

    /// Whether mapped reads are guarded against a file that shrinks (the SIGBUS handler is in place).
    private static let mappingIsSafe = cmapped_install() == 0
    private static let pageSize = Int64(sysconf(Int32(_SC_PAGESIZE)))

    /// Hashes the next `count` bytes where they lie, in the page cache, through a read-only mapping (no copy into
    /// this process), for bytes the kernel sends itself. Nil when the file cannot be mapped: read it instead. A file
    /// that shrinks under the mapping reads as zeros there (instead of killing the process) and fails here.
    func hashInPlace(count wanted: Int) -> Result<Int, FileSendError>? {
        guard Self.mappingIsSafe, snapshot == nil, descriptor >= 0 else { return nil }
        let count = Int(min(Int64(wanted), size - read))
        guard count > 0 else { return .success(0) }
        let start = read & ~(Self.pageSize - 1)
        let lead = Int(read - start)
        let length = lead + count
        guard let base = mmap(nil, length, PROT_READ, MAP_SHARED | MAP_POPULATE, descriptor, off_t(start)),
              base != MAP_FAILED else { return nil }
        defer { munmap(base, length) }
        let bytes = UnsafeRawBufferPointer(start: base + lead, count: count)
        cmapped_guard_begin(bytes.baseAddress, count)
        hasher.update(bufferPointer: bytes)
        if cmapped_guard_end() != 0 {
            return .failure(FileSendError(message: shrankMessage()))
        }
        read += Int64(count)
        if let changed = changedSinceLastCheck() { return .failure(changed) }
        return .success(count)
    }

    /// Bytes read when the file was last checked for a change, and how often it is checked while it is read: a file
    /// changed half way is given up at once, not after all of it was sent.
    private var checkedAt: Int64 = 0
    static let checkEvery: Int64 = 16 << 20

    private func changedSinceLastCheck() -> FileSendError? {
        guard snapshot == nil, read - checkedAt >= Self.checkEvery, read < size else { return nil }
        checkedAt = read
        guard let change = identity.change(of: descriptor, sentSize: size) else { return nil }
        return changedError(change)
    }

    private func changedError(_ change: String) -> FileSendError {
        FileSendError(message: "\(path) changed while it was being sent (\(change)); nothing was saved, send it again")
    }

    /// Reads bytes already hashed again, at `offset`, to write them (when the kernel turned out unable to send them
    /// from the file); the count read.
    func reread(at offset: Int64, into buffer: UnsafeMutableRawBufferPointer) -> Result<Int, FileSendError> {
        while true {
            let n = pread(descriptor, buffer.baseAddress, buffer.count, off_t(offset))
            if n < 0 && errno == EINTR { continue }
            if n < 0 { return .failure(FileSendError(message: "cannot read \(path): \(Self.describe(errno))")) }
            if n < buffer.count { return .failure(FileSendError(message: shrankMessage())) }
            return .success(n)
        }
    }

    /// Reads and hashes the next block into `buffer`; the byte count, or why the file cannot be sent.
    func readBlock(into buffer: UnsafeMutableRawBufferPointer) -> Result<Int, FileSendError> {
        let wanted = Int(min(Int64(buffer.count), size - read))
        if let snapshot {
            let start = Int(read)
            snapshot.withUnsafeBytes { source in
                buffer.baseAddress!.copyMemory(from: source.baseAddress! + start, byteCount: wanted)
            }
            return .success(took(wanted, buffer))
        }
        while true {
            let n = pread(descriptor, buffer.baseAddress, wanted, off_t(read))
            if n < 0 && errno == EINTR { continue }
            if n < 0 { return .failure(FileSendError(message: "cannot read \(path): \(Self.describe(errno))")) }
            if n == 0 {
                return .failure(FileSendError(message: shrankMessage()))
            }
            let count = took(n, buffer)
            if let changed = changedSinceLastCheck() { return .failure(changed) }
            return .success(count)
        }
    }

    private func took(_ count: Int, _ buffer: UnsafeMutableRawBufferPointer) -> Int {
        hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
        read += Int64(count)
        return count
    }

    /// Every byte is read: the SHA-256, or why the file must not be reported sent (it changed meanwhile).
    func finish() -> Result<[UInt8], FileSendError> {
        if snapshot == nil, let change = identity.change(of: descriptor, sentSize: size) {
            return .failure(changedError(change))
        }
        return .success(Array(hasher.finalize()))
    }

    func close() {
        if descriptor >= 0 { Glibc.close(descriptor) }
        descriptor = -1
    }

    // MARK: Checking files

    /// The size of the regular, readable file at `path`, or an error that says what is wrong with it.
    static func inspect(_ path: String, rawPath: [UInt8]? = nil) throws -> Int64 {
        let bytes = rawPath ?? Array(path.utf8)
        var info = stat()
        if PathBytes.withCString(bytes, { stat($0, &info) }) != 0 {
            throw FileSendError(message: "\(path): \(describe(errno))")
        }
        if info.st_mode & S_IFMT == S_IFDIR {
            throw FileSendError(message: "\(path): is a folder, not a file")
        }
        if info.st_mode & S_IFMT != S_IFREG {
            throw FileSendError(message: "\(path): not a regular file")
        }
        let fd = PathBytes.withCString(bytes) { Glibc.open($0, O_RDONLY | O_CLOEXEC) }
        if fd < 0 { throw FileSendError(message: "\(path): \(describe(errno))") }
        Glibc.close(fd)
        return Int64(info.st_size)
    }

    /// All of `fd`'s bytes, up to `limit`.
    private static func readWhole(_ fd: Int32, limit: Int) -> Result<[UInt8], FileSendError> {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n < 0 { return .failure(FileSendError(message: describe(errno))) }
            if n == 0 { return .success(bytes) }
            bytes.append(contentsOf: chunk[0..<n])
            if bytes.count > limit {
                return .failure(FileSendError(message: "reports a size of 0 but yields more than \(ByteCount.format(limit)); not sent"))
            }
        }
    }

    static func describe(_ code: Int32) -> String {
        switch code {
        case ENOENT: return "no such file"
        case EACCES: return "permission denied"
        case ENOTDIR: return "a part of the path is not a folder"
        default: return String(cString: strerror(code)).lowercased()
        }
    }
}
