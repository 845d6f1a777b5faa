import ArgumentParser
import Lab
import NetEngine

@main
struct NetConsole: ParsableCommand {
    static let version = "0.3.0"

    /// Runs the command; a `NetError` from anywhere is its one clear line on stderr and exit status 1.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let error as NetError {
            exit(withError: failure(error.message))
        } catch {
            exit(withError: error)
        }
    }

    static let configuration = CommandConfiguration(
        commandName: "netconsole",
        abstract: "Talk TCP by hand and watch it happen: an interactive console, or headless servers and clients.",
        discussion: """
        netconsole \(NetConsole.version). With no subcommand, opens the interactive console (server pane and client \
        pane): netconsole [--host HOST] [--port PORT] [--dir DIR] (see 'netconsole console --help'; the console's echo \
        server listens on PORT, default 12345, its file server on the next port, and uploads are saved into DIR, \
        default ./received, created when the first one arrives).
        """,
        version: "netconsole \(NetConsole.version)",
        subcommands: [ConsoleCommand.self, ServeCommand.self, EchoCommand.self, ConnectCommand.self, SendCommand.self, BenchCommand.self,
                      LabCommand.self],
        defaultSubcommand: ConsoleCommand.self
    )
}
