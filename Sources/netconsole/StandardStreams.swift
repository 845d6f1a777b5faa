#if canImport(Glibc)
import Glibc
#endif
import NetEngine

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
        // A closed terminal or pipe is no reason to stop: what cannot be shown is dropped.
        _ = writeAll(descriptor, bytes)
    }
}
