/// Bytes that crossed a connection in one direction in one read or write: where they start in that direction's
/// stream, and when (wall-clock seconds since 1970).
public struct PayloadChunk: Equatable, Sendable {
    public var received: Bool
    public var offset: Int
    public var time: Double
    public var bytes: [UInt8]

    public init(received: Bool, offset: Int, time: Double, bytes: [UInt8]) {
        self.received = received
        self.offset = offset
        self.time = time
        self.bytes = bytes
    }
}
