#if canImport(Glibc)
import Glibc
#endif
import CLinux

/// The upload folder: hands out temporary files and publishes finished ones under a name that exists nowhere else in
/// the folder, so an existing file is never overwritten.
///
/// The folder is opened once and every later call is relative to that descriptor (`openat`, `linkat`, ...) with a
/// single name component the store chose or reduced itself, so no path component a peer chose is ever resolved and no
/// link is ever followed. Shared by every connection of a server, on any number of loop threads.
public final class UploadStore {
    /// How temporary files are made.
    public enum TemporaryFiles: Sendable {
        /// `O_TMPFILE`: a file with no name until it is published, so nobody can swap it and a crash leaves nothing.
        /// Falls back to `.named` where the file system does not support it.
        case anonymous
        /// A hidden `.netconsole-upload-XXXX.part` in the folder.
        case named
    }

    public let options: FileServerOptions
    public var directory: String { options.directory }
    public var fsyncEnabled: Bool { options.fsync }

    public static let temporaryPrefix = ".netconsole-upload-"
    public static let temporarySuffix = ".part"

    /// Sequential numbers tried for a taken name before random suffixes, so a name with thousands of copies costs a
    /// bounded number of calls: the probes grow 1, 2, 4, 8... beyond the number last handed out for that name.
    static let sequentialProbes = 24
    static let randomProbes = 8
    /// Names whose next free number is remembered; past this the memory is cleared (it is only a hint).
    static let rememberedNames = 4096

    private let lock = Lock()
    private var folderDescriptor: Int32 = -1
    private var anonymousSupported: Bool
    private var nextNumber: [String: Int] = [:]
    /// Takes the /proc path as if AT_EMPTY_PATH were not allowed (it is for root, whom the tests may run as).
    nonisolated(unsafe) static var skipEmptyPathLinkForTests = false
    /// Names tried by `publish` so far (tests read it to prove the cost is bounded).
    private(set) var publishAttempts = 0

    /// The kept parts of interrupted resumable uploads (set once, in `init`; used from any thread).
    public private(set) var partials: PartialUploads!

    public init(options: FileServerOptions, temporaryFiles: TemporaryFiles = .anonymous) {
        self.options = options
        anonymousSupported = temporaryFiles == .anonymous
        partials = PartialUploads(store: self, keepFor: options.keepPartial, maxBytes: options.maxPartialBytes,
                                  maxBytesPerPeer: options.maxPartialBytesPerPeer)
    }

    deinit {
        if folderDescriptor >= 0 { close(folderDescriptor) }
    }

    // MARK: The folder

    /// The folder's descriptor, creating the folder (and its parents) on first use.
    func folder() throws -> Int32 {
        try lock.withLock {
            if folderDescriptor >= 0 { return folderDescriptor }
            try FolderCreation.makeDirectories(directory)
            let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            if fd < 0 { throw StorageError(errno: errno, operation: "open folder", subject: directory) }
            folderDescriptor = fd
            return fd
        }
    }

    /// Checks, without creating anything, that uploads can be saved in `directory`: it is a writable folder, or it
    /// is missing and its nearest existing parent is one (it is then created when the first upload arrives).
    public static func check(directory: String) throws {
        try FolderCreation.checkWritable(directory)
    }

    /// Removes temporary files an earlier run left behind (a crash, SIGKILL, power loss) if the folder exists: only
    /// regular files named like this store's own, and only those not written to since this process started.
    public func removeStaleTemporaryFiles() -> (count: Int, bytes: Int64) {
        var info = stat()
        guard stat(directory, &info) == 0, info.st_mode & S_IFMT == S_IFDIR, let dir = try? folder() else { return (0, 0) }
        let listing = dup(dir)
        guard listing >= 0, let stream = fdopendir(listing) else {
            if listing >= 0 { close(listing) }
            return (0, 0)
        }
        defer { closedir(stream) }
        rewinddir(stream)
        var count = 0
        var bytes: Int64 = 0
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            guard name.hasPrefix(Self.temporaryPrefix), name.hasSuffix(Self.temporarySuffix) else { continue }
            if let size = removeIfStale(name, in: dir) {
                count += 1
                bytes += size
            }
        }
        return (count, bytes)
    }

    /// Removes the temporary file `name` if it is a regular file last written before this process started and no
    /// live upload holds its lock (another server on the same folder); returns its size when removed.
    private func removeIfStale(_ name: String, in dir: Int32) -> Int64? {
        let fd = openat(dir, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var file = stat()
        guard fstat(fd, &file) == 0, file.st_mode & S_IFMT == S_IFREG,
              Double(file.st_mtim.tv_sec) + Double(file.st_mtim.tv_nsec) / 1e9 < ProcessStart.seconds,
              flock(fd, LOCK_EX | LOCK_NB) == 0 else { return nil }
        var named = stat()
        // Still the same file under that name (not swapped since it was opened)?
        guard fstatat(dir, name, &named, AT_SYMLINK_NOFOLLOW) == 0, named.st_ino == file.st_ino, named.st_dev == file.st_dev,
              unlinkat(dir, name, 0) == 0 else { return nil }
        return Int64(file.st_size)
    }

    /// Bytes free for an unprivileged writer in the folder's file system, when the system says.
    public func availableBytes() -> Int64? {
        guard let dir = try? folder() else { return nil }
        var info = statvfs()
        guard fstatvfs(dir, &info) == 0 else { return nil }
        let total = UInt64(info.f_bavail) &* UInt64(info.f_frsize)
        return total > UInt64(Int64.max) ? Int64.max : Int64(total)
    }

    // MARK: Temporary files

    /// A new, empty temporary file in the folder.
    public func begin() throws -> PendingUpload {
        let dir = try folder()
        if lock.withLock({ anonymousSupported }) {
            let fd = openat(dir, ".", CLINUX_O_TMPFILE | O_WRONLY | O_CLOEXEC, 0o644)
            if fd >= 0 { return PendingUpload(descriptor: fd, temporaryName: nil, store: self) }
            switch errno {
            case EOPNOTSUPP, EISDIR, EINVAL: lock.withLock { anonymousSupported = false }
            case let code: throw StorageError(errno: code, operation: "create a temporary file", subject: directory)
            }
        }
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<100 {
            let name = "\(Self.temporaryPrefix)\(String(generator.next() as UInt64, radix: 36))\(Self.temporarySuffix)"
            let fd = openat(dir, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o644)
            if fd >= 0 {
                // Held while the upload lives, so another server cleaning the same folder leaves it alone.
                _ = flock(fd, LOCK_EX | LOCK_NB)
                return PendingUpload(descriptor: fd, temporaryName: name, store: self)
            }
            if errno == EEXIST || errno == EINTR { continue }
            throw StorageError(errno: errno, operation: "create a temporary file", subject: directory)
        }
        throw StorageError("cannot create a temporary file in \(directory)", code: EEXIST)
    }

    func discard(temporaryName: String) {
        guard let dir = try? folder() else { return }
        unlinkat(dir, temporaryName, 0)
    }

    // MARK: Publishing

    /// Gives the file open as `descriptor` (anonymous, or named `temporaryName`) the first free name among `name`,
    /// `name (n)`, ... and removes the temporary name. Links never replace an existing file; a named temporary file
    /// that someone swapped is caught by comparing the published file's identity with the descriptor's.
    /// In a tree's `folder`, the name is free there (and `path` is relative to the upload folder's parent path).
    func publish(descriptor: Int32, temporaryName: String?, as name: String, in tree: TreeFolder? = nil) throws -> (name: String, path: String) {
        let root = try folder()
        let dir = tree?.descriptor ?? root
        let prefix = tree.map { $0.relativePath + "/" } ?? ""
        var written = stat()
        guard fstat(descriptor, &written) == 0 else { throw StorageError(errno: errno, operation: "stat", subject: name) }
        for candidate in candidates(for: name, key: prefix + name) {
            lock.withLock { publishAttempts += 1 }
            let code = link(descriptor, temporaryName: temporaryName, from: root, into: dir, as: candidate.text)
            if code == EEXIST { continue }
            if code != 0 { throw StorageError(errno: code, operation: "save", subject: candidate.text) }
            var linked = stat()
            if fstatat(dir, candidate.text, &linked, AT_SYMLINK_NOFOLLOW) != 0
                || linked.st_dev != written.st_dev || linked.st_ino != written.st_ino {
                // Only a named temporary file can be swapped; what was linked is not what was written and hashed.
                unlinkat(dir, candidate.text, 0)
                if let temporaryName { unlinkat(root, temporaryName, 0) }
                throw StorageError("the temporary file of \(name) was replaced by someone else during the upload; nothing saved", code: EBUSY)
            }
            if let temporaryName { unlinkat(root, temporaryName, 0) }
            remember(prefix + name, next: candidate.number.map { $0 + 1 })
            if fsyncEnabled { _ = fsync(dir) }
            return (prefix + candidate.text, join(directory, prefix + candidate.text))
        }
        throw StorageError("too many files named like \(name)", code: EEXIST)
    }

    /// Creates `candidate` for the file: 0, or the errno (EEXIST when the name is taken).
    private func link(_ descriptor: Int32, temporaryName: String?, from root: Int32, into dir: Int32, as candidate: String) -> Int32 {
        if let temporaryName {
            if linkat(root, temporaryName, dir, candidate, 0) == 0 { return 0 }
            switch errno {
            case EPERM, EOPNOTSUPP, EMLINK, ENOSYS:
                return reserveAndRename(temporaryName, from: root, in: dir, as: candidate)
            case let code: return code
            }
        }
        if !Self.skipEmptyPathLinkForTests {
            if linkat(descriptor, "", dir, candidate, CLINUX_AT_EMPTY_PATH) == 0 { return 0 }
            guard errno == ENOENT || errno == EPERM else { return errno }
        }
        // AT_EMPTY_PATH needs CAP_DAC_READ_SEARCH; the descriptor's /proc link does the same without it.
        if linkat(AT_FDCWD, "/proc/self/fd/\(descriptor)", dir, candidate, AT_SYMLINK_FOLLOW) == 0 { return 0 }
        return errno
    }

    /// No hard links on this file system: reserve the name exclusively, then rename over the reservation.
    private func reserveAndRename(_ temporaryName: String, from root: Int32, in dir: Int32, as candidate: String) -> Int32 {
        let fd = openat(dir, candidate, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o644)
        if fd < 0 { return errno }
        close(fd)
        guard renameat(root, temporaryName, dir, candidate) == 0 else {
            let code = errno
            unlinkat(dir, candidate, 0)
            return code
        }
        return 0
    }

    /// The names to try for `name`: the remembered next number first, then numbers growing by powers of two, then
    /// random suffixes. At most `sequentialProbes + randomProbes` names, however many copies exist; made one at a time
    /// as they are tried, so a file whose name is free (each of a tree's thousands) pays for one name, not for all.
    private func candidates(for name: String, key: String) -> LazyMapSequence<Range<Int>, (text: String, number: Int?)> {
        let start = lock.withLock { nextNumber[key] } ?? 0
        return (0..<(Self.sequentialProbes + Self.randomProbes)).lazy.map { probe in
            if probe < Self.sequentialProbes {
                let number = probe == 0 ? start : start + (1 << (probe - 1))
                return (SafeFileName.variant(of: name, number: number), number)
            }
            var generator = SystemRandomNumberGenerator()
            let token = String(generator.next() as UInt64 % 2_176_782_336, radix: 36)  // six base-36 digits at most
            return (SafeFileName.variant(of: name, suffix: " (\(token))"), nil)
        }
    }

    private func remember(_ name: String, next: Int?) {
        lock.withLock {
            guard let next else { return }
            if nextNumber.count >= Self.rememberedNames && nextNumber[name] == nil { nextNumber.removeAll() }
            nextNumber[name] = next
        }
    }
}

func join(_ directory: String, _ name: String) -> String {
    directory.hasSuffix("/") ? directory + name : directory + "/" + name
}
