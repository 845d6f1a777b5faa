#if canImport(Glibc)
import Glibc
#endif
import CLinux

/// Splits a descriptor's bytes into lines without decoding them, so any bytes (not only UTF-8) pass through.
package final class LineReader {
    private let descriptor: Int32
    private var buffer: [UInt8] = []
    private var atEnd = false

    package init(descriptor: Int32) {
        self.descriptor = descriptor
    }

    /// The next line including its "\n" (the last line may lack it); nil at end of input.
    package func nextLine() throws -> [UInt8]? {
        while true {
            if let newline = buffer.firstIndex(of: 0x0A) {
                let line = Array(buffer[...newline])
                buffer.removeFirst(newline + 1)
                return line
            }
            if atEnd {
                if buffer.isEmpty { return nil }
                defer { buffer.removeAll() }
                return buffer
            }
            var chunk = [UInt8](repeating: 0, count: 4096)
            let n = read(descriptor, &chunk, chunk.count)
            if n < 0 {
                if errno == EINTR { continue }
                throw SocketError(errno: errno, operation: "read")
            }
            if n == 0 { atEnd = true } else { buffer.append(contentsOf: chunk[0..<n]) }
        }
    }
}
