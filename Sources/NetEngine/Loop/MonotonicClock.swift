#if canImport(Glibc)
import Glibc
#endif
import CLinux

/// Seconds on CLOCK_MONOTONIC.
public enum MonotonicClock {
    @inline(__always)
    public static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}
