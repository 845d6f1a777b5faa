import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// What a modern terminal program is expected to do, in a real terminal: hints, waiting marks, refusing a dumb
/// terminal, searching the history, remembering targets, staying legible without colour.
final class ConsoleClientTUITests: XCTestCase {
    private var console: TmuxConsole!

    override func setUpWithError() throws {
        console = try TmuxConsole(self)
    }

    /// A port that accepts connections (the kernel's backlog) and never answers.
    private func silentListener() throws -> UInt16 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        XCTAssertGreaterThanOrEqual(fd, 0)
        addTeardownBlock { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        try withUnsafeMutablePointer(to: &address) { pointer in
            try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                XCTAssertEqual(bind(fd, $0, length), 0)
                XCTAssertEqual(listen(fd, 8), 0)
                XCTAssertEqual(getsockname(fd, $0, &length), 0)
                if fd < 0 { throw XCTSkip("no socket") }
            }
        }
        return UInt16(bigEndian: address.sin_port)
    }

    func testEnterOnAnEmptyMessageGivesAHint() throws {
        try console.startAndWaitForServers()
        try console.keys("Enter")
        console.waitForScreen("the hint") { console.line(containing: "Message:", in: $0).contains("nothing to send: type a message") }
        try console.type("h")
        console.waitForScreen("the hint gone at the next key") { console.line(containing: "Message:", in: $0).hasSuffix("Message: h") }
    }

    func testAnEchoWithoutAnswerWaitsVisiblyUntilTheTimeoutGiven() throws {
        let port = try silentListener()
        // Wide enough for the whole failure.
        try console.startAndWaitForServers(cols: 160, rows: 45, arguments: ["--echo-timeout", "2"])
        try console.keys("BTab", "C-u")
        try console.type("127.0.0.1:\(port)")
        try console.keys("Enter")
        try console.type("anyone there?")
        try console.keys("Enter")
        let waiting = console.waitForScreen("the waiting marker") { $0.contains("anyone there?") && $0.contains("waiting…") }
        XCTAssertTrue(console.line(containing: "anyone there?", in: waiting).contains("waiting…"), waiting)
        let failed = console.waitForScreen("the timeout after 2 seconds", timeout: 6) { $0.contains("no complete echo") }
        XCTAssertTrue(failed.contains("within 2 s"), failed)
        XCTAssertFalse(failed.contains("waiting…"), "the marker stays after the failure:\n\(failed)")
    }

    func testAnEchoTimeoutIsValidatedLikeTheOtherDurations() throws {
        let result = try runToCompletion(["console", "--echo-timeout", "inf"])
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.stderr.contains("'inf' is not a duration"), result.stderr)
    }

    func testADumbTerminalIsRefusedWithOneLineBeforeTheScreenChanges() throws {
        let status = console.pickDirectory.appendingPathComponent("status")
        try console.start(environment: ["TERM": "dumb"], afterwards: "echo \\$? > '\(status.path)'; sleep 30")
        console.waitForScreen("the refusal") { $0.contains("TERM=dumb") }
        // Joined as the terminal wrapped it.
        let screen = try console.run(["capture-pane", "-p", "-J"])
        let lines = screen.split(separator: "\n").filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
        XCTAssertEqual(lines.count, 1, "one line:\n\(screen)")
        XCTAssertTrue(lines.first?.contains("needs a terminal that can move the cursor") ?? false, screen)
        XCTAssertFalse(screen.contains("SERVER"))
        let deadline = Date().addingTimeInterval(5)
        while (try? String(contentsOf: status, encoding: .utf8)) == nil && Date() < deadline { usleep(50_000) }
        XCTAssertEqual(try String(contentsOf: status, encoding: .utf8), "1\n")
        XCTAssertFalse(FileManager.default.fileExists(atPath: console.saveDirectory.path), "the upload folder was made")
    }

    func testCtrlRSearchesTheMessageHistory() throws {
        try console.startAndWaitForServers()
        for message in ["alpha one", "beta two", "alpha three"] {
            try console.type(message)
            try console.keys("Enter")
            console.waitForScreen("the reply to \(message)") { $0.contains("← \(message)") }
        }
        try console.keys("C-r")
        try console.type("alpha")
        console.waitForScreen("the newest match") { console.line(containing: "Search:", in: $0).contains("→ alpha three") }
        try console.keys("C-r")
        console.waitForScreen("the older match") { console.line(containing: "Search:", in: $0).contains("→ alpha one") }
        try console.keys("Enter")
        console.waitForScreen("the match in the field, not sent") { console.line(containing: "Message:", in: $0).hasSuffix("Message: alpha one") }
        try console.keys("Enter")
        console.waitForScreen("sent with the second Enter") { screen in
            guard let three = screen.range(of: "← alpha three"), let one = screen.range(of: "← alpha one", options: .backwards) else { return false }
            return three.upperBound < one.lowerBound
        }
    }

    func testRecentTargetsAreKeptAcrossRunsPrivately() throws {
        try Data("note\n".utf8).write(to: console.pickDirectory.appendingPathComponent("note.txt"))
        let first = try console.startAndWaitForServers()
        let filesPort = try XCTUnwrap(console.port(of: "files", in: console.screen()))
        try console.keys("BTab", "C-u")
        try console.type("localhost:\(first)")
        try console.keys("Enter")
        try console.type("via localhost")
        try console.keys("Enter")
        console.waitForScreen("the reply") { $0.contains("← via localhost") }
        try console.keys("Tab", "C-u")
        try console.type("localhost:\(filesPort)")
        try console.keys("Enter")
        try console.type("note")
        try console.keys("Enter")
        console.waitForScreen("the file saved") { $0.contains("✓ note.txt saved") }
        try console.keys("C-c")
        XCTAssertTrue(console.waitForExit(), "Ctrl-C did not quit")
        let folder = console.stateDirectory.appendingPathComponent("netconsole")
        XCTAssertEqual(try String(contentsOf: folder.appendingPathComponent("echo-targets"), encoding: .utf8), "localhost:\(first)\n")
        XCTAssertEqual(try String(contentsOf: folder.appendingPathComponent("files-targets"), encoding: .utf8), "localhost:\(filesPort)\n")
        for name in ["echo-targets", "files-targets"] {
            var info = stat()
            XCTAssertEqual(stat(folder.appendingPathComponent(name).path, &info), 0)
            XCTAssertEqual(info.st_mode & 0o777, 0o600, name)
        }

        try console.startAndWaitForServers()
        try console.keys("BTab", "Up")
        console.waitForScreen("the echo target from the last run") { console.line(containing: "Connect to:", in: $0).contains("Connect to: localhost:\(first)") }
        try console.keys("Tab", "Tab", "Up")
        console.waitForScreen("the files target from the last run") { console.line(containing: "Files to:", in: $0).contains("Files to: localhost:\(filesPort)") }
    }

    /// The text of a captured row (capture-pane -e) split into what is drawn reversed and what is not, and whether
    /// any colour was set.
    private func attributes(of row: String) -> (reversed: String, plain: String, coloured: Bool) {
        var reversed = "", plain = "", coloured = false, reverse = false
        var rest = Substring(row)
        while let escape = rest.firstIndex(of: "\u{1B}") {
            let text = rest[..<escape]
            if reverse { reversed += text } else { plain += text }
            guard let end = rest[escape...].firstIndex(of: "m") else { break }
            let parameters = rest[rest.index(escape, offsetBy: 2)..<end].split(separator: ";", omittingEmptySubsequences: false).map { Int($0) ?? 0 }
            for parameter in parameters {
                if parameter == 0 || parameter == 27 { reverse = false }
                if parameter == 7 { reverse = true }
                if (30...37).contains(parameter) || (40...47).contains(parameter) || (90...107).contains(parameter) || parameter == 38 || parameter == 48 {
                    coloured = true
                }
            }
            rest = rest[rest.index(after: end)...]
        }
        if reverse { reversed += rest } else { plain += rest }
        return (reversed, plain, coloured)
    }

    func testWithoutColourTheFooterIsOneBarAndTheFocusedListStandsOut() throws {
        for environment in [["TERM": "xterm-mono"], ["NO_COLOR": "1"]] {
            console = try TmuxConsole(self)
            try console.startAndWaitForServers(environment: environment)
            try console.keys("Tab", "Tab")
            console.waitForScreen("the picker focused") { $0.contains("open/send") }
            let rows = console.styledScreen().split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            XCTAssertFalse(rows.contains { attributes(of: $0).coloured }, "a colour with \(environment)")
            let footer = attributes(of: try XCTUnwrap(rows.last { $0.contains("quit") }))
            XCTAssertEqual(footer.plain.trimmingCharacters(in: .whitespaces), "", "the footer has holes with \(environment): \(footer)")
            XCTAssertTrue(footer.reversed.contains("F1 help"), "\(footer)")
            let titles = attributes(of: try XCTUnwrap(rows.first { $0.contains("Replies") && $0.contains("Files") }))
            XCTAssertTrue(titles.reversed.contains("─ Files"), "the focused picker's title reversed with \(environment): \(titles)")
            XCTAssertFalse(titles.reversed.contains("Replies"), "\(titles)")
            try console.run(["kill-server"])
        }
    }
}
