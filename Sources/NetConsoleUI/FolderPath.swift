import Glibc

/// Lexical path arithmetic for the file picker, on plain strings (no Foundation, so the binary does not load it).
enum FolderPath {
    /// The process's current folder, or "/" if it cannot be read (for example, it was deleted).
    static func current() -> String {
        guard let buffer = getcwd(nil, 0) else { return "/" }
        defer { free(buffer) }
        return String(cString: buffer)
    }

    /// An absolute path without ".", "..", empty components or a trailing slash; relative paths start at the
    /// current folder and "~" at $HOME.
    static func normalized(_ path: String) -> String {
        var raw = path
        if raw == "~" || raw.hasPrefix("~/"), let home = getenv("HOME") {
            raw = String(cString: home) + raw.dropFirst()
        }
        if !raw.hasPrefix("/") { raw = current() + "/" + raw }
        var parts: [Substring] = []
        for part in raw.split(separator: "/", omittingEmptySubsequences: true) {
            switch part {
            case ".": continue
            case "..": if !parts.isEmpty { parts.removeLast() }
            default: parts.append(part)
            }
        }
        return "/" + parts.joined(separator: "/")
    }

    static func appending(_ name: String, to folder: String) -> String {
        folder.hasSuffix("/") ? folder + name : folder + "/" + name
    }

    static func parent(of path: String) -> String {
        normalized(appending("..", to: path))
    }
}
