#if canImport(Glibc)
import Glibc
#endif

/// Creating the upload folder when the first upload needs it, and checking beforehand that this will work.
enum FolderCreation {
    /// Creates `path` and its missing parents.
    static func makeDirectories(_ path: String) throws {
        var info = stat()
        if stat(path, &info) == 0 {
            guard info.st_mode & S_IFMT == S_IFDIR else {
                throw StorageError("\(path) exists and is not a folder", code: ENOTDIR)
            }
            return
        }
        let parent = parentPath(of: path)
        if !parent.isEmpty && parent != path { try makeDirectories(parent) }
        if mkdir(path, 0o755) != 0 && errno != EEXIST {
            throw StorageError(errno: errno, operation: "create folder", subject: path)
        }
    }

    /// Throws what is wrong when `path` is not a writable folder, or is missing and could not be created in its
    /// nearest existing parent. Creates nothing.
    static func checkWritable(_ path: String) throws {
        var info = stat()
        var current = path
        while stat(current, &info) != 0 {
            guard errno == ENOENT || errno == ENOTDIR else { throw StorageError(errno: errno, operation: "open folder", subject: current) }
            let parent = parentPath(of: current)
            current = parent.isEmpty ? (path.hasPrefix("/") ? "/" : ".") : parent
        }
        guard info.st_mode & S_IFMT == S_IFDIR else {
            throw StorageError("\(current) exists and is not a folder", code: ENOTDIR)
        }
        if access(current, W_OK | X_OK) != 0 {
            throw StorageError(errno: errno, operation: "write", subject: current)
        }
    }

    private static func parentPath(of path: String) -> String {
        var parts = path.split(separator: "/", omittingEmptySubsequences: false)
        while parts.count > 1, parts.last?.isEmpty == true { parts.removeLast() }
        let parent = parts.dropLast().joined(separator: "/")
        return parent.isEmpty && path.hasPrefix("/") ? "/" : parent
    }
}
