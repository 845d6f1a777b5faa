import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// `netconsole` in a real terminal: a private tmux server runs it, send-keys types, capture-pane reads the screen.
final class TmuxConsole {
    let tmux: String
    let socketName: String
    let pickDirectory: URL
    let saveDirectory: URL
    var stateDirectory: URL { pickDirectory.appendingPathComponent("state") }

    /// Skips the test when tmux is not installed; the tmux server is killed when the test ends.
    init(_ testCase: XCTestCase) throws {
        guard let path = which("tmux") else { throw XCTSkip("tmux is not installed") }
        tmux = path
        socketName = "netconsole-test-\(UUID().uuidString.prefix(8))"
        pickDirectory = try makeTemporaryDirectory(testCase)
        saveDirectory = pickDirectory.appendingPathComponent("received")
        testCase.addTeardownBlock { [tmux, socketName] in _ = try? spawnAndWait(tmux, ["-L", socketName, "kill-server"]) }
    }

    @discardableResult
    func run(_ arguments: [String]) throws -> String {
        try spawnAndWait(tmux, ["-L", socketName] + arguments).output
    }

    /// Starts the console in a new tmux session; `afterwards`, if given, runs in the same terminal once it exits.
    func start(cols: Int = 80, rows: Int = 24, environment: [String: String] = [:], arguments: [String] = [],
               afterwards: String? = nil) throws {
        // The message history goes to the test's folder, never to the home of whoever runs the tests.
        let settings = ["XDG_STATE_HOME": stateDirectory.path].merging(environment) { $1 }
        let extra = settings.sorted { $0.key < $1.key }.map { "\($0.key)='\($0.value)' " }.joined()
        var command = "env TERM=xterm-256color LANG=C.UTF-8 \(extra)'\(NetconsoleBinary.path)' --port 0 --dir '\(saveDirectory.path)'"
            + arguments.map { " '\($0)'" }.joined()
        if let afterwards { command = "sh -c \"trap '' INT; \(command); \(afterwards)\"" }
        try run(["new-session", "-d", "-x", "\(cols)", "-y", "\(rows)", "-c", pickDirectory.path, command])
    }

    /// Starts the console and waits until both servers listen; returns the echo server's port.
    @discardableResult
    func startAndWaitForServers(cols: Int = 80, rows: Int = 24, environment: [String: String] = [:], arguments: [String] = [],
                                file: StaticString = #filePath, line: UInt = #line) throws -> UInt16 {
        try start(cols: cols, rows: rows, environment: environment, arguments: arguments)
        let first = waitForScreen("both servers listening", file: file, line: line) {
            $0.contains("echo 127.0.0.1:") && $0.contains("files 127.0.0.1:") && !$0.contains("127.0.0.1:0 ")
        }
        return try XCTUnwrap(port(of: "echo", in: first), file: file, line: line)
    }

    func screen() -> String { (try? run(["capture-pane", "-p"])) ?? "" }

    /// The screen with its colours and attributes as escape sequences (capture-pane -e).
    func styledScreen() -> String { (try? run(["capture-pane", "-p", "-e"])) ?? "" }

    func isAlive() -> Bool {
        ((try? spawnAndWait(tmux, ["-L", socketName, "has-session"]))?.status) == 0
    }

    /// Polls the screen until `predicate` holds; fails with the last screen otherwise.
    @discardableResult
    func waitForScreen(_ what: String, timeout: Double = 10, file: StaticString = #filePath, line: UInt = #line,
                       _ predicate: (String) -> Bool) -> String {
        let deadline = Date().addingTimeInterval(timeout)
        var last = ""
        while Date() < deadline {
            last = screen()
            if predicate(last) { return last }
            usleep(50_000)
        }
        XCTFail("screen never showed \(what):\n\(last)", file: file, line: line)
        return last
    }

    /// Gives the console `seconds` to act on what was sent, then returns the screen; fails if it exited.
    @discardableResult
    func settle(_ seconds: Double = 0.4, file: StaticString = #filePath, line: UInt = #line) -> String {
        usleep(UInt32(seconds * 1_000_000))
        XCTAssertTrue(isAlive(), "netconsole exited", file: file, line: line)
        return screen()
    }

    /// Waits for the console to exit (its tmux session then closes); returns whether it did.
    func waitForExit(timeout: Double = 5) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while isAlive() && Date() < deadline { usleep(50_000) }
        return !isAlive()
    }

    func port(of service: String, in text: String) -> UInt16? {
        guard let range = text.range(of: "\(service) 127.0.0.1:") else { return nil }
        return UInt16(text[range.upperBound...].prefix { $0.isNumber })
    }

    /// Key names as tmux knows them ("Enter", "M-q", "C-s"); each call is one write to the terminal.
    func keys(_ keys: String...) throws { try run(["send-keys"] + keys) }

    /// Text typed literally.
    func type(_ text: String) throws { try run(["send-keys", "-l", text]) }

    /// Pastes `text` as a terminal does: bracketed when the program asked for it, line ends sent as CR.
    func paste(_ text: String) throws {
        try run(["set-buffer", "-b", "test-paste", text])
        try run(["paste-buffer", "-p", "-b", "test-paste"])
    }

    /// The line of the screen that contains `marker`, or "".
    func line(containing marker: String, in text: String) -> String {
        text.split(separator: "\n").first { $0.contains(marker) }.map(String.init) ?? ""
    }
}
