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

/// What `FolderListing.read` found in a folder: names with their kind and size (symbolic links followed).
struct FolderListing {
    struct Item {
        var name: String
        var isFolder: Bool
        var size: Int64
    }

    /// Reads the folder's entries except "." and ".."; nil if the folder cannot be opened. Entries that vanish or
    /// cannot be stat'ed while reading (a dangling link, say) are left out.
    static func read(_ folder: String) -> [Item]? {
        guard let stream = opendir(folder) else { return nil }
        defer { closedir(stream) }
        var items: [Item] = []
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name == "." || name == ".." { continue }
            var info = stat()
            guard stat(FolderPath.appending(name, to: folder), &info) == 0 else { continue }
            let isFolder = (info.st_mode & S_IFMT) == S_IFDIR
            items.append(Item(name: name, isFolder: isFolder, size: isFolder ? 0 : Int64(info.st_size)))
        }
        return items
    }
}
