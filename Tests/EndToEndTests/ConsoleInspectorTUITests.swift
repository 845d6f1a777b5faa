import Foundation
import NetEngine
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// The inspector and `--ask` in a real terminal, against real peers (python3 clients, `netconsole send`).
final class ConsoleInspectorTUITests: XCTestCase {
    private var console: TmuxConsole!

    override func setUpWithError() throws {
        console = try TmuxConsole(self)
    }

    /// A client of the console's echo server: sends `payload`, reads the echo, prints "ready", then prints each line
    /// the server sends, or ECONNRESET when the connection is reset, or EOF.
    static let client = """
    import socket, sys
    s = socket.create_connection(('127.0.0.1', int(sys.argv[1])))
    payload = bytes.fromhex(sys.argv[2])
    s.sendall(payload)
    got = b''
    while len(got) < len(payload):
        got += s.recv(65536)
    print('ready', flush=True)
    while True:
        try:
            data = s.recv(65536)
        except ConnectionResetError:
            print('ECONNRESET', flush=True)
            break
        if not data:
            print('EOF', flush=True)
            break
        print('got %r' % data, flush=True)
    """

    private func startClient(port: UInt16, payload: [UInt8]) throws -> RunningProcess {
        let python = try XCTUnwrap(which("python3"), "python3 is needed")
        let hex = payload.map { String(format: "%02x", $0) }.joined()
        let client = try RunningProcess(executable: python, ["-c", Self.client, "\(port)", hex])
        addTeardownBlock { client.process.terminate() }
        client.waitForStdout { $0.contains("ready") }
        return client
    }

    /// Goes to the connection list and opens the inspector on its first connection.
    @discardableResult
    private func inspectFirstConnection() throws -> String {
        console.waitForScreen("the connection listed") { $0.contains("echo  open") }
        try console.keys("Escape")
        // Esc and a key at once would be Alt-key: wait until the list has focus and offers to inspect.
        console.waitForScreen("the list focused") { console.line(containing: "quit", in: $0).contains("inspect") }
        try console.keys("i")
        return console.waitForScreen("the inspector") { $0.contains("Inspector · #") }
    }

    func testTheInspectorShowsAKnownPayloadInHexAndTheKernelsRoundTrip() throws {
        let port = try console.startAndWaitForServers()
        _ = try startClient(port: port, payload: Array("inspect me".utf8) + [0x01, 0x1B])
        try inspectFirstConnection()
        let screen = console.waitForScreen("the payload in hex and a measured RTT") {
            $0.contains("00000000  69 6e 73 70 65 63 74 20  6d 65 01 1b") && $0.contains("|inspect me..|")
                && $0.range(of: #"TCP ESTABLISHED · rtt [0-9.]+ ms ± [0-9.]+ ms · cwnd \d+"#, options: .regularExpression) != nil
        }
        XCTAssertTrue(screen.contains("◀ in  @0 · 12 bytes"), screen)
        XCTAssertTrue(screen.contains("▶ out @0 · 12 bytes"), "the echo's reply too:\n\(screen)")
        try console.keys("x")
        console.waitForScreen("the text view, escapes escaped") { $0.contains("inspect me\\x01\\x1b") }
        try console.keys("Escape")
        console.waitForScreen("back to the list") { !$0.contains("Inspector · #") && $0.contains("echo  open") }
    }

    func testAResetFromTheInspectorReachesThePeerAsConnectionReset() throws {
        let port = try console.startAndWaitForServers()
        let client = try startClient(port: port, payload: Array("hello\n".utf8))
        try inspectFirstConnection()
        try console.keys("s")
        try console.type("from the server")
        try console.keys("Enter")
        client.waitForStdout { $0.contains("got b'from the server\\n'") }
        console.waitForScreen("the status") { $0.contains("sent 16 bytes to the peer") }
        try console.keys("r")
        console.waitForScreen("the question") { $0.contains("Reset connection #") }
        try console.keys("y")
        let output = client.waitForStdout { $0.contains("ECONNRESET") || $0.contains("EOF") }
        XCTAssertTrue(output.contains("ECONNRESET"), output)
        console.waitForScreen("the inspector says it is closed") { $0.contains("reset: the peer got an RST") || $0.contains("· closed") }
    }

    func testWSavesATranscriptThatNeverOverwrites() throws {
        let port = try console.startAndWaitForServers()
        _ = try startClient(port: port, payload: Array("transcript line\n".utf8))
        try inspectFirstConnection()
        console.waitForScreen("the payload") { $0.contains("|transcript line.|") }
        let path = console.pickDirectory.appendingPathComponent("saved.transcript").path
        for attempt in 0..<2 {
            try console.keys("w")
            console.waitForScreen("the name prompt") { $0.contains("Save transcript as:") }
            try console.keys("C-u")
            try console.type(path)
            try console.keys("Enter")
            if attempt == 0 {
                console.waitForScreen("saved") { $0.contains(" saved ") && $0.contains(" bytes to /") }
            } else {
                console.waitForScreen("refused") { $0.contains("not saved, exists already, not overwritten") }
            }
        }
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        XCTAssertEqual(lines.first, "# netconsole transcript 1")
        XCTAssertTrue(lines.contains { $0.hasPrefix("# connection ") && $0.hasSuffix(" echo") }, text)
        XCTAssertTrue(lines.contains { $0.range(of: #"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z in  offset 0 length 16$"#, options: .regularExpression) != nil }, text)
        XCTAssertTrue(lines.contains { $0.range(of: #"Z out offset 0 length 16$"#, options: .regularExpression) != nil }, text)
        XCTAssertTrue(lines.contains("  00000000  74 72 61 6e 73 63 72 69  70 74 20 6c 69 6e 65 0a  |transcript line.|"), text)
        var info = stat()
        XCTAssertEqual(stat(path, &info), 0)
        XCTAssertEqual(info.st_mode & 0o777, 0o600, "readable by its owner only")
    }

    func testF8InspectsTheSelectedSessionsConnection() throws {
        guard let nc = which("nc") else { throw XCTSkip("nc is not installed (Debian: netcat-openbsd)") }
        let probe = try Socket.listening(on: SocketAddress.resolve(host: "127.0.0.1", port: 0)[0])
        let port = try XCTUnwrap(probe.localAddress?.port)
        probe.close()
        let listener = try RunningProcess(executable: nc, ["-l", "127.0.0.1", "\(port)"])
        addTeardownBlock { listener.closeStdin(); listener.interrupt(); listener.waitForExit() }
        usleep(300_000)
        try console.startAndWaitForServers(cols: 100, rows: 30)
        try console.keys("F8")
        console.waitForScreen("a hint: no session yet") { $0.contains("no session yet") }
        try console.keys("BTab", "C-u")
        try console.type("127.0.0.1:\(port)")
        try console.keys("Enter")
        console.waitForScreen("the session open") { $0.contains("#1 open") }
        try console.type("ping")
        try console.keys("Enter")
        listener.writeToStdin(Data("pong\n".utf8))
        console.waitForScreen("the answer") { $0.contains("← pong") }
        try console.keys("F8")
        let screen = console.waitForScreen("the session's connection inspected") {
            $0.contains("Inspector · session 1 · 127.0.0.1:\(port)")
                && $0.contains("70 69 6e 67 0a") && $0.contains("70 6f 6e 67 0a")
                && $0.range(of: #"TCP ESTABLISHED · rtt [0-9.]+ ms"#, options: .regularExpression) != nil
        }
        XCTAssertTrue(screen.contains("▶ out @0 · 5 bytes") && screen.contains("◀ in  @0 · 5 bytes"), screen)
        try console.keys("Escape")
        console.waitForScreen("back in the client pane") { !$0.contains("Inspector · ") && $0.contains("#1 open") }
    }

    // MARK: --ask

    private func sendFile(_ name: String, contents: String, filesPort: UInt16) throws -> RunningProcess {
        let file = console.pickDirectory.appendingPathComponent(name)
        try contents.write(to: file, atomically: true, encoding: .utf8)
        let sender = try RunningProcess(["send", file.path, "--to", "127.0.0.1:\(filesPort)"])
        addTeardownBlock { sender.process.terminate() }
        return sender
    }

    private func startAsking(timeout: String = "60") throws -> UInt16 {
        try console.startAndWaitForServers(arguments: ["--ask", "--ask-timeout", timeout])
        return try XCTUnwrap(console.port(of: "files", in: console.screen()))
    }

    func testAskYesSavesTheUploadAndNoRefusesIt() throws {
        let filesPort = try startAsking()
        let yes = try sendFile("wanted.txt", contents: "keep me\n", filesPort: filesPort)
        var screen = console.waitForScreen("the question") { $0.contains("Accept this upload?") && $0.contains("wanted.txt") }
        XCTAssertTrue(screen.contains("8 B (8 bytes) from 127.0.0.1:"), screen)
        usleep(2_500_000)  // longer than send's wait for a first answer: the WAIT line keeps it waiting
        XCTAssertNil(yes.process.isRunning ? nil : yes.process.terminationStatus, "send still waits:\n\(yes.stderr)")
        // The folder is made by the first upload that stores a byte, so before the answer it may not exist at all.
        let stored = (try? FileManager.default.contentsOfDirectory(atPath: console.saveDirectory.path)) ?? []
        XCTAssertEqual(stored.filter { !$0.hasPrefix(".") }, [], "nothing stored before the answer")
        try console.keys("y")
        XCTAssertEqual(yes.waitForExit(timeout: 10), 0, yes.stderr)
        XCTAssertEqual(try String(contentsOf: console.saveDirectory.appendingPathComponent("wanted.txt"), encoding: .utf8), "keep me\n")

        let no = try sendFile("unwanted.txt", contents: "drop me\n", filesPort: filesPort)
        screen = console.waitForScreen("the second question") { $0.contains("Accept this upload?") && $0.contains("unwanted.txt") }
        try console.keys("n")
        XCTAssertNotEqual(no.waitForExit(timeout: 10), 0)
        XCTAssertTrue(no.stderr.contains("403 unwanted.txt refused by the server's operator"), no.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: console.saveDirectory.appendingPathComponent("unwanted.txt").path))
    }

    func testAskUnansweredRefusesTheUploadAfterTheTimeout() throws {
        let filesPort = try startAsking(timeout: "2")
        let sender = try sendFile("ignored.txt", contents: "x", filesPort: filesPort)
        console.waitForScreen("the question with its countdown") { $0.contains("Accept this upload?") && $0.contains("refused by itself in") }
        XCTAssertNotEqual(sender.waitForExit(timeout: 10), 0)
        XCTAssertTrue(sender.stderr.contains("403 ignored.txt not accepted: no answer within 2 s"), sender.stderr)
        console.waitForScreen("the popup gone") { !$0.contains("Accept this upload?") }
    }
}
