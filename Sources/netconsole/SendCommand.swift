import ArgumentParser

struct SendCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "send", abstract: "Send files to a file server (in progress).")
    func run() throws { throw failure("send: not built yet") }
}
