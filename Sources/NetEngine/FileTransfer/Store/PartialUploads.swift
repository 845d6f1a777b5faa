#if canImport(Glibc)
import Glibc
#endif
import Crypto

/// The parts of resumable uploads that the server keeps when a connection breaks (the client went away, was killed,
/// or the server was): named files in the hidden folder `.netconsole-partial` of the upload folder, so they survive a
/// restart, each with a small record (`KEY.meta`: the peer, the declared size, the name). A part's key is a hash of
/// the peer's address, the name, the declared size, the sender's file identity and the secret, so a client cannot
/// continue another peer's part, and a changed file (another identity) never continues an old one. Parts count
/// against caps (all parts, and one peer's) and are removed once older than `keepFor` (`sweep`). The folder is
/// opened once and used only through its descriptor, with names the server made; it is removed again when empty.
public final class PartialUploads: @unchecked Sendable {
    /// One kept part: where it is, so it can be removed with its record.
    struct Kept {
        let folder: Int32
        let name: String
        let record: String
        let owner: PartialUploads

        func remove() {
            owner.remove(name: name, record: record, in: folder)
        }
    }

    public static let folderName = ".netconsole-partial"
    static let partSuffix = ".part"
    static let recordSuffix = ".meta"

    private let store: UploadStore
    private let lock = Lock()
    private var descriptor: Int32 = -1
    /// Seconds a part is kept after its last byte arrived.
    public let keepFor: Double
    /// Bytes all parts (and the one being started) may hold together, and those of one peer.
    public let maxBytes: Int64
    public let maxBytesPerPeer: Int64

    init(store: UploadStore, keepFor: Double, maxBytes: Int64, maxBytesPerPeer: Int64) {
        self.store = store
        self.keepFor = keepFor
        self.maxBytes = maxBytes
        self.maxBytesPerPeer = maxBytesPerPeer
    }

    deinit {
        if descriptor >= 0 { close(descriptor) }
    }

    /// The key of an upload's part: hex SHA-256 over what must all be the same for a part to be continued.
    public static func key(peer: String, name: String, size: Int64, identity: [UInt8], secret: [UInt8]?) -> String {
        var hasher = SHA256()
        for field in [Array(peer.utf8), Array(name.utf8), Array(String(size).utf8), identity, secret ?? []] {
            hasher.update(data: Array(String(field.count).utf8) + [0x3A] + field)
        }
        return hexString(Array(hasher.finalize()).prefix(20))
    }

    /// The part of `key` (made if there is none): its descriptor positioned at its end, the bytes it holds and
    /// their SHA-256 (read again from the file: what is kept is hashed anew, never trusted). Nil when the caps leave
    /// no room or another connection is writing that part: the caller then uploads without keeping anything.
    func begin(key: String, name: String, size: Int64, peer: String) throws -> PendingUpload? {
        let dir = try folder(create: true)
        let partName = key + Self.partSuffix
        let recordName = key + Self.recordSuffix
        let usage = self.usage(excluding: partName, peer: peer, in: dir)
        guard usage.all + size <= maxBytes, usage.peer + size <= maxBytesPerPeer else { return nil }
        // The mode a published upload has; the folder (0700) keeps it private until then.
        let fd = openat(dir, partName, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o644)
        if fd < 0 { throw StorageError(errno: errno, operation: "keep a partial upload", subject: store.directory) }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG, flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            return nil
        }
        var offset = Int64(info.st_size)
        if offset > size {
            _ = ftruncate(fd, 0)
            offset = 0
        }
        var hasher = SHA256()
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        var hashed: Int64 = 0
        while hashed < offset {
            let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, Int(min(Int64($0.count), offset - hashed)), off_t(hashed)) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            buffer.withUnsafeBytes { hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            hashed += Int64(n)
        }
        if hashed < offset {
            _ = ftruncate(fd, off_t(hashed))
            offset = hashed
        }
        _ = lseek(fd, off_t(offset), SEEK_SET)
        writeRecord(recordName, in: dir, lines: [peer, String(size), name])
        let kept = Kept(folder: dir, name: partName, record: recordName, owner: self)
        return PendingUpload(partialDescriptor: fd, kept: kept, written: offset, hasher: hasher, store: store)
    }

    /// Removes parts whose last byte arrived more than `keepFor` seconds before `now` (wall clock), with their
    /// records, unless an upload is writing them; returns what went (the name each was for, its bytes).
    public func sweep(now: Double) -> [(name: String, bytes: Int64)] {
        var info = stat()
        // The upload folder is made by the first upload, not by looking for parts in it.
        guard stat(store.directory, &info) == 0, info.st_mode & S_IFMT == S_IFDIR,
              let dir = try? folder(create: false) else { return [] }
        var removed: [(String, Int64)] = []
        for entry in names(in: dir) where entry.hasSuffix(Self.partSuffix) {
            var info = stat()
            guard fstatat(dir, entry, &info, AT_SYMLINK_NOFOLLOW) == 0 else { continue }
            guard now - (Double(info.st_mtim.tv_sec) + Double(info.st_mtim.tv_nsec) / 1e9) > keepFor else {
                giveBackPreallocation(entry, info, in: dir)
                continue
            }
            let fd = openat(dir, entry, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
            guard fd >= 0 else { continue }
            defer { close(fd) }
            guard flock(fd, LOCK_EX | LOCK_NB) == 0 else { continue }
            let record = String(entry.dropLast(Self.partSuffix.count)) + Self.recordSuffix
            let lines = readRecord(record, in: dir)
            let name = lines.count > 2 ? lines[2] : entry
            unlinkat(dir, entry, 0)
            unlinkat(dir, record, 0)
            removed.append((name, Int64(info.st_size)))
        }
        removeFolderIfEmpty()
        return removed
    }

    /// A part left by a server that was killed still holds the blocks preallocated past its bytes (only a clean end
    /// gives them back): cut it back to its size, keeping its time (which says when it expires). Not a part in use.
    private func giveBackPreallocation(_ entry: String, _ info: stat, in dir: Int32) {
        guard Int64(info.st_blocks) * 512 > Int64(info.st_size) + (1 << 20) else { return }
        let fd = openat(dir, entry, O_WRONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { return }
        defer { close(fd) }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else { return }
        _ = ftruncate(fd, info.st_size + 1)
        _ = ftruncate(fd, info.st_size)
        var times = [info.st_atim, info.st_mtim]
        _ = futimens(fd, &times)
    }

    // MARK: Pieces

    fileprivate func remove(name: String, record: String, in dir: Int32) {
        unlinkat(dir, name, 0)
        unlinkat(dir, record, 0)
        removeFolderIfEmpty()
    }

    /// The hidden folder's descriptor; made on first need (`create`), and made again if it was removed when empty.
    private func folder(create: Bool) throws -> Int32 {
        try lock.withLock {
            if descriptor >= 0 {
                var info = stat()
                if fstat(descriptor, &info) == 0 && info.st_nlink > 0 { return descriptor }
                close(descriptor)
                descriptor = -1
            }
            let root = try store.folder()
            if create && mkdirat(root, Self.folderName, 0o700) != 0 && errno != EEXIST {
                throw StorageError(errno: errno, operation: "create folder", subject: Self.folderName)
            }
            let fd = openat(root, Self.folderName, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            if fd < 0 { throw StorageError(errno: errno, operation: "open folder", subject: Self.folderName) }
            descriptor = fd
            return fd
        }
    }

    /// Nothing kept: the folder goes, so a folder that only ever saw finished uploads looks as it did.
    private func removeFolderIfEmpty() {
        lock.withLock {
            guard descriptor >= 0, let root = try? store.folder() else { return }
            if unlinkat(root, Self.folderName, AT_REMOVEDIR) == 0 {
                close(descriptor)
                descriptor = -1
            }
        }
    }

    /// Bytes held by every part but `excluded`, and by those of `peer`.
    private func usage(excluding excluded: String, peer: String, in dir: Int32) -> (all: Int64, peer: Int64) {
        var all: Int64 = 0
        var mine: Int64 = 0
        for entry in names(in: dir) where entry.hasSuffix(Self.partSuffix) && entry != excluded {
            var info = stat()
            guard fstatat(dir, entry, &info, AT_SYMLINK_NOFOLLOW) == 0 else { continue }
            all += Int64(info.st_size)
            let record = String(entry.dropLast(Self.partSuffix.count)) + Self.recordSuffix
            if readRecord(record, in: dir).first == peer { mine += Int64(info.st_size) }
        }
        return (all, mine)
    }

    private func names(in dir: Int32) -> [String] {
        let listing = dup(dir)
        guard listing >= 0, let stream = fdopendir(listing) else {
            if listing >= 0 { close(listing) }
            return []
        }
        defer { closedir(stream) }
        rewinddir(stream)
        var result: [String] = []
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name != "." && name != ".." { result.append(name) }
        }
        return result
    }

    private func writeRecord(_ name: String, in dir: Int32, lines: [String]) {
        let fd = openat(dir, name, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return }
        defer { close(fd) }
        let bytes = Array(lines.map { $0.replacingNewlines }.joined(separator: "\n").utf8) + [0x0A]
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    }

    private func readRecord(_ name: String, in dir: Int32) -> [String] {
        let fd = openat(dir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { return [] }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 8192)
        let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard n > 0 else { return [] }
        // Peer, declared size, name: one a line.
        return String(decoding: buffer[0..<n], as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    }
}

private extension String {
    /// One line of a record: a name with a newline in it must not add a line.
    var replacingNewlines: String {
        String(String.UnicodeScalarView(unicodeScalars.map { $0 == "\n" || $0 == "\r" ? " " : $0 }))
    }
}
