import Foundation
import NetEngine
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// Sessions in the client pane, in a real terminal, against real peers: nc, Python's HTTP server, the console's
/// own echo server; what arrived is checked on the peer's side.
final class ConsoleSessionTUITests: XCTestCase {
    private var console: TmuxConsole!

    override func setUpWithError() throws {
        console = try TmuxConsole(self)
    }


    /// `nc -l` on a free port; its stdout is what the session sent.
    private func startNetcat() throws -> (RunningProcess, UInt16) {
        guard let nc = which("nc") else { throw XCTSkip("nc is not installed (Debian: netcat-openbsd)") }
        let port = try freePort()
        let listener = try RunningProcess(executable: nc, ["-l", "127.0.0.1", "\(port)"])
        addTeardownBlock { listener.closeStdin(); listener.interrupt(); listener.waitForExit() }
        XCTAssertTrue(waitUntilListening(port: port), "nc -l did not listen")
        return (listener, port)
    }

    /// Types `target` into the target field and connects with Enter.
    private func connect(to target: String) throws {
        try console.keys("BTab", "C-u")
        try console.type(target)
        try console.keys("Enter")
    }

    private func waitForData(_ process: RunningProcess, count: Int, timeout: Double = 10) -> Data {
        let deadline = Date().addingTimeInterval(timeout)
        while process.stdoutData.count < count && Date() < deadline { usleep(20_000) }
        return process.stdoutData
    }

    func testASessionWithNetcatShowsWhatArrivesUnaskedAndHowItEnded() throws {
        let (nc, port) = try startNetcat()
        try console.startAndWaitForServers(cols: 100, rows: 30)
        try connect(to: "127.0.0.1:\(port)")
        console.waitForScreen("the session open") { $0.contains("[1● 127.0.0.1:\(port)]") && $0.contains("#1 open") }
        try console.type("hello nc")
        try console.keys("Enter")
        XCTAssertEqual(String(decoding: waitForData(nc, count: 9), as: UTF8.self), "hello nc\n")
        // nc answers on its own: shown when it arrives, with nothing sent to ask for it.
        nc.writeToStdin(Data("from nc\u{1B}[2J\n".utf8))
        let screen = console.waitForScreen("nc's line, its escape shown") { $0.contains("← from nc\\x1b[2J") }
        XCTAssertTrue(console.line(containing: "← from nc", in: screen).contains("12 B"), screen)
        XCTAssertFalse(console.styledScreen().contains("\u{1B}[2J"), "the peer's escape reached the terminal")
        // F6 half-closes as nc -N does; this nc then closes its side too.
        try console.keys("F6")
        let ended = console.waitForScreen("the close and why") { $0.contains("closed by the peer") }
        XCTAssertTrue(ended.contains("→ FIN"), ended)
        XCTAssertTrue(ended.contains("[1✗ 127.0.0.1:\(port)]"), ended)
        // Enter on a message connects again (nothing listens now) and says why it cannot.
        try console.type("again")
        try console.keys("Enter")
        console.waitForScreen("the refusal") { $0.contains("refused") }
    }

    func testAnHTTPRequestTypedWithCRLFShowsTheResponseHeadersAsTheyArrive() throws {
        guard let python = which("python3") else { throw XCTSkip("python3 is not installed") }
        let folder = try makeTemporaryDirectory(self)
        try Data("hello from http\n".utf8).write(to: folder.appendingPathComponent("index.txt"))
        let server = try RunningProcess(executable: python, ["-m", "http.server", "0", "--bind", "127.0.0.1", "--directory", folder.path])
        addTeardownBlock { server.interrupt(); server.waitForExit() }
        let banner = server.waitForStdout(timeout: 10) { $0.contains("port ") }
        let port = try XCTUnwrap(banner.components(separatedBy: "port ").last?.split(separator: " ").first.flatMap { UInt16($0) })

        try console.startAndWaitForServers(cols: 160, rows: 45)
        try connect(to: "127.0.0.1:\(port)")
        try console.keys("C-t")
        console.waitForScreen("CRLF for this session") { $0.contains("#1 open · CRLF") }
        try console.type("GET /index.txt HTTP/1.0")
        try console.keys("Enter")
        // The empty line that ends the request: Enter on an empty message sends the line end alone.
        try console.keys("Enter")
        let screen = console.waitForScreen("the response") { $0.contains("hello from http") && $0.contains("FIN") }
        let status = console.line(containing: "← HTTP/1.0 200 OK", in: screen)
        XCTAssertNotNil(status.range(of: #"\d\d:\d\d:\d\d ← HTTP/1.0 200 OK"#, options: .regularExpression), "time and direction: \(status)")
        for header in ["Server: SimpleHTTP", "Content-Length: 16", "Content-type: text/plain"] {
            XCTAssertTrue(screen.contains(header), "\(header):\n\(screen)")
        }
        XCTAssertFalse(screen.contains("\\r"), "CR LF line ends are line breaks, not text:\n\(screen)")
    }

    func testTheConsolesOwnEchoServerKeepsOneConnectionAndShowsEachRoundTrip() throws {
        try console.startAndWaitForServers()
        for message in ["first", "second"] {
            try console.type(message)
            try console.keys("Enter")
            console.waitForScreen("the echo of \(message) with its RTT") { screen in
                let row = self.console.line(containing: "← \(message)", in: screen)
                return row.range(of: #"\d+(\.\d+)? ms"#, options: .regularExpression) != nil
            }
        }
        let screen = console.screen()
        XCTAssertTrue(screen.contains("1 open · 1 accepted"), "one connection for both messages:\n\(screen)")
        XCTAssertFalse(screen.contains("waiting…"), screen)
        // The console's own session is not a connection a quit would lose: Ctrl-C quits without asking.
        try console.keys("C-c")
        XCTAssertTrue(console.waitForExit(), "Ctrl-C asked first:\n\(console.screen())")
    }

    func testHexInputSendsEveryByteValue() throws {
        let (nc, port) = try startNetcat()
        try console.startAndWaitForServers(cols: 100, rows: 30)
        try connect(to: "127.0.0.1:\(port)")
        try console.keys("C-o")
        console.waitForScreen("hex input") { $0.contains("· hex") }
        try console.type((0...255).map { String(format: "%02x", $0) }.joined(separator: " "))
        try console.keys("Enter")
        XCTAssertEqual(waitForData(nc, count: 256), Data((0...255).map { UInt8($0) }), "nc got every byte, and no line end")
        let screen = console.waitForScreen("the bytes sent, escaped") { $0.contains("→ 127.0.0.1:\(port)  \\x00\\x01") }
        XCTAssertFalse(screen.contains("waiting…") && screen.contains("· hex ·"), screen)
    }

    func testAUDPSessionShowsEachRoundTripAndCountsTheLostOnes() throws {
        guard let python = which("python3") else { throw XCTSkip("python3 is not installed") }
        // A UDP echo that drops every second datagram.
        let script = """
        import socket
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(('127.0.0.1', 0))
        print(s.getsockname()[1], flush=True)
        n = 0
        while True:
            data, peer = s.recvfrom(65536)
            n += 1
            if n % 2 == 0:
                continue
            s.sendto(data, peer)
        """
        let server = try RunningProcess(executable: python, ["-c", script])
        addTeardownBlock { server.interrupt(); server.waitForExit() }
        let port = try XCTUnwrap(UInt16(server.waitForStdout { $0.hasSuffix("\n") }.trimmingCharacters(in: .whitespacesAndNewlines)))

        try console.startAndWaitForServers(cols: 160, rows: 40, arguments: ["--echo-timeout", "1"])
        try connect(to: "udp://127.0.0.1:\(port)")
        console.waitForScreen("the UDP session") { $0.contains("[1● udp://127.0.0.1:\(port)]") }
        for message in ["one", "two", "three"] {
            try console.type(message)
            try console.keys("Enter")
            usleep(100_000)
        }
        let screen = console.waitForScreen("two echoes and one loss", timeout: 6) { $0.contains("3 sent · 2 echoed · 1 lost") }
        for echoed in ["one", "three"] {
            let row = console.line(containing: "← \(echoed)", in: screen)
            XCTAssertNotNil(row.range(of: #"\d+(\.\d+)? ms"#, options: .regularExpression), "the RTT of \(echoed): \(screen)")
        }
        XCTAssertFalse(screen.contains("← two"), screen)
        XCTAssertTrue(screen.contains("lost: no echo of 4 B within 1 s"), screen)
        XCTAssertFalse(screen.contains("waiting…"), screen)
    }

    func testConnectOnTheCommandLineOpensASessionAtStart() throws {
        let (nc, port) = try startNetcat()
        try console.startAndWaitForServers(arguments: ["--connect", "127.0.0.1:\(port)"])
        console.waitForScreen("the session open at start") { $0.contains("[1● 127.0.0.1:\(port)]") }
        // The message field has the keys: typing goes to the session.
        try console.type("typed at once")
        try console.keys("Enter")
        XCTAssertEqual(String(decoding: waitForData(nc, count: 14), as: UTF8.self), "typed at once\n")
        let refused = try runToCompletion(["console", "--connect", "nowhere"])
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.stderr.contains("nowhere"), refused.stderr)
    }

    /// The column of `marker` in a captured row, counting the wide clusters this test puts there as 2.
    private func column(of marker: Character, in row: String) -> Int? {
        let wide: Set<Character> = ["👨‍👩‍👧", "🇺🇦"]
        var column = 0
        for character in row {
            if character == marker { return column }
            column += wide.contains(character) ? 2 : 1
        }
        return nil
    }

    func testAPeersHostileBytesAreShownEscapedAndKeepTheColumns() throws {
        let (nc, port) = try startNetcat()
        try console.startAndWaitForServers()
        try connect(to: "127.0.0.1:\(port)")
        console.waitForScreen("the session open") { $0.contains("#1 open") }
        // A combining mark with nothing before it, a ZWJ family, a flag, bytes that are not UTF-8, a clear-screen and
        // a title escape, a C1 control and a right-to-left override.
        var bytes = Data("\u{301}x e\u{301} 👨‍👩‍👧 🇺🇦 ".utf8)
        bytes += Data([0xFF, 0xC3, 0x20, 0x1B]) + Data("[2J".utf8) + Data([0x1B]) + Data("]0;pwned".utf8) + Data([0x07, 0xC2, 0x9B])
        bytes += Data("\u{202E}end\n".utf8)
        nc.writeToStdin(bytes)
        let screen = console.waitForScreen("the peer's line") { $0.contains("end") && $0.contains("\\xff") }
        let row = console.line(containing: "\\xff", in: screen)
        // The mark with nothing to sit on is shown as an escape; the one on "e" stays a mark.
        for shown in ["← \\u{301}x e\u{301} 👨‍👩‍👧 🇺🇦 \\xff\\xc3"] {
            XCTAssertTrue(row.contains(shown), "\(shown) in: \(row)")
        }
        XCTAssertTrue(screen.contains("SERVER"), "the screen was cleared:\n\(screen)")
        let separator = try XCTUnwrap(column(of: "┬", in: console.line(containing: "─ Replies", in: screen)))
        XCTAssertEqual(column(of: "│", in: row), separator, "the │ moved in: \(row)")
        // The rest of the line, cut in the pane, is all there when shown whole (Enter in Replies).
        try console.keys("Tab", "Tab", "Tab", "Enter")
        let whole = console.waitForScreen("the line whole") { $0.contains("pwned") }
        XCTAssertTrue(whole.contains("\\x1b[2J\\x1b]0;pwned\\x07\\u{9b}\\u{202e}end"), whole)
    }
}
