#if canImport(Glibc)
import Glibc
#endif
import CLinux
import NetEngine

/// What one load run measured.
public struct EchoLoadReport: Sendable {
    public var seconds: Double
    public var requests: UInt64
    public var bytesEchoed: UInt64
    public var p50Nanoseconds: UInt64
    public var p99Nanoseconds: UInt64
    public var maxNanoseconds: UInt64
    /// Echoed bytes that differed from what was sent, plus bytes the server sent that nobody asked for.
    public var mismatchedBytes: UInt64
    /// Connections that failed to connect or broke during the run.
    public var errors: Int
    /// The first few problems, in words.
    public var problems: [String]
    /// CPU seconds (user + system) this process used during the measured window: near `seconds` means the
    /// generator itself was the bottleneck.
    public var cpuSeconds: Double = 0

    public var requestsPerSecond: Double { seconds > 0 ? Double(requests) / seconds : 0 }
    /// Echoed payload in megabytes (10^6 bytes) per second.
    public var megabytesPerSecond: Double { seconds > 0 ? Double(bytesEchoed) / seconds / 1e6 : 0 }
    public var succeeded: Bool { mismatchedBytes == 0 && errors == 0 && requests > 0 }
}
