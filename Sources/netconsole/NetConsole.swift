import ArgumentParser
import Lab

@main
struct NetConsole: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "netconsole",
        abstract: "Talk TCP by hand and watch it happen: an interactive console, or headless servers and clients.",
        discussion: "With no subcommand, opens the interactive console (server pane and client pane).",
        subcommands: [ConsoleCommand.self, ServeCommand.self, EchoCommand.self, SendCommand.self, BenchCommand.self,
                      LabCommand.self],
        defaultSubcommand: ConsoleCommand.self
    )
}
