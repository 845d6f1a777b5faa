import NetEngine
import NetConsoleUI
import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif

struct ConsoleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "console",
        abstract: "Open the interactive console (the default when no subcommand is given).",
        discussion: """
        The server pane shows the console's echo server (--port) and file server (the next port) live; the client \
        pane keeps sessions to any TCP server (echoes show their round trip) and sends files picked from the current folder. F1 shows the keys; q quits.
        """
    )

    @Option(name: .long, help: "Host the console's servers listen on.")
    var host = "127.0.0.1"

    @Option(name: .shortAndLong, help: "Port of the console's echo server (the file server takes the next one); 0 picks free ports.")
    var port: UInt16 = 12345

    @Option(name: .long, help: "Folder where the console's file server saves uploads.")
    var dir = "received"

    @Option(name: .long, help: ArgumentHelp("How long an echo (or a UDP datagram) waits for its reply, and a session for its connection (seconds, or 500ms, 2m, 1h). (default: 5)", valueName: "seconds"),
            transform: { try Seconds.parse($0) })
    var echoTimeout = Seconds(5)

    @Option(name: .long, help: ArgumentHelp("Open a session to this server at start, as Enter on the target does.", valueName: "host:port"),
            transform: { try parseEndpoint($0) })
    var connect: Endpoint?

    @Flag(name: .long, help: "Leave the mouse to the terminal (to select and copy text); keys do everything the mouse does.")
    var noMouse = false

    @Flag(name: .long, help: "Ask before each upload: it waits (nothing stored) for y or n in a popup with its name, size and peer; unanswered in 60 s it is refused. Raw uploads are refused.")
    var ask = false

    @Flag(name: .long, help: "Also run a UDP echo server (RFC 862) on the echo server's port number; each peer is a row in the server pane with its datagrams and bytes.")
    var udp = false

    @Option(name: .long, help: .hidden, transform: { try Seconds.parse($0) })
    var askTimeout = Seconds(60)

    @OptionGroup var tlsOptions: ServerTLSOptions

    func run() throws {
        var notes: [String] = []
        let tls = try tlsOptions.context(host: host) { notes.append($0) }
        var options = ConsoleOptions(host: host, port: port, saveDirectory: dir,
                                     pickerDirectory: ".", echoTimeout: echoTimeout.value, mouse: !noMouse,
                                     connect: connect?.description, tls: tls)
        options.startNotes = notes
        if let tls {
            // The client pane talks TLS too: to the console's own servers first of all, whose certificate it knows.
            do {
                var client = try TLSClientConfiguration()
                if let own = tls.certificateFingerprint { client.trust.alsoTrusted = [own] }
                options.tlsClient = client
            } catch let error as NetError {
                throw failure(error.message)
            }
        }
        options.ask = ask
        options.udp = udp
        options.askTimeout = askTimeout.value
        do {
            try ConsoleApp(options: options).run()
        } catch let error as SocketError where error.code == EADDRINUSE {
            let ports = port == 0 ? "two free ports" : port == UInt16.max ? "port \(port) and a free one" : "ports \(port) and \(port + 1)"
            throw failure("\(error.message); the console uses \(ports) (echo and files): pick others with --port N, or --port 0 for free ones")
        }
    }
}
