#if canImport(Glibc)
import Glibc
#endif
import CLinux
import NetEngine

/// What to drive an echo server with.
public struct EchoLoadConfiguration: Sendable {
    public var host: String
    public var port: UInt16
    public var connections: Int
    /// Bytes in one request; the server must send the same bytes back.
    public var requestSize: Int
    /// Requests each connection keeps in flight.
    public var pipeline: Int
    /// Seconds measured, after `warmup` seconds that are not.
    public var duration: Double
    public var warmup: Double
    /// Seconds every connection has to be established.
    public var connectTimeout: Double

    public init(host: String, port: UInt16, connections: Int, requestSize: Int, pipeline: Int = 1,
                duration: Double, warmup: Double = 0, connectTimeout: Double = 10) {
        self.host = host
        self.port = port
        self.connections = connections
        self.requestSize = requestSize
        self.pipeline = pipeline
        self.duration = duration
        self.warmup = warmup
        self.connectTimeout = connectTimeout
    }
}
