/// A file that made it: its name in the folder, full path, size and SHA-256 (hex).
public struct SavedFile: Equatable, Sendable {
    public let name: String
    public let path: String
    public let size: Int64
    public let sha256: String
}
