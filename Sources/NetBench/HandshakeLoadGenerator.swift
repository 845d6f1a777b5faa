#if canImport(Glibc)
import Glibc
#endif
import NetEngine

/// A TLS handshake load generator: `concurrency` connections on one loop, each a fresh connection, handshake and
/// one echoed byte after another, for `warmup` then `duration` seconds; reports the rate of complete ones.
package final class HandshakeLoadGenerator {
    package struct Report: Sendable {
        package var seconds = 0.0
        package var handshakes: UInt64 = 0
        package var p50Nanoseconds: UInt64 = 0
        package var p99Nanoseconds: UInt64 = 0
        package var errors = 0
        package var cpuSeconds = 0.0
        package var problems: [String] = []
        package var handshakesPerSecond: Double { seconds > 0 ? Double(handshakes) / seconds : 0 }
    }

    let loop: EventLoop
    let endpoint: Endpoint
    let address: SocketAddress
    let tls: TLSClientConfiguration
    private let concurrency: Int
    private let duration: Double
    private let warmup: Double
    private var connections: [HandshakeConnection] = []
    private var histogram = LatencyHistogram()
    private var measuring = false
    private var running = true
    private var report = Report()
    private var measureStart: UInt64 = 0
    private var cpuAtStart = 0.0

    package init(endpoint: Endpoint, tls: TLSClientConfiguration, concurrency: Int, duration: Double, warmup: Double) throws {
        self.endpoint = endpoint
        self.tls = tls
        self.concurrency = concurrency
        self.duration = duration
        self.warmup = warmup
        loop = try EventLoop()
        guard let address = try SocketAddress.resolve(host: endpoint.host, port: endpoint.port).first else {
            throw AddressError("cannot resolve \(endpoint.host)")
        }
        self.address = address
    }

    package func run() -> Report {
        loop.execute { [self] in
            for _ in 0..<concurrency {
                let connection = HandshakeConnection(generator: self)
                connections.append(connection)
                connection.start()
            }
            loop.schedule(after: warmup) { [self] in
                measuring = true
                histogram.reset()
                measureStart = BenchClock.nanoseconds()
                cpuAtStart = ProcessCPU.seconds()
                loop.schedule(after: duration) { [self] in
                    report.seconds = Double(BenchClock.nanoseconds() - measureStart) / 1e9
                    report.cpuSeconds = ProcessCPU.seconds() - cpuAtStart
                    measuring = false
                    running = false
                    loop.stop()
                }
            }
        }
        loop.run()
        for connection in connections { connection.close() }
        report.p50Nanoseconds = histogram.percentile(0.5)
        report.p99Nanoseconds = histogram.percentile(0.99)
        return report
    }

    func completed(nanoseconds: UInt64, connection: HandshakeConnection) {
        if measuring {
            report.handshakes += 1
            histogram.record(nanoseconds)
        }
        if running { connection.start() }
    }

    func failed(_ problem: String, connection: HandshakeConnection) {
        report.errors += 1
        if report.problems.count < 10 { report.problems.append(problem) }
        // A server that refuses everything would make this spin: stop after many failures.
        if report.errors > 1000 {
            running = false
            loop.stop()
            return
        }
        if running { loop.schedule(after: 0.01) { connection.start() } }
    }
}
