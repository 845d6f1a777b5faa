#if canImport(Glibc)
import Glibc
#endif
import CLinux

public struct ServerLimits: Sendable {
    /// Connections served at once; more are told so and closed.
    public var maxConnections: Int
    /// A connection that sends and receives nothing for this long is dropped (nil: never).
    public var idleTimeout: Double?
    /// Time a client has to send a complete request header (protocols with headers; defeats slow trickling).
    public var headerTimeout: Double

    public init(maxConnections: Int = 10_000, idleTimeout: Double? = nil, headerTimeout: Double = 30) {
        self.maxConnections = maxConnections
        self.idleTimeout = idleTimeout
        self.headerTimeout = headerTimeout
    }
}
