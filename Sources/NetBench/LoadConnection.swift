#if canImport(Glibc)
import Glibc
#endif
import CLinux
import NetEngine

/// One connection of the load generator. Its per-request state is `@exclusivity(unchecked)` (loop thread only),
/// sparing a runtime exclusivity check on every access, so the generator costs as little as the servers it drives.
final class LoadConnection: EventHandler {
    let index: Int
    let socket: Socket
    let address: SocketAddress
    /// The generator owns its connections and closes them all before it goes away.
    private unowned(unsafe) let generator: EchoLoadGenerator
    private let pattern: VerificationPattern
    private let requestSize: Int
    @exclusivity(unchecked) private(set) var isConnected = false
    @exclusivity(unchecked) private(set) var isClosed = false
    @exclusivity(unchecked) private var sendOffset: Int
    @exclusivity(unchecked) private var receiveOffset: Int
    /// Bytes of issued requests not yet taken by the kernel.
    @exclusivity(unchecked) private var unsentBytes = 0
    /// Bytes issued and not yet echoed back.
    @exclusivity(unchecked) private var outstandingBytes = 0
    /// Bytes of the oldest outstanding request echoed so far.
    @exclusivity(unchecked) private var receivedOfCurrent = 0
    /// Bytes echoed on this connection since it started, for error messages.
    @exclusivity(unchecked) private var streamPosition: UInt64 = 0
    /// When each in-flight request was issued, oldest at `ringHead`.
    private let issuedAt: UnsafeMutablePointer<UInt64>
    private let ringCapacity: Int
    @exclusivity(unchecked) private var ringHead = 0
    @exclusivity(unchecked) private var ringCount = 0
    @exclusivity(unchecked) private var watchingWritable = true
    private var reportedMismatch = false
    /// TLS over `socket`, when the generator speaks TLS (its handshake runs before the connection counts as up).
    private var tls: TLSTransport?
    @exclusivity(unchecked) private var handshaking = false
    private var bufferedReadScheduled = false

    init(index: Int, socket: Socket, address: SocketAddress, generator: EchoLoadGenerator) {
        self.index = index
        self.socket = socket
        self.address = address
        self.generator = generator
        pattern = generator.pattern
        requestSize = generator.configuration.requestSize
        sendOffset = pattern.startOffset(forConnection: index)
        receiveOffset = sendOffset
        ringCapacity = generator.configuration.pipeline
        issuedAt = .allocate(capacity: ringCapacity)
    }

    deinit { issuedAt.deallocate() }

    func close() {
        guard !isClosed else { return }
        isClosed = true
        generator.loop.unregister(socket.descriptor)
        if let tls { tls.close() } else { socket.close() }
    }

    func fail(_ problem: String) {
        guard !isClosed else { return }
        let wasConnected = isConnected
        close()
        generator.note("connection \(index): \(problem)")
        generator.connectionFailed()
        if !wasConnected { generator.connectionSettled() }
    }

    func handleEvent(readable: Bool, writable: Bool, hangup: Bool) {
        if isClosed { return }
        if handshaking { return advanceHandshake() }
        if !isConnected {
            do {
                try socket.finishConnect(to: address)
            } catch let error as SocketError {
                fail(error.message)
                return
            } catch { return }
            if let configuration = generator.tls {
                let endpoint = Endpoint(host: generator.configuration.host, port: generator.configuration.port)
                do { tls = try configuration.transport(over: socket, to: endpoint) } catch {
                    return fail("\(error)")
                }
                handshaking = true
                return advanceHandshake()
            }
            connected()
            return
        }
        if readable { receive() }
        if writable && !isClosed && unsentBytes > 0 { flush() }
    }

    private func advanceHandshake() {
        guard let tls else { return }
        do {
            switch try tls.advanceHandshake() {
            case .done:
                handshaking = false
                connected()
            case .wantsRead: generator.loop.setInterest(socket.descriptor, read: true, write: false)
            case .wantsWrite: generator.loop.setInterest(socket.descriptor, read: false, write: true)
            }
        } catch {
            fail("\(error)")
        }
    }

    private func connected() {
        isConnected = true
        watchingWritable = false
        generator.loop.setInterest(socket.descriptor, read: true, write: false)
        generator.connectionSettled()
    }

    func startRequests() {
        let now = BenchClock.nanoseconds()
        for _ in 0..<ringCapacity { issueRequest(at: now) }
        flush()
    }

    @inline(__always)
    private func issueRequest(at now: UInt64) {
        issuedAt[(ringHead + ringCount) % ringCapacity] = now
        ringCount += 1
        unsentBytes += requestSize
        outstandingBytes += requestSize
    }

    private func flush() {
        while unsentBytes > 0 {
            let count = min(unsentBytes, pattern.maxWindow)
            let sent: Int
            do {
                if let tls {
                    sent = try tls.send(pattern.window(at: sendOffset, count: count))
                } else {
                    sent = try socket.send(pattern.window(at: sendOffset, count: count))
                }
            } catch let error as SocketError {
                fail(error.message)
                return
            } catch { return }
            if sent == 0 { break }
            unsentBytes -= sent
            sendOffset = pattern.advance(sendOffset, by: sent)
            if sent < count { break }
        }
        let wantWrite = unsentBytes > 0
        if wantWrite != watchingWritable {
            watchingWritable = wantWrite
            generator.loop.setInterest(socket.descriptor, read: true, write: wantWrite)
        }
    }

    private func receive() {
        let buffer = generator.receiveBuffer
        // Read until the kernel has no more, but a bounded number of times so other connections get their turn.
        for _ in 0..<4 {
            let received: Int
            do {
                guard let count = try (tls == nil ? socket.receive(into: buffer) : tls!.receive(into: buffer)) else { return }
                received = count
            } catch let error as SocketError {
                fail(error.message)
                return
            } catch { return }
            if received == 0 {
                fail(generator.running ? "server closed the connection" : "server closed the connection before the run")
                return
            }
            check(UnsafeRawBufferPointer(rebasing: buffer[0..<received]))
            if isClosed || received < buffer.count { return }
        }
        // TLS may hold decrypted bytes no readiness event will announce.
        if let tls, tls.hasBufferedInput, !bufferedReadScheduled {
            bufferedReadScheduled = true
            generator.loop.schedule(after: 0) { [weak self] in
                self?.bufferedReadScheduled = false
                if self?.isClosed == false { self?.receive() }
            }
        }
    }

    private func check(_ bytes: UnsafeRawBufferPointer) {
        var count = bytes.count
        if count > outstandingBytes {
            let extra = count - outstandingBytes
            generator.mismatchedBytes += UInt64(extra)
            if !reportedMismatch {
                reportedMismatch = true
                generator.note("connection \(index): \(extra) bytes arrived that were never sent (after byte \(streamPosition + UInt64(outstandingBytes)))")
            }
            count = outstandingBytes
        }
        guard count > 0 else { return }
        let expected = pattern.window(at: receiveOffset, count: count)
        if memcmp(bytes.baseAddress!, expected.baseAddress!, count) != 0 {
            var wrong: UInt64 = 0
            var first = -1
            for position in 0..<count where bytes[position] != expected[position] {
                wrong += 1
                if first < 0 { first = position }
            }
            generator.mismatchedBytes += wrong
            if !reportedMismatch {
                reportedMismatch = true
                let at = streamPosition + UInt64(first)
                generator.note("connection \(index): echoed byte \(at) is \(hex(bytes[first])), expected \(hex(expected[first])) (\(wrong) of \(count) bytes in that read differ)")
            }
        }
        receiveOffset = pattern.advance(receiveOffset, by: count)
        streamPosition += UInt64(count)
        outstandingBytes -= count
        if generator.measuring { generator.bytesEchoed += UInt64(count) }

        receivedOfCurrent += count
        guard receivedOfCurrent >= requestSize else { return }
        let now = BenchClock.nanoseconds()
        var completed = 0
        while receivedOfCurrent >= requestSize {
            receivedOfCurrent -= requestSize
            if generator.measuring {
                generator.histogram.record(now &- issuedAt[ringHead])
                generator.completedRequests += 1
            }
            ringHead = (ringHead + 1) % ringCapacity
            ringCount -= 1
            completed += 1
        }
        guard generator.running else { return }
        for _ in 0..<completed { issueRequest(at: now) }
        flush()
    }

    private func hex(_ byte: UInt8) -> String {
        let digits = String(byte, radix: 16)
        return byte < 16 ? "0x0\(digits)" : "0x\(digits)"
    }
}
