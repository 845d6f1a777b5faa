import ArgumentParser

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "bench", abstract: "Load generator (in progress).")
    func run() throws { throw failure("bench: not built yet") }
}
