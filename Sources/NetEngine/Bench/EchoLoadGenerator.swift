#if canImport(Glibc)
import Glibc
#endif
import CLinux

/// What to drive an echo server with.
public struct EchoLoadConfiguration: Sendable {
    public var host: String
    public var port: UInt16
    public var connections: Int
    /// Bytes in one request; the server must send the same bytes back.
    public var requestSize: Int
    /// Requests each connection keeps in flight.
    public var pipeline: Int
    /// Seconds measured, after `warmup` seconds that are not.
    public var duration: Double
    public var warmup: Double
    /// Seconds every connection has to be established.
    public var connectTimeout: Double

    public init(host: String, port: UInt16, connections: Int, requestSize: Int, pipeline: Int = 1,
                duration: Double, warmup: Double = 0, connectTimeout: Double = 10) {
        self.host = host
        self.port = port
        self.connections = connections
        self.requestSize = requestSize
        self.pipeline = pipeline
        self.duration = duration
        self.warmup = warmup
        self.connectTimeout = connectTimeout
    }
}

/// What one load run measured.
public struct EchoLoadReport: Sendable {
    public var seconds: Double
    public var requests: UInt64
    public var bytesEchoed: UInt64
    public var p50Nanoseconds: UInt64
    public var p99Nanoseconds: UInt64
    public var maxNanoseconds: UInt64
    /// Echoed bytes that differed from what was sent, plus bytes the server sent that nobody asked for.
    public var mismatchedBytes: UInt64
    /// Connections that failed to connect or broke during the run.
    public var errors: Int
    /// The first few problems, in words.
    public var problems: [String]
    /// CPU seconds (user + system) this process used during the measured window: near `seconds` means the
    /// generator itself was the bottleneck.
    public var cpuSeconds: Double = 0

    public var requestsPerSecond: Double { seconds > 0 ? Double(requests) / seconds : 0 }
    /// Echoed payload in megabytes (10^6 bytes) per second.
    public var megabytesPerSecond: Double { seconds > 0 ? Double(bytesEchoed) / seconds / 1e6 : 0 }
    public var succeeded: Bool { mismatchedBytes == 0 && errors == 0 && requests > 0 }
}

/// A load generator for echo servers: many non-blocking connections on one event loop, each keeping `pipeline`
/// requests in flight, checking every echoed byte and timing every request.
public final class EchoLoadGenerator {
    public let configuration: EchoLoadConfiguration
    let loop: EventLoop
    let pattern: VerificationPattern
    /// Where every connection reads into; a read never keeps bytes beyond its own handling.
    let receiveBuffer: UnsafeMutableRawBufferPointer
    private var connections: [LoadConnection] = []
    private var settledCount = 0
    private var started = false
    @exclusivity(unchecked) private(set) var running = false
    @exclusivity(unchecked) private(set) var measuring = false
    private var measureStart: UInt64 = 0
    private var measureEnd: UInt64 = 0
    private var cpuAtStart = 0.0
    private var cpuAtEnd = 0.0

    @exclusivity(unchecked) var histogram = LatencyHistogram()
    @exclusivity(unchecked) var completedRequests: UInt64 = 0
    @exclusivity(unchecked) var bytesEchoed: UInt64 = 0
    @exclusivity(unchecked) var mismatchedBytes: UInt64 = 0
    var errors = 0
    private(set) var problems: [String] = []

    public init(configuration: EchoLoadConfiguration) throws {
        precondition(configuration.connections > 0 && configuration.requestSize > 0 && configuration.pipeline > 0)
        self.configuration = configuration
        loop = try EventLoop(maxEventsPerWait: 1024)
        let window = 256 * 1024
        pattern = VerificationPattern(maxWindow: window)
        receiveBuffer = .allocate(byteCount: window, alignment: 64)
    }

    deinit {
        receiveBuffer.deallocate()
        pattern.deallocate()
    }

    /// Connects, drives the server for warmup + duration seconds, and reports. Throws when no connection can be made.
    public func run() throws -> EchoLoadReport {
        let address = try SocketAddress.resolve(host: configuration.host, port: configuration.port).first!
        for index in 0..<configuration.connections {
            let socket: Socket
            do {
                socket = try Socket.startConnect(to: address)
            } catch let error as SocketError {
                closeAll()
                throw error
            }
            let connection = LoadConnection(index: index, socket: socket, address: address, generator: self)
            connections.append(connection)
            try loop.register(socket.descriptor, handler: connection, read: false, write: true)
        }
        let connectTimer = loop.schedule(after: configuration.connectTimeout) { [unowned self] in
            for connection in self.connections where !connection.isConnected && !connection.isClosed {
                connection.fail("could not connect within \(formatSeconds(self.configuration.connectTimeout))")
            }
        }
        loop.run()
        loop.cancel(connectTimer)
        closeAll()
        if !started, let first = problems.first {
            throw SocketError(code: ECONNREFUSED, message: first)
        }
        let end = measureEnd > 0 ? measureEnd : BenchClock.nanoseconds()
        let seconds = measureStart > 0 ? Double(end - measureStart) / 1e9 : 0
        var report = EchoLoadReport(seconds: seconds, requests: completedRequests, bytesEchoed: bytesEchoed,
                                    p50Nanoseconds: histogram.percentile(0.5), p99Nanoseconds: histogram.percentile(0.99),
                                    maxNanoseconds: histogram.maximum, mismatchedBytes: mismatchedBytes, errors: errors,
                                    problems: problems)
        if measureStart > 0 { report.cpuSeconds = (measureEnd > 0 ? cpuAtEnd : ProcessCPU.seconds()) - cpuAtStart }
        return report
    }

    private func closeAll() {
        for connection in connections { connection.close() }
        connections.removeAll()
    }

    // MARK: Called by connections

    func connectionSettled() {
        settledCount += 1
        guard settledCount == configuration.connections else { return }
        guard connections.contains(where: { $0.isConnected && !$0.isClosed }) else {
            loop.stop()
            return
        }
        started = true
        running = true
        for connection in connections where connection.isConnected && !connection.isClosed {
            connection.startRequests()
        }
        if configuration.warmup > 0 {
            loop.schedule(after: configuration.warmup) { [unowned self] in self.startMeasuring() }
        } else {
            startMeasuring()
        }
    }

    private func startMeasuring() {
        histogram.reset()
        completedRequests = 0
        bytesEchoed = 0
        measuring = true
        cpuAtStart = ProcessCPU.seconds()
        measureStart = BenchClock.nanoseconds()
        loop.schedule(after: configuration.duration) { [unowned self] in self.finish() }
    }

    private func finish() {
        measureEnd = BenchClock.nanoseconds()
        cpuAtEnd = ProcessCPU.seconds()
        measuring = false
        running = false
        loop.stop()
    }

    func note(_ problem: String) {
        if problems.count < 10 { problems.append(problem) }
    }

    func connectionFailed() {
        errors += 1
        if running && !connections.contains(where: { !$0.isClosed }) { finish() }
    }
}

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
        socket.close()
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
        if !isConnected {
            do {
                try socket.finishConnect(to: address)
            } catch let error as SocketError {
                fail(error.message)
                return
            } catch { return }
            isConnected = true
            watchingWritable = false
            generator.loop.setInterest(socket.descriptor, read: true, write: false)
            generator.connectionSettled()
            return
        }
        if readable { receive() }
        if writable && !isClosed && unsentBytes > 0 { flush() }
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
                sent = try socket.send(pattern.window(at: sendOffset, count: count))
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
                guard let count = try socket.receive(into: buffer) else { return }
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

/// CLOCK_MONOTONIC in nanoseconds, for request timing.
enum BenchClock {
    @inline(__always)
    static func nanoseconds() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
    }
}

/// User plus system CPU time of this process so far, in seconds.
enum ProcessCPU {
    static func seconds() -> Double {
        var usage = rusage()
        guard getrusage(RUSAGE_SELF.rawValue, &usage) == 0 else { return 0 }
        func value(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
        return value(usage.ru_utime) + value(usage.ru_stime)
    }
}
