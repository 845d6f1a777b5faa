#if canImport(Glibc)
import Glibc
#endif
import CLinux
import NetEngine

/// What to drive an echo server with.
package struct EchoLoadConfiguration: Sendable {
    package var host: String
    package var port: UInt16
    package var connections: Int
    /// Bytes in one request; the server must send the same bytes back.
    package var requestSize: Int
    /// Requests each connection keeps in flight.
    package var pipeline: Int
    /// Seconds measured, after `warmup` seconds that are not.
    package var duration: Double
    package var warmup: Double
    /// Seconds every connection has to be established.
    package var connectTimeout: Double

    package init(host: String, port: UInt16, connections: Int, requestSize: Int, pipeline: Int = 1,
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
