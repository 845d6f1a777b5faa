import ArgumentParser

struct ConsoleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "console",
        abstract: "Open the interactive console (the default when no subcommand is given)."
    )

    @Option(name: .long, help: "Host the console's servers listen on.")
    var host = "127.0.0.1"

    @Option(name: .shortAndLong, help: "Port of the console's echo server (the file server takes the next one); 0 picks free ports.")
    var port: UInt16 = 12345

    @Option(name: .long, help: "Folder where the console's file server saves uploads.")
    var dir = "received"

    func run() throws {
        throw failure("the interactive console is not built yet")
    }
}
