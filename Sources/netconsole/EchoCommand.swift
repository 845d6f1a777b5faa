import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif
import NetEngine

struct EchoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "echo",
        abstract: "Send lines from the keyboard or stdin to an echo server and print each reply.",
        discussion: """
        A line 'exit' or the end of input ends the session. Each echo is as many bytes as the line sent; bytes a \
        server sends beyond that are reported on stderr, escaped. Example: printf 'a\\nb\\n' | netconsole echo 127.0.0.1:12345
        --udp sends each line (with its newline) as one datagram and waits --timeout for its echo; a reply that never \
        comes is counted as lost, and the totals are reported at the end (exit 1 when any was lost).
        """
    )

    @Argument(help: ArgumentHelp("Server address, HOST:PORT. (default: 127.0.0.1:12345)", valueName: "host:port"),
              transform: { try parseEndpoint($0) })
    var address = Endpoint(host: "127.0.0.1", port: 12345)

    @Option(name: .long, help: ArgumentHelp("How long to wait for each reply (seconds, or 500ms, 2m, 1h). (default: 10; 1 with --udp)", valueName: "seconds"),
            transform: { try Seconds.parse($0) })
    var timeout: Seconds?

    @Flag(name: .long, help: "Talk to a UDP echo server (RFC 862): each line is one datagram.")
    var udp = false

    @Flag(name: .long, help: "Print the round-trip time after each reply.")
    var timing = false

    @OptionGroup var tlsOptions: ClientTLSOptions

    func validate() throws {
        if udp && tlsOptions.tls { throw ValidationError("--tls is for TCP: UDP echo has no TLS") }
    }

    func run() throws {
        ignoreBrokenPipeSignal()
        if udp { return try runUDP() }
        let timeout = self.timeout ?? Seconds(10)
        let endpoint = address
        let interactive = isatty(0) == 1
        let tls = try tlsOptions.configuration()
        let client: EchoClient
        client = try EchoClient(connectingTo: endpoint, tls: tls, timeout: timeout.value)
        if let note = trustNote(client.tls, endpoint: endpoint) { printError("netconsole: \(note)") }
        if interactive {
            let security = client.tls?.protocolVersion.map { " over \($0)" } ?? ""
            printError("connected to \(client.remote)\(security); type a line, 'exit' to quit")
        }

        let input = LineReader(descriptor: 0)
        while true {
            if interactive { StandardStreams.writeError("> ") }
            guard let line = try input.nextLine() else { break }
            let text = line.last == 0x0A ? Array(line.dropLast()) : line
            if text == Array("exit".utf8) || text == Array("exit\r".utf8) { break }
            let message = text + [0x0A]
            let started = MonotonicClock.now()
            // Bytes that came late after the last echo (or a greeting) must not be printed as this line's echo.
            reportExtra(try client.takeWaitingBytes(), from: client.remote)
            let reply = try client.roundTrip(message, timeout: timeout.value)
            reply.withUnsafeBytes { StandardStreams.writeOutput($0) }
            if timing {
                let micros = Int((MonotonicClock.now() - started) * 1_000_000)
                StandardStreams.writeError("(\(micros) µs)\n")
            }
            reportExtra(try client.takeWaitingBytes(), from: client.remote)
        }
        reportExtra(client.close(collectingFor: min(timeout.value, 1)), from: client.remote)
    }

    private func runUDP() throws {
        let timeout = self.timeout ?? Seconds(1)
        let interactive = isatty(0) == 1
        let client: UDPEchoClient
        client = try UDPEchoClient(endpoint: address)
        if interactive { printError("sending datagrams to \(client.remote); type a line, 'exit' to quit") }
        let input = LineReader(descriptor: 0)
        var lineNumber = 0
        while true {
            if interactive { StandardStreams.writeError("> ") }
            guard let line = try input.nextLine() else { break }
            lineNumber += 1
            let text = line.last == 0x0A ? Array(line.dropLast()) : line
            if text == Array("exit".utf8) || text == Array("exit\r".utf8) { break }
            let message = text + [0x0A]
            guard message.count <= DatagramSocket.maxPayload else {
                printError("netconsole: line \(lineNumber) is \(message.count) bytes, more than one datagram holds (\(DatagramSocket.maxPayload)); not sent")
                continue
            }
            let outcome: UDPEchoClient.Outcome
            outcome = try client.roundTrip(message, timeout: timeout.value)
            switch outcome {
            case let .echoed(roundTrip):
                StandardStreams.writeOutput(message)
                if timing { StandardStreams.writeError("(\(Int(roundTrip * 1_000_000)) µs)\n") }
            case .lost:
                printError("netconsole: no echo of line \(lineNumber) within \(timeout) s: counted as lost")
            }
        }
        let percent = client.sent == 0 ? 0 : Double(client.lost) * 100 / Double(client.sent)
        let summary = "udp echo \(client.remote): \(client.sent) sent, \(client.echoed) echoed, \(client.lost) lost "
            + "(\(Int(percent.rounded()))%)" + (client.stray > 0 ? ", \(client.stray) stray" : "")
        if client.lost > 0 { throw failure(summary) }
        printError(summary)
    }

    /// The echo is as long as the message; a server that answers with more is said so on stderr, bytes shown escaped.
    private func reportExtra(_ bytes: [UInt8], from remote: String) {
        guard !bytes.isEmpty else { return }
        printError("netconsole: \(bytes.count) byte\(bytes.count == 1 ? "" : "s") beyond the echo from \(remote): \"\(Self.escaped(bytes))\"")
    }

    /// Valid UTF-8 with its control characters escaped; anything else byte by byte, \xNN for all but printable ASCII.
    static func escaped(_ bytes: [UInt8]) -> String {
        if let text = String(validating: bytes, as: UTF8.self) { return text.sanitizedForDisplay }
        return bytes.map { byte in
            (0x20..<0x7F).contains(byte) ? String(UnicodeScalar(byte)) : "\\x" + (byte < 0x10 ? "0" : "") + String(byte, radix: 16)
        }.joined()
    }
}
