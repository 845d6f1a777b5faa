import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// The console in a real terminal: tmux runs `netconsole`, send-keys types, capture-pane reads the screen.
final class ConsoleTUITests: XCTestCase {
    private var console: TmuxConsole!
    private var pickDirectory: URL { console.pickDirectory }
    private var saveDirectory: URL { console.saveDirectory }

    override func setUpWithError() throws {
        console = try TmuxConsole(self)
    }

    private func startConsole(cols: Int = 80, rows: Int = 24, afterwards: String? = nil) throws {
        try console.start(cols: cols, rows: rows, afterwards: afterwards)
    }
    private func tmuxRun(_ arguments: [String]) throws { try console.run(arguments) }
    private func screen() -> String { console.screen() }
    private func sessionAlive() -> Bool { console.isAlive() }
    @discardableResult
    private func waitForScreen(_ what: String, timeout: Double = 10, file: StaticString = #filePath, line: UInt = #line,
                               _ predicate: (String) -> Bool) -> String {
        console.waitForScreen(what, timeout: timeout, file: file, line: line, predicate)
    }
    private func port(of service: String, in text: String) -> UInt16? { console.port(of: service, in: text) }
    private func keys(_ keys: String...) throws { try console.run(["send-keys"] + keys) }
    private func type(_ text: String) throws { try console.type(text) }

    func testServerPaneClientEchoAndFilePickerInARealTerminal() throws {
        let content = "lab task 5: any file\n" + String(repeating: "ünïcödé ", count: 2000)
        try Data(content.utf8).write(to: pickDirectory.appendingPathComponent("notes.txt"))
        try startConsole()
        let first = waitForScreen("both servers listening") { $0.contains("echo 127.0.0.1:") && $0.contains("files 127.0.0.1:") && $0.contains("quit") }
        let echoPort = try XCTUnwrap(port(of: "echo", in: first))

        // Somebody else connects with nc: the connection and its bytes show up live.
        guard let nc = which("nc") else { throw XCTSkip("nc is not installed (Debian: netcat-openbsd)") }
        let outsider = try RunningProcess(executable: nc, ["127.0.0.1", "\(echoPort)"])
        outsider.writeToStdin(Data("hello from nc\n".utf8))
        waitForScreen("nc's connection with 14 bytes each way") { $0.contains("echo  open") && $0.contains("14 B      14 B") }
        XCTAssertEqual(String(decoding: outsider.stdoutData, as: UTF8.self), "hello from nc\n")
        outsider.closeStdin()

        // A message typed in the client pane comes back with its round-trip time (Enter on an empty line sends nothing).
        try keys("Enter")
        try type("ping from the keyboard ✓")
        try keys("Enter")
        waitForScreen("the echoed reply with its RTT") { $0.contains("← ping from the keyboard ✓") && $0.contains(" ms ") }

        // A file picked by filtering is sent, saved in the folder and listed in the server pane.
        try keys("Tab", "Tab")
        try type("notes")
        try keys("Enter")
        let saved = waitForScreen("the saved file and the client's verdict") { $0.contains("✓ notes.txt saved as notes.txt") && $0.contains("1 saved") }
        XCTAssertTrue(saved.contains("notes.txt"), saved)
        XCTAssertEqual(try String(contentsOf: saveDirectory.appendingPathComponent("notes.txt"), encoding: .utf8), content)

        // q quits from the server pane, after asking, since nc is still connected; the process ends (so the tmux
        // session closes).
        try keys("Escape")
        try keys("Escape")
        // Apart from the Esc, or the terminal's Esc-q is Alt-q, which never quits.
        usleep(200_000)
        try keys("q")
        waitForScreen("the question before dropping nc's connection") { $0.contains("Quit netconsole?") }
        try keys("y")
        let deadline = Date().addingTimeInterval(5)
        while sessionAlive() && Date() < deadline { usleep(50_000) }
        XCTAssertFalse(sessionAlive(), "netconsole did not exit on q:\n\(screen())")
    }

    func testResizeRelaysTheScreenAndCtrlCQuitsRestoringTheTerminal() throws {
        let settings = pickDirectory.appendingPathComponent("stty-after-exit")
        let flags = pickDirectory.appendingPathComponent("tmux-flags-after-exit")
        // After exit, the shell records the tty modes and asks tmux which modes the program left on.
        let query = "'\(console.tmux)' -L \(console.socketName) display-message -p '#{mouse_any_flag}#{mouse_sgr_flag}' > '\(flags.path)'"
        try startConsole(cols: 80, rows: 24, afterwards: "stty -a > '\(settings.path)'; \(query)")
        waitForScreen("the console") { $0.contains("quit") }
        XCTAssertEqual(try console.run(["display-message", "-p", "#{mouse_any_flag}#{mouse_sgr_flag}"]), "11\n", "mouse reporting on while running")
        try tmuxRun(["resize-window", "-x", "160", "-y", "45"])
        let resized = waitForScreen("the footer on the last of 45 rows") { text in
            let rows = text.split(separator: "\n", omittingEmptySubsequences: false)
            return rows.count >= 45 && rows[44].contains("quit")
        }
        XCTAssertTrue(resized.contains("SERVER"), resized)
        try keys("C-c")
        let deadline = Date().addingTimeInterval(5)
        while sessionAlive() && Date() < deadline { usleep(50_000) }
        XCTAssertFalse(sessionAlive(), "netconsole did not exit on Ctrl-C")
        // The same terminal, after netconsole exited: back in canonical mode with echo on.
        let modes = try String(contentsOf: settings, encoding: .utf8).split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == ";" }).map(String.init)
        XCTAssertTrue(modes.contains("icanon") && modes.contains("echo"), "terminal left in raw mode: \(modes)")
        XCTAssertTrue(modes.contains("ixon"), "flow control is the shell's again")
        XCTAssertEqual(try String(contentsOf: flags, encoding: .utf8), "00\n", "mouse reporting left on")
    }
}

/// Runs a program and waits for it with waitpid, its stdout captured to a temp file. Unlike Foundation's `Process`
/// (which watches an inherited descriptor on Linux), this does not wait for daemons the program leaves behind, such
/// as the tmux server.
func spawnAndWait(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
    let outputPath = FileManager.default.temporaryDirectory.appendingPathComponent("spawn-\(UUID().uuidString)").path
    defer { unlink(outputPath) }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
    var environment = ProcessInfo.processInfo.environment
    if environment["TERM"] == nil { environment["TERM"] = "xterm-256color" }
    let argv = ([executable] + arguments).map { strdup($0) } + [nil]
    let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer {
        argv.forEach { free($0) }
        envp.forEach { free($0) }
    }
    var pid = pid_t()
    let status = posix_spawn(&pid, executable, &actions, nil, argv, envp)
    guard status == 0 else { throw NSError(domain: "spawn", code: Int(status)) }
    var exit: Int32 = 0
    while waitpid(pid, &exit, 0) < 0 && errno == EINTR {}
    let output = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
    return ((exit & 0x7f) == 0 ? (exit >> 8) & 0xff : 128 + (exit & 0x7f), output)
}
