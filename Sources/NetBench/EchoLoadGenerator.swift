#if canImport(Glibc)
import Glibc
#endif
import CLinux
import NetEngine

/// A load generator for echo servers: many non-blocking connections on one event loop, each keeping `pipeline`
/// requests in flight, checking every echoed byte and timing every request.
package final class EchoLoadGenerator: ConnectionOwner {
    package let configuration: EchoLoadConfiguration
    /// When set, every connection speaks TLS; a connection counts as up once its handshake is done, so handshakes
    /// happen before the warmup, outside the measured time.
    package var tls: TLSClientConfiguration?
    package let loop: EventLoop
    let pattern: VerificationPattern
    /// Where every connection reads into; a read never keeps bytes beyond its own handling.
    package let sharedReadBuffer: ReadBuffer
    package let service = "bench"
    package let limits = ServerLimits()
    package let sink: EventSink? = nil
    package let reportsBytes = false
    package let payloadDumpLimit = 0
    private let tally = LoadTally()
    private var connects: [LoadConnect] = []
    private var handlers: [LoadHandler] = []
    private var settledCount = 0
    private var started = false
    private var measureStart: UInt64 = 0
    private var measureEnd: UInt64 = 0
    private var cpuAtStart = 0.0
    private var cpuAtEnd = 0.0

    package init(configuration: EchoLoadConfiguration) throws {
        precondition(configuration.connections > 0 && configuration.requestSize > 0 && configuration.pipeline > 0)
        self.configuration = configuration
        loop = try EventLoop(maxEventsPerWait: 1024)
        let window = 256 * 1024
        pattern = VerificationPattern(maxWindow: window)
        sharedReadBuffer = ReadBuffer(byteCount: window)
    }

    deinit { pattern.deallocate() }

    /// Connects, drives the server for warmup + duration seconds, and reports. Throws when no connection can be made.
    package func run() throws -> EchoLoadReport {
        let address = try SocketAddress.resolve(host: configuration.host, port: configuration.port).first!
        for index in 0..<configuration.connections {
            do {
                connects.append(try LoadConnect(index: index, address: address, loop: loop) { [unowned self] connect, result in
                    self.connectSettled(connect, result)
                })
            } catch {
                closeAll()
                throw error
            }
        }
        let connectTimer = loop.schedule(after: configuration.connectTimeout) { [unowned self] in
            for connect in self.connects where !connect.isSettled { connect.timeOut(after: self.configuration.connectTimeout) }
        }
        loop.run()
        loop.cancel(connectTimer)
        closeAll()
        if !started, let first = tally.problems.first {
            throw SocketError(code: ECONNREFUSED, message: first)
        }
        let end = measureEnd > 0 ? measureEnd : BenchClock.nanoseconds()
        let seconds = measureStart > 0 ? Double(end - measureStart) / 1e9 : 0
        var report = EchoLoadReport(seconds: seconds, requests: tally.completedRequests, bytesEchoed: tally.bytesEchoed,
                                    p50Nanoseconds: tally.histogram.percentile(0.5),
                                    p99Nanoseconds: tally.histogram.percentile(0.99),
                                    maxNanoseconds: tally.histogram.maximum, mismatchedBytes: tally.mismatchedBytes,
                                    errors: tally.errors, problems: tally.problems)
        if measureStart > 0 { report.cpuSeconds = (measureEnd > 0 ? cpuAtEnd : ProcessCPU.seconds()) - cpuAtStart }
        return report
    }

    private func closeAll() {
        tally.running = false
        for connect in connects where !connect.isSettled { connect.timeOut(after: 0) }
        for handler in handlers { handler.close() }
        handlers.removeAll()
        connects.removeAll()
    }

    // MARK: Connections

    private func connectSettled(_ connect: LoadConnect, _ result: Result<Void, SocketError>) {
        switch result {
        case let .failure(error):
            tally.note("connection \(connect.index): \(error.message)")
            tally.errors += 1
        case .success:
            let handler = LoadHandler(index: connect.index, pattern: pattern, requestSize: configuration.requestSize,
                                      pipeline: configuration.pipeline, tally: tally) { [unowned self] handler, error in
                self.connectionClosed(handler, error: error)
            }
            do {
                let transport: Transport
                if let tls {
                    transport = try tls.transport(over: connect.socket, to: Endpoint(host: configuration.host, port: configuration.port))
                    handler.onStarted = { [unowned self] _ in self.settle() }
                } else {
                    transport = connect.socket
                }
                let connection = Connection(id: connect.index, transport: transport, peer: connect.address,
                                            owner: self, handler: handler)
                try loop.register(connect.socket.descriptor, handler: connection)
                handlers.append(handler)
                connection.start()
                // Over TLS the connection is settled when its handshake ends, one way or the other.
                if tls != nil { return }
            } catch {
                connect.socket.close()
                tally.note("connection \(connect.index): \(error)")
                tally.errors += 1
            }
        }
        settle()
    }

    private func settle() {
        settledCount += 1
        if settledCount == configuration.connections { allSettled() }
    }

    private func allSettled() {
        guard handlers.contains(where: { $0.isOpen }) else {
            loop.stop()
            return
        }
        started = true
        tally.running = true
        for handler in handlers where handler.isOpen { handler.startRequests() }
        if configuration.warmup > 0 {
            loop.schedule(after: configuration.warmup) { [unowned self] in self.startMeasuring() }
        } else {
            startMeasuring()
        }
    }

    private func startMeasuring() {
        tally.resetMeasurements()
        tally.measuring = true
        cpuAtStart = ProcessCPU.seconds()
        measureStart = BenchClock.nanoseconds()
        loop.schedule(after: configuration.duration) { [unowned self] in self.finish() }
    }

    private func finish() {
        guard tally.running || tally.measuring else { return }
        measureEnd = BenchClock.nanoseconds()
        cpuAtEnd = ProcessCPU.seconds()
        tally.measuring = false
        tally.running = false
        loop.stop()
    }

    private func connectionClosed(_ handler: LoadHandler, error: SocketError?) {
        if tls != nil && !handler.hasStarted && !started { settle() }
        guard let error else { return }  // closed by us at the end of the run
        tally.note("connection \(handler.index): \(error.message)")
        tally.errors += 1
        if tally.running && !handlers.contains(where: { $0.isOpen }) { finish() }
    }

    // MARK: ConnectionOwner

    package func watchDeadlines() {}

    package func connectionDidClose(_ connection: Connection, error: SocketError?) {}
}
