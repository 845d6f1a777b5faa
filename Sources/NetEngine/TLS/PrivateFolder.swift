#if canImport(Glibc)
import Glibc
#endif

/// The owner-only folders and files TLS keeps (keys, known servers): created 0700 and 0600, written atomically.
enum PrivateFolder {
    /// Creates `path` (0700) and its missing parents (0700 too, as `mkdir -p -m 700` would for the new ones).
    static func make(_ path: String) throws {
        var info = stat()
        if stat(path, &info) == 0 {
            guard info.st_mode & S_IFMT == S_IFDIR else { throw StorageError("\(path) exists and is not a folder", code: ENOTDIR) }
            return
        }
        let parent = parent(of: path)
        if !parent.isEmpty && parent != path { try make(parent) }
        if mkdir(path, 0o700) != 0 && errno != EEXIST {
            throw StorageError(errno: errno, operation: "create folder", subject: path)
        }
    }

    static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "" }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// Writes `bytes` to `path` with `mode` all at once: into a temporary file beside it, synced, then renamed, so
    /// that a reader never sees half a key and a crash leaves the old file or the new one.
    static func writeAtomically(_ bytes: [UInt8], to path: String, mode: mode_t) throws {
        let temporary = path + ".tmp-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else { throw StorageError(errno: errno, operation: "create", subject: temporary) }
        if let code = bytes.withUnsafeBytes({ writeAll(fd, $0) }) {
            close(fd)
            unlink(temporary)
            throw StorageError(errno: code, operation: "write", subject: temporary)
        }
        _ = fchmod(fd, mode)
        _ = fsync(fd)
        close(fd)
        guard rename(temporary, path) == 0 else {
            let code = errno
            unlink(temporary)
            throw StorageError(errno: code, operation: "rename", subject: path)
        }
    }
}
