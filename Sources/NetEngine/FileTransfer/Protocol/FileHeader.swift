import Crypto

/// What a client announces before a file's bytes.
public struct FileHeader: Equatable, Sendable {
    /// The name as sent (UTF-8, invalid sequences repaired); the server reduces it to a safe base name.
    public var name: String
    public var size: Int64
    /// The shared secret a version 2 header carries; nil in a version 1 header.
    public var secret: [UInt8]?

    public init(name: String, size: Int64, secret: [UInt8]? = nil) {
        self.name = name
        self.size = size
        self.secret = secret
    }
}
