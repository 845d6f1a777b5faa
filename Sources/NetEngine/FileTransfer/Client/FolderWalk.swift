#if canImport(Glibc)
import Glibc
#endif

/// Turns what `send` is given (files and folders) into the items it sends: a file as itself; a folder as its tree,
/// depth first in name order, each folder before what it holds (so empty folders arrive too), then its end. Links
/// are not followed unless asked (they are reported skipped), nor is anything that is not a file or a folder.
public enum FolderWalk {
    public struct Skipped: Equatable, Sendable {
        public var path: String
        public var reason: String
    }

    public struct Listing: Equatable, Sendable {
        public var items: [SendItem] = []
        public var skipped: [Skipped] = []

        public init() {}
    }

    /// `items(for:followLinks:)` on a worker thread, its result handed back on `loop`'s thread (for a caller on a
    /// loop, like the console, that must not stop while a big tree is listed).
    public static func list(_ arguments: [String], followLinks: Bool, thenOn loop: EventLoop,
                            _ completion: @escaping (Result<Listing, Error>) -> Void) {
        list(paths: arguments.map { Array($0.utf8) }, followLinks: followLinks, thenOn: loop, completion)
    }

    /// The same for paths given as bytes.
    public static func list(paths: [[UInt8]], followLinks: Bool, thenOn loop: EventLoop,
                            _ completion: @escaping (Result<Listing, Error>) -> Void) {
        WorkerPool.listing.run({ Result { try items(forPaths: paths, followLinks: followLinks) } }, thenOn: loop, completion)
    }

    /// The items for `arguments`; throws what is wrong with an argument that can be sent in no way (missing,
    /// unreadable, not a file or folder).
    public static func items(for arguments: [String], followLinks: Bool) throws -> Listing {
        try items(forPaths: arguments.map { Array($0.utf8) }, followLinks: followLinks)
    }

    /// The same for paths given as bytes (a name that is not UTF-8 has no `String` that opens it).
    public static func items(forPaths paths: [[UInt8]], followLinks: Bool) throws -> Listing {
        var listing = Listing()
        for bytes in paths {
            let argument = PathBytes.shown(bytes)
            var info = stat()
            if PathBytes.withCString(bytes, { stat($0, &info) }) == 0, info.st_mode & S_IFMT == S_IFDIR {
                let top = SafeFileName.sanitize(FileSender.baseName(argument))
                let folder = bytes
                var ancestors: [(dev_t, ino_t)] = []
                let before = listing.skipped.count
                let topIndex = listing.items.count
                listing.items.append(SendItem(path: argument, wireName: top, entry: .treeFolder(path: top), localPath: bytes))
                var total = TreeTotal(files: 0, bytes: 0)
                walk(folder, wire: top, depth: 1, info: info, followLinks: followLinks, ancestors: &ancestors, into: &listing,
                     total: &total)
                listing.items[topIndex].entry = .treeFolder(path: top, total: total)
                let skipped = Int64(listing.skipped.count - before)
                listing.items.append(SendItem(path: argument, wireName: top, entry: .treeEnd(top: top, skipped: skipped), localPath: bytes))
            } else {
                _ = try FileSource.inspect(argument, rawPath: bytes)
                listing.items.append(SendItem(path: argument, wireName: FileSender.baseName(argument), entry: .file, localPath: bytes))
            }
        }
        return listing
    }

    /// Adds what `folder` holds to `listing`, and its files and their bytes (as listed) to `total`.
    /// Works on the bytes of paths (names need not be UTF-8); what messages and headers show is them decoded.
    private static func walk(_ folder: [UInt8], wire: String, depth: Int, info: stat, followLinks: Bool,
                             ancestors: inout [(dev_t, ino_t)], into listing: inout Listing, total: inout TreeTotal) {
        ancestors.append((info.st_dev, info.st_ino))
        defer { ancestors.removeLast() }
        guard let stream = PathBytes.withCString(folder, { opendir($0) }) else {
            listing.skipped.append(Skipped(path: PathBytes.shown(folder), reason: "cannot be listed: \(String(cString: strerror(errno)).lowercased())"))
            return
        }
        var names: [[UInt8]] = []
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in Array(raw.prefix { $0 != 0 }) }
            if name != Array(".".utf8) && name != Array("..".utf8) { names.append(name) }
        }
        closedir(stream)
        for name in names.sorted(by: { $0.lexicographicallyPrecedes($1) }) {
            let bytes = folder.last == UInt8(ascii: "/") ? folder + name : folder + [UInt8(ascii: "/")] + name
            let path = PathBytes.shown(bytes)
            let wireName = wire + "/" + PathBytes.shown(name)
            var entry = stat()
            guard PathBytes.withCString(bytes, { lstat($0, &entry) }) == 0 else {
                listing.skipped.append(Skipped(path: path, reason: String(cString: strerror(errno)).lowercased()))
                continue
            }
            if entry.st_mode & S_IFMT == S_IFLNK {
                guard followLinks else {
                    listing.skipped.append(Skipped(path: path, reason: "a link, not followed (--follow-links follows links)"))
                    continue
                }
                guard PathBytes.withCString(bytes, { stat($0, &entry) }) == 0 else {
                    listing.skipped.append(Skipped(path: path, reason: "a link to nothing"))
                    continue
                }
            }
            switch entry.st_mode & S_IFMT {
            case S_IFREG:
                listing.items.append(SendItem(path: path, wireName: wireName, entry: .treeFile, localPath: bytes))
                total.files += 1
                // Sparse files may claim sizes whose sum does not fit: the total is display-only, so it saturates.
                let (sum, overflow) = total.bytes.addingReportingOverflow(Int64(entry.st_size))
                total.bytes = overflow ? Int64.max : sum
            case S_IFDIR:
                if ancestors.contains(where: { $0.0 == entry.st_dev && $0.1 == entry.st_ino }) {
                    listing.skipped.append(Skipped(path: path, reason: "a link back to a folder above it"))
                } else if depth + 1 > TreePath.maxDepth {
                    listing.skipped.append(Skipped(path: path, reason: "deeper than \(TreePath.maxDepth) folders"))
                } else {
                    listing.items.append(SendItem(path: path, wireName: wireName, entry: .treeFolder(path: wireName), localPath: bytes))
                    walk(bytes, wire: wireName, depth: depth + 1, info: entry, followLinks: followLinks, ancestors: &ancestors,
                         into: &listing, total: &total)
                }
            default:
                listing.skipped.append(Skipped(path: path, reason: "not a regular file"))
            }
        }
    }
}
