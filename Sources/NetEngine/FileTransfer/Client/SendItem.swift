/// One thing a `FileSender` sends: a file on its own, or an entry of a folder tree (a file, a folder, the tree's end).
public struct SendItem: Equatable, Sendable {
    /// The local path (what messages call it); for a tree's end, the tree's folder.
    public var path: String
    /// What the header calls it: a file's base name, or the relative path inside the tree (its top folder first).
    public var wireName: String
    public var entry: FileClientMachine.Entry

    public init(path: String, wireName: String, entry: FileClientMachine.Entry) {
        self.path = path
        self.wireName = wireName
        self.entry = entry
    }

    /// Whether it is a file whose bytes are sent.
    public var isFile: Bool { entry == .file || entry == .treeFile }
}
