#if canImport(Glibc)
import Glibc
#endif

/// Standard output and error by descriptor: C's `stdout`/`stderr` are shared mutable globals that Swift 6 will not
/// read. Output that print() buffered is flushed first, so the order on the terminal is kept.
enum StandardStreams {
    static func writeOutput(_ bytes: UnsafeRawBufferPointer) {
        fflush(nil)
        write(1, bytes)
    }

    static func writeOutput(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { writeOutput($0) }
    }

    /// Writes `text` to stderr as is (no newline added).
    static func writeError(_ text: String) {
        fflush(nil)
        var text = text
        text.withUTF8 { write(2, UnsafeRawBufferPointer($0)) }
    }

    private static func write(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer) {
        var offset = 0
        while offset < bytes.count {
            let n = Glibc.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return }
            offset += n
        }
    }
}
