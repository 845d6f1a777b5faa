#if canImport(Glibc)
import Glibc
#endif

/// An in-memory transport for `EmbeddedConnection`: bytes the test feeds in are received, what is sent is kept for
/// the test to read, and `capacity` plays a peer that stops reading (sends then take only that many bytes).
final class MemoryTransport: Transport {
    let descriptor: Int32 = -1
    private var inbound: [UInt8] = []
    private var ended = false
    private(set) var written: [UInt8] = []
    var capacity = Int.max
    private(set) var resetOnClose = false
    private(set) var isClosed = false

    var hasInbound: Bool { !inbound.isEmpty || ended }

    func feed(_ bytes: [UInt8]) { inbound.append(contentsOf: bytes) }
    func end() { ended = true }

    func takeWritten() -> [UInt8] {
        defer { written.removeAll() }
        return written
    }

    func send(_ bytes: UnsafeRawBufferPointer) throws -> Int {
        if isClosed { throw SocketError(errno: EPIPE, operation: "send") }
        let count = min(bytes.count, capacity)
        if capacity != Int.max { capacity -= count }
        written.append(contentsOf: bytes.prefix(count))
        return count
    }

    func receive(into buffer: UnsafeMutableRawBufferPointer) throws -> Int? {
        if isClosed { throw SocketError(errno: EBADF, operation: "recv") }
        guard !inbound.isEmpty else { return ended ? 0 : nil }
        let count = min(buffer.count, inbound.count)
        inbound.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress!, byteCount: count) }
        inbound.removeFirst(count)
        return count
    }

    func setResetOnClose() throws { resetOnClose = true }
    private(set) var writeShutDown = false
    func shutdownWrite() { writeShutDown = true }
    func close() { isClosed = true }
}
