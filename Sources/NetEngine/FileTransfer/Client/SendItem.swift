/// One thing a `FileSender` sends: a file on its own, or an entry of a folder tree (a file, a folder, the tree's end).
public struct SendItem: Equatable, Sendable {
    /// The local path (what messages call it); for a tree's end, the tree's folder.
    public var path: String
    /// What the header calls it: a file's base name, or the relative path inside the tree (its top folder first).
    public var wireName: String
    public var entry: FileClientMachine.Entry
    /// The local path's bytes, which open it: `path` decoded is only how messages show a name that is not UTF-8.
    public var localPath: [UInt8]

    public init(path: String, wireName: String, entry: FileClientMachine.Entry, localPath: [UInt8]? = nil) {
        self.path = path
        self.wireName = wireName
        self.entry = entry
        self.localPath = localPath ?? Array(path.utf8)
    }

    /// Whether it is a file whose bytes are sent.
    public var isFile: Bool { entry == .file || entry == .treeFile }
}
