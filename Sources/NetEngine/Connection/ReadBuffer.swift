#if canImport(Glibc)
import Glibc
#endif
import CLinux

/// The one buffer a server's connections read into (they hand the bytes on before the next read), kept alive
/// by every connection that uses it.
package final class ReadBuffer {
    package let bytes: UnsafeMutableRawBufferPointer

    package init(byteCount: Int) {
        bytes = .allocate(byteCount: byteCount, alignment: 64)
    }

    deinit { bytes.deallocate() }
}
