#if canImport(Glibc)
import Glibc
#endif

/// Writes all of `bytes` to `descriptor` (a file, or a blocking stream), going on after interrupted and partial
/// writes. Returns the errno of the write that failed, nil once everything is written.
package func writeAll(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer) -> Int32? {
    var offset = 0
    while offset < bytes.count {
        let n = write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
        if n < 0 && errno == EINTR { continue }
        if n <= 0 { return n < 0 ? errno : EIO }
        offset += n
    }
    return nil
}
