import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif
import NetEngine

struct EchoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "echo",
        abstract: "Send lines from the keyboard or stdin to an echo server and print each reply.",
        discussion: "A line 'exit' or the end of input ends the session. Example: printf 'a\\nb\\n' | netconsole echo 127.0.0.1:12345"
    )

    @Argument(help: ArgumentHelp("Server address, HOST:PORT. (default: 127.0.0.1:12345)", valueName: "host:port"),
              transform: { try parseEndpoint($0) })
    var address = Endpoint(host: "127.0.0.1", port: 12345)

    @Option(name: .long, help: ArgumentHelp("How long to wait for each reply (seconds, or 500ms, 2m, 1h). (default: 10)", valueName: "seconds"),
            transform: { try Seconds.parse($0) })
    var timeout = Seconds(10)

    @Flag(name: .long, help: "Print the round-trip time after each reply.")
    var timing = false

    func run() throws {
        ignoreBrokenPipeSignal()
        let endpoint = address
        let interactive = isatty(0) == 1
        let client: EchoClient
        do { client = try EchoClient(connectingTo: endpoint) } catch let error as SocketError { throw failure(error.message) }
        if interactive { printError("connected to \(client.remote); type a line, 'exit' to quit") }

        let input = LineReader(descriptor: 0)
        while true {
            if interactive { fputs("> ", stderr) }
            guard let line = try input.nextLine() else { break }
            let text = line.last == 0x0A ? Array(line.dropLast()) : line
            if text == Array("exit".utf8) || text == Array("exit\r".utf8) { break }
            let message = text + [0x0A]
            let started = MonotonicClock.now()
            let reply: [UInt8]
            do { reply = try client.roundTrip(message, timeout: timeout.value) } catch let error as SocketError { throw failure(error.message) }
            reply.withUnsafeBytes { _ = fwrite($0.baseAddress, 1, $0.count, stdout) }
            if timing {
                let micros = Int((MonotonicClock.now() - started) * 1_000_000)
                fputs("(\(micros) µs)\n", stderr)
            }
            fflush(stdout)
        }
        client.close()
    }
}
