#if canImport(Glibc)
import Glibc
#endif
import CLinux
import NetEngine

/// What one load run measured.
package struct EchoLoadReport: Sendable {
    package var seconds: Double
    package var requests: UInt64
    package var bytesEchoed: UInt64
    package var p50Nanoseconds: UInt64
    package var p99Nanoseconds: UInt64
    package var maxNanoseconds: UInt64
    /// Echoed bytes that differed from what was sent, plus bytes the server sent that nobody asked for.
    package var mismatchedBytes: UInt64
    /// Connections that failed to connect or broke during the run.
    package var errors: Int
    /// The first few problems, in words.
    package var problems: [String]
    /// CPU seconds (user + system) this process used during the measured window: near `seconds` means the
    /// generator itself was the bottleneck.
    package var cpuSeconds: Double = 0

    package var requestsPerSecond: Double { seconds > 0 ? Double(requests) / seconds : 0 }
    /// Echoed payload in megabytes (10^6 bytes) per second.
    package var megabytesPerSecond: Double { seconds > 0 ? Double(bytesEchoed) / seconds / 1e6 : 0 }
    package var succeeded: Bool { mismatchedBytes == 0 && errors == 0 && requests > 0 }
}
