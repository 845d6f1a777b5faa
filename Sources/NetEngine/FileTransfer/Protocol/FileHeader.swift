import Crypto

/// What a client announces before a file's bytes.
public struct FileHeader: Equatable, Sendable {
    /// The name as sent (UTF-8, invalid sequences repaired); the server reduces it to a safe base name.
    public var name: String
    public var size: Int64

    public init(name: String, size: Int64) {
        self.name = name
        self.size = size
    }
}
