#if canImport(Glibc)
import Glibc
#endif
import CLinux
import NetEngine

/// A load generator for echo servers: many non-blocking connections on one event loop, each keeping `pipeline`
/// requests in flight, checking every echoed byte and timing every request.
public final class EchoLoadGenerator {
    public let configuration: EchoLoadConfiguration
    /// When set, every connection speaks TLS (handshakes happen before the warmup, outside the measured time).
    public var tls: TLSClientConfiguration?
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
