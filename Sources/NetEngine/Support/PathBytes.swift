#if canImport(Glibc)
import Glibc
#endif

/// A file system path as the kernel has it: bytes, which need not be UTF-8. A `String` made from such a name holds
/// U+FFFD where its bytes were and names nothing, so code that opens what a folder listing found keeps the bytes.
package enum PathBytes {
    /// Calls `body` with `bytes` as a C string (NUL-terminated).
    package static func withCString<T>(_ bytes: [UInt8], _ body: (UnsafePointer<CChar>) -> T) -> T {
        (bytes + [0]).withUnsafeBufferPointer { body(UnsafeRawPointer($0.baseAddress!).assumingMemoryBound(to: CChar.self)) }
    }

    /// How messages show a path: its bytes decoded, U+FFFD for what is not UTF-8.
    package static func shown(_ bytes: [UInt8]) -> String {
        String(decoding: bytes, as: UTF8.self)
    }
}
