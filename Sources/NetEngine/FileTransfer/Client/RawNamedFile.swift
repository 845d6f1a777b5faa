#if canImport(Glibc)
import Glibc
#endif

/// A file to send whose path is not UTF-8, so no `String` path reaches it: opened by its path's bytes and read through
/// `/proc/self/fd/N`; the header names it by its last component decoded (U+FFFD for what is not UTF-8, since the
/// server takes `\` for a separator). `send` and the console's queue both send such files this way.
package struct RawNamedFile {
    package let descriptor: Int32
    /// The last component, as the header carries it.
    package let name: String

    /// What to send through: a path of this process's own descriptor table.
    package var path: String { "/proc/self/fd/\(descriptor)" }

    /// Opens `rawPath` for reading; `shown` is how an error names it.
    package static func open(_ rawPath: [UInt8], shown: String) throws(StorageError) -> RawNamedFile {
        let descriptor = (rawPath + [0]).withUnsafeBufferPointer {
            Glibc.open(UnsafeRawPointer($0.baseAddress!).assumingMemoryBound(to: CChar.self), O_RDONLY | O_CLOEXEC)
        }
        guard descriptor >= 0 else { throw StorageError("\(shown): \(String(cString: strerror(errno)))", code: errno) }
        let last = rawPath.split(separator: UInt8(ascii: "/")).last.map(Array.init) ?? rawPath
        return RawNamedFile(descriptor: descriptor, name: String(decoding: last, as: UTF8.self))
    }

    package func close() { Glibc.close(descriptor) }
}
