#if canImport(Glibc)
import Glibc
#endif

/// The folders one connection's folder trees are recreated in. The top folder of each tree gets a name of its own
/// (`photos`, else `photos (1)`, ...: never merged into an existing folder); below it, every folder is made with
/// `mkdirat` and opened with `openat(O_DIRECTORY | O_NOFOLLOW)` relative to its parent's descriptor, one component
/// at a time, so no link is ever followed and nothing outside the upload folder can be reached. Bounded: at most
/// `maxFolders` folders made per connection. Use from one thread.
public final class UploadFolders {
    private let store: UploadStore
    private let maxFolders: Int
    /// Each tree's top component as sent → the name it was saved under.
    private var tops: [String: String] = [:]
    private var made = 0
    /// The folder used last: the files of one folder usually come one after another.
    private var last: (sent: [String], folder: TreeFolder)?

    public static let defaultMaxFolders = 10_000
    static let sequentialProbes = 32
    static let randomProbes = 8

    public init(store: UploadStore, maxFolders: Int = UploadFolders.defaultMaxFolders) {
        self.store = store
        self.maxFolders = maxFolders
    }

    /// How many folders this connection has made.
    public var foldersMade: Int { made }

    /// The saved name of the tree whose top component was sent as `top`, if it has been made.
    public func savedTop(_ top: String) -> String? { tops[top] }

    /// The folder at `components`, or the upload folder itself for none.
    public func folderOrRoot(_ components: [String]) throws(FileTransferError) -> TreeFolder? {
        components.isEmpty ? nil : try folder(components)
    }

    /// The folder at `components` (as sent, already reduced to safe names), made where missing; the first component
    /// is the tree's top folder.
    public func folder(_ components: [String]) throws(FileTransferError) -> TreeFolder {
        precondition(!components.isEmpty, "a tree folder has at least its top component")
        if let last, last.sent == components { return last.folder }
        let root: Int32
        do { root = try store.folder() } catch { throw FileTransferError(code: FileTransferStatus.cannotWrite, message: "\(error)") }
        let topName = try top(components[0], in: root)
        var saved = [topName]
        var current = try openFolder(topName, in: root, shown: topName)
        for component in components.dropFirst() {
            saved.append(component)
            let next: Int32
            do { next = try child(component, of: current, shown: saved.joined(separator: "/")) } catch {
                close(current)
                throw error
            }
            close(current)
            current = next
        }
        let folder = TreeFolder(descriptor: current, components: saved)
        last = (components, folder)
        return folder
    }

    /// The name the top folder `sent` is saved under, making it on first use: the first free of `sent`, `sent (1)`...
    private func top(_ sent: String, in root: Int32) throws(FileTransferError) -> String {
        if let name = tops[sent] { return name }
        guard made < maxFolders else {
            throw FileTransferError(code: FileTransferStatus.forbidden, message: "more than \(maxFolders) folders on one connection")
        }
        var generator = SystemRandomNumberGenerator()
        for probe in 0..<(Self.sequentialProbes + Self.randomProbes) {
            let candidate = probe < Self.sequentialProbes ? SafeFileName.variant(of: sent, number: probe)
                : SafeFileName.variant(of: sent, suffix: " (\(String(generator.next() as UInt64 % 2_176_782_336, radix: 36)))")
            if mkdirat(root, candidate, 0o755) == 0 {
                made += 1
                tops[sent] = candidate
                return candidate
            }
            if errno != EEXIST {
                throw FileTransferError(code: FileTransferStatus.cannotWrite,
                                        message: StorageError(errno: errno, operation: "create folder", subject: candidate).message)
            }
        }
        throw FileTransferError(code: FileTransferStatus.cannotWrite, message: "too many folders named like \(sent)")
    }

    /// The folder `name` in `parent`, made if missing (counted against the limit), opened without following a link.
    private func child(_ name: String, of parent: Int32, shown: String) throws(FileTransferError) -> Int32 {
        let existing = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        if existing >= 0 { return existing }
        if errno == ENOENT {
            guard made < maxFolders else {
                throw FileTransferError(code: FileTransferStatus.forbidden,
                                        message: "more than \(maxFolders) folders on one connection; the rest of the tree is refused")
            }
            if mkdirat(parent, name, 0o755) == 0 {
                made += 1
            } else if errno != EEXIST {
                throw FileTransferError(code: FileTransferStatus.cannotWrite,
                                        message: StorageError(errno: errno, operation: "create folder", subject: shown).message)
            }
        }
        return try openFolder(name, in: parent, shown: shown)
    }

    private func openFolder(_ name: String, in parent: Int32, shown: String) throws(FileTransferError) -> Int32 {
        let fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        if fd >= 0 { return fd }
        switch errno {
        case ELOOP, ENOTDIR:
            throw FileTransferError(code: FileTransferStatus.forbidden, message: "\(shown) is a link or a file, not a folder; not followed")
        case let code:
            throw FileTransferError(code: FileTransferStatus.cannotWrite, message: StorageError(errno: code, operation: "open folder", subject: shown).message)
        }
    }
}
