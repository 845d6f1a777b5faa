#if canImport(Glibc)
import Glibc
#endif
import NetEngine

/// Writes a transcript to a file that must not exist yet: created with O_EXCL and O_NOFOLLOW (never overwriting a
/// file, never following a link planted at the name), readable by its owner only.
public enum TranscriptFile {
    /// Creates `path` (relative to the current folder; `~/` is the home folder) with `text`; returns the full path.
    public static func create(at path: String, text: String) -> Result<String, StorageError> {
        var full = path
        if full.hasPrefix("~/"), let home = getenv("HOME") { full = String(cString: home) + full.dropFirst(1) }
        if !full.hasPrefix("/"), let cwd = getcwd(nil, 0) {
            full = String(cString: cwd) + "/" + full
            free(cwd)
        }
        let descriptor = open(full, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            let code = errno
            // The reason first: a long path is what the status line cuts.
            let why = code == EEXIST ? "exists already, not overwritten" : String(cString: strerror(code))
            return .failure(StorageError("not saved, \(why): \(full.sanitizedForDisplay)", code: code))
        }
        defer { close(descriptor) }
        if let code = Array(text.utf8).withUnsafeBytes({ writeAll(descriptor, $0) }) {
            return .failure(StorageError("not saved, \(String(cString: strerror(code))): \(full.sanitizedForDisplay)", code: code))
        }
        return .success(full.sanitizedForDisplay)
    }
}
