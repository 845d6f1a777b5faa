import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif
import NetBench
import NetEngine

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Load generators for measuring servers.",
        subcommands: [BenchEchoCommand.self]
    )
}

struct BenchEchoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "echo",
        abstract: "Drive an echo server with many connections and report requests/s, MB/s and latency.",
        discussion: """
        Each connection sends requests of --size bytes from its own pseudo-random stream, keeps --pipeline of them \
        in flight, and checks every byte that comes back. Exits non-zero when any byte came back wrong or any \
        connection failed.

        The last line is for scripts (one line):
          result requests_per_s=N mb_per_s=N p50_us=N p99_us=N
          requests=N mismatches=N errors=N cpu_pct=N
        cpu_pct is the generator's own CPU use over the measured time; near 100 means it, not the server, was the \
        limit.

        --udp drives a UDP echo server instead: --connections UDP sockets, each keeping --pipeline datagrams of \
        --size bytes (16 to 65507) in flight; a datagram not echoed within --loss-timeout is counted lost and \
        replaced. Loss is reported, not an error; a wrong byte is. Its last line:
          result datagrams_per_s=N mb_per_s=N p50_us=N p99_us=N sent=N echoed=N lost=N loss_pct=N
          late=N mismatches=N cpu_pct=N
        """
    )

    @Argument(help: ArgumentHelp("Echo server address, HOST:PORT.", valueName: "host:port"), transform: { try parseEndpoint($0) })
    var address: Endpoint

    @Option(name: .shortAndLong, help: "Connections, all on one event loop.")
    var connections = 1

    @Option(name: .shortAndLong, help: "Bytes per request (64, 1K, 64K, ...).")
    var size = "64"

    @Option(name: .shortAndLong, help: "Seconds to measure.")
    var duration: Double = 5

    @Option(name: .long, help: "Seconds to run before measuring.")
    var warmup: Double = 0

    @Option(name: .long, help: "Requests each connection keeps in flight.")
    var pipeline = 1

    @Flag(name: .long, help: "Drive a UDP echo server (RFC 862): datagrams instead of connections, with loss reported.")
    var udp = false

    @Option(name: .long, help: ArgumentHelp("With --udp: how long a datagram may wait for its echo before it counts as lost. (default: 500ms)", valueName: "seconds"),
            transform: { try Seconds.parse($0) })
    var lossTimeout = Seconds(0.5)

    @OptionGroup var tlsOptions: ClientTLSOptions

    @Flag(name: .long, help: "With --tls: measure TLS handshakes per second instead (--connections at a time, each a new connection, handshake and one echoed byte).")
    var handshakes = false

    func validate() throws {
        if !(1...100_000).contains(connections) { throw ValidationError("--connections must be from 1 to 100000") }
        if !(1...1024).contains(pipeline) { throw ValidationError("--pipeline must be from 1 to 1024") }
        if !(duration >= Seconds.minimum) || duration > Seconds.maximum {
            throw ValidationError("--duration must be from \(Seconds.minimum) to \(Int(Seconds.maximum)) seconds")
        }
        if !(warmup >= 0) || warmup > Seconds.maximum { throw ValidationError("--warmup must be from 0 to \(Int(Seconds.maximum)) seconds") }
        guard let bytes = ByteCount.parse(size), bytes >= 1, bytes <= 64 * 1024 * 1024 else {
            throw ValidationError("--size must be a byte count from 1 to 64M, like 64, 1K or 64K")
        }
        // Every request in flight is held until its echo is checked.
        if Int64(connections) * Int64(pipeline) * bytes > 1 << 30 {
            throw ValidationError("--connections × --pipeline × --size must stay within 1 GiB in flight")
        }
        if udp && tlsOptions.tls { throw ValidationError("--tls is for TCP: UDP echo has no TLS") }
        if handshakes && !tlsOptions.tls { throw ValidationError("--handshakes needs --tls") }
        if udp && !(Int64(UDPEchoLoadGenerator.minimumSize)...Int64(DatagramSocket.maxPayload)).contains(bytes) {
            throw ValidationError("--size with --udp must be from \(UDPEchoLoadGenerator.minimumSize) to \(DatagramSocket.maxPayload) bytes (one datagram)")
        }
    }

    func run() throws {
        ignoreBrokenPipeSignal()
        if udp { return try runUDP() }
        let tls = try tlsOptions.configuration()
        if handshakes, let tls { return try runHandshakes(tls) }
        let endpoint = address
        let requestSize = Int(ByteCount.parse(size)!)
        raiseDescriptorLimit(toAtLeast: connections + 64)
        let configuration = EchoLoadConfiguration(host: endpoint.host, port: endpoint.port, connections: connections,
                                                  requestSize: requestSize, pipeline: pipeline,
                                                  duration: duration, warmup: warmup)
        let generator = try EchoLoadGenerator(configuration: configuration)
        generator.tls = tls
        let report = try generator.run()
        printNow("bench echo \(endpoint): \(connections) connection\(connections == 1 ? "" : "s") × \(requestSize) B, "
                 + "pipeline \(pipeline), \(fixed(report.seconds, 2)) s measured")
        printNow("\(Int(report.requestsPerSecond.rounded())) requests/s, \(fixed(report.megabytesPerSecond, 1)) MB/s, "
                 + "latency p50 \(micros(report.p50Nanoseconds)) p99 \(micros(report.p99Nanoseconds)) "
                 + "max \(micros(report.maxNanoseconds)), \(report.requests) requests, "
                 + "\(report.mismatchedBytes) mismatched bytes, \(report.errors) errors")
        for problem in report.problems { printError("netconsole: bench: \(problem.sanitizedForDisplay)") }
        printNow("result requests_per_s=\(Int(report.requestsPerSecond.rounded())) mb_per_s=\(fixed(report.megabytesPerSecond, 1)) "
                 + "p50_us=\(fixed(Double(report.p50Nanoseconds) / 1000, 1)) p99_us=\(fixed(Double(report.p99Nanoseconds) / 1000, 1)) "
                 + "requests=\(report.requests) mismatches=\(report.mismatchedBytes) errors=\(report.errors) "
                 + "cpu_pct=\(fixed(report.seconds > 0 ? report.cpuSeconds / report.seconds * 100 : 0, 0))")
        if report.mismatchedBytes > 0 { throw failure("bench: \(report.mismatchedBytes) echoed bytes were wrong") }
        if report.errors > 0 { throw failure("bench: \(report.errors) connection\(report.errors == 1 ? "" : "s") failed") }
        if report.requests == 0 { throw failure("bench: no request completed") }
    }

    private func runHandshakes(_ tls: TLSClientConfiguration) throws {
        let generator = try HandshakeLoadGenerator(endpoint: address, tls: tls, concurrency: connections, duration: duration, warmup: warmup)
        let report = generator.run()
        printNow("bench echo --tls --handshakes \(address): \(connections) at a time, \(fixed(report.seconds, 2)) s measured")
        printNow("\(Int(report.handshakesPerSecond.rounded())) handshakes/s, latency p50 \(micros(report.p50Nanoseconds)) "
                 + "p99 \(micros(report.p99Nanoseconds)), \(report.handshakes) handshakes, \(report.errors) errors")
        for problem in report.problems { printError("netconsole: bench: \(problem.sanitizedForDisplay)") }
        printNow("result handshakes_per_s=\(Int(report.handshakesPerSecond.rounded())) p50_us=\(fixed(Double(report.p50Nanoseconds) / 1000, 1)) "
                 + "p99_us=\(fixed(Double(report.p99Nanoseconds) / 1000, 1)) handshakes=\(report.handshakes) errors=\(report.errors) "
                 + "cpu_pct=\(fixed(report.seconds > 0 ? report.cpuSeconds / report.seconds * 100 : 0, 0))")
        if report.handshakes == 0 { throw failure("bench: no handshake completed") }
    }

    private func runUDP() throws {
        let endpoint = address
        let datagramSize = Int(ByteCount.parse(size)!)
        let generator = UDPEchoLoadGenerator(host: endpoint.host, port: endpoint.port, sockets: connections, size: datagramSize,
                                             pipeline: pipeline, duration: duration, warmup: warmup, lossTimeout: lossTimeout.value)
        let report: UDPEchoLoadReport
        do { report = try generator.run() } catch let error as SocketError { throw failure(error.message) }
        let loss = fixed(report.lossPercent, 2)
        printNow("bench echo --udp \(endpoint): \(connections) socket\(connections == 1 ? "" : "s") × \(datagramSize) B, "
                 + "pipeline \(pipeline), \(fixed(report.seconds, 2)) s measured")
        printNow("\(Int(report.datagramsPerSecond.rounded())) datagrams/s, \(fixed(report.megabytesPerSecond, 1)) MB/s, "
                 + "latency p50 \(micros(report.p50Nanoseconds)) p99 \(micros(report.p99Nanoseconds)) "
                 + "max \(micros(report.maxNanoseconds)), \(report.sent) sent, \(report.echoed) echoed, "
                 + "\(report.lost) lost (\(loss)%), \(report.late) late, \(report.mismatched) mismatched")
        printNow("result datagrams_per_s=\(Int(report.datagramsPerSecond.rounded())) mb_per_s=\(fixed(report.megabytesPerSecond, 1)) "
                 + "p50_us=\(fixed(Double(report.p50Nanoseconds) / 1000, 1)) p99_us=\(fixed(Double(report.p99Nanoseconds) / 1000, 1)) "
                 + "sent=\(report.sent) echoed=\(report.echoed) lost=\(report.lost) loss_pct=\(loss) late=\(report.late) "
                 + "mismatches=\(report.mismatched) cpu_pct=\(fixed(report.seconds > 0 ? report.cpuSeconds / report.seconds * 100 : 0, 0))")
        if report.mismatched > 0 { throw failure("bench: \(report.mismatched) echoed datagrams were wrong") }
        if report.echoed == 0 { throw failure("bench: no datagram was echoed (\(report.sent) sent)") }
    }

    private func micros(_ nanoseconds: UInt64) -> String {
        "\(fixed(Double(nanoseconds) / 1000, 1)) µs"
    }
}

/// `value` with `digits` decimals, without Foundation.
private func fixed(_ value: Double, _ digits: Int) -> String {
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let scaled = Int64((value * scale).rounded())
    let whole = scaled / Int64(scale)
    guard digits > 0 else { return "\(whole)" }
    var fraction = String(abs(scaled) % Int64(scale))
    while fraction.count < digits { fraction = "0" + fraction }
    return "\(whole).\(fraction)"
}

/// Lifts the soft RLIMIT_NOFILE so many connections fit (up to the hard limit).
private func raiseDescriptorLimit(toAtLeast wanted: Int) {
    var limit = rlimit()
    guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < rlim_t(wanted) else { return }
    limit.rlim_cur = min(limit.rlim_max, rlim_t(wanted))
    _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
}
