import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// Keys that never do damage, tried in a real terminal as a new user would: typing at launch, Alt keys,
/// Ctrl-S/Ctrl-Q/Ctrl-L, pasting, and actions that would drop connections.
final class ConsoleKeysTUITests: XCTestCase {
    private var console: TmuxConsole!

    override func setUpWithError() throws {
        console = try TmuxConsole(self)
    }

    private func messageLine(_ screen: String) -> String { console.line(containing: " Message:", in: screen) }

    private func assertServersUntouched(_ screen: String, file: StaticString = #filePath, line: UInt = #line) {
        let title = screen.split(separator: "\n").first.map(String.init) ?? ""
        XCTAssertTrue(title.contains("mode: echo + files"), "the mode changed: \(title)", file: file, line: line)
        XCTAssertEqual(title.components(separatedBy: " on").count - 1, 2, "a server stopped: \(title)", file: file, line: line)
    }

    func testTypingRightAfterLaunchTypesTheMessageAndNeverRunsCommands() throws {
        try console.startAndWaitForServers()
        try console.type("quick question")
        console.waitForScreen("the text in the message field") { self.messageLine($0).contains("Message: quick question") }
        try console.keys("Enter")
        console.waitForScreen("the echoed reply") { $0.contains("← quick question") && $0.contains(" ms ") }
        try console.type("test message")
        let screen = console.waitForScreen("the second message typed") { self.messageLine($0).contains("test message") }
        XCTAssertTrue(console.isAlive())
        assertServersUntouched(screen)
    }

    func testAltKeysInAFieldEditWordsAndNeverQuitStopOrSwitchMode() throws {
        try console.startAndWaitForServers()
        try console.type("hello world")
        console.waitForScreen("the typed text") { self.messageLine($0).contains("hello world") }
        for key in ["M-q", "M-s", "M-m", "M-Q"] { try console.keys(key) }
        var screen = console.settle()
        assertServersUntouched(screen)
        XCTAssertTrue(messageLine(screen).contains("Message: hello world"), screen)
        XCTAssertTrue(screen.contains("Enter send"), "focus left the message field:\n\(screen)")

        // Alt-B goes back a word, Alt-D cuts the word ahead, Alt-Backspace the word behind, Ctrl-Y puts it back.
        try console.keys("M-b")
        try console.type("big ")
        console.waitForScreen("a word inserted before the last one") { self.messageLine($0).contains("hello big world") }
        try console.keys("M-d")
        console.waitForScreen("the word ahead cut") { self.messageLine($0).hasSuffix("hello big") || self.messageLine($0).contains("hello big ") && !self.messageLine($0).contains("world") }
        try console.keys("M-BSpace")
        screen = console.waitForScreen("the word behind cut") { !self.messageLine($0).contains("big") && self.messageLine($0).contains("hello") }
        try console.keys("M-f")
        try console.keys("C-y")
        console.waitForScreen("the cut word put back") { self.messageLine($0).contains("hello big") }
        assertServersUntouched(console.settle())
    }

    func testCtrlSDoesNotFreezeTheScreenCtrlLRepaintsAndCtrlQQuits() throws {
        try console.startAndWaitForServers()
        try console.type("before")
        try console.keys("C-s")
        try console.type(" after")
        console.waitForScreen("typing after Ctrl-S") { self.messageLine($0).contains("before after") }

        // Something else writes over the screen; Ctrl-L draws it all again.
        let tty = try console.run(["display-message", "-p", "#{pane_tty}"]).trimmingCharacters(in: .whitespacesAndNewlines)
        let scribble = "\u{1B}[12;5HSCRIBBLED-OVER-THE-SCREEN"
        let handle = try XCTUnwrap(FileHandle(forWritingAtPath: tty))
        handle.write(Data(scribble.utf8))
        try handle.close()
        console.waitForScreen("the scribble") { $0.contains("SCRIBBLED") }
        try console.keys("C-l")
        console.waitForScreen("the screen repainted") { !$0.contains("SCRIBBLED") && $0.contains("SERVER") }

        try console.keys("C-q")
        XCTAssertTrue(console.waitForExit(), "Ctrl-Q did not quit:\n\(console.screen())")
    }

    func testAPasteIsTextNeverEnterTabOrCommands() throws {
        try console.startAndWaitForServers()
        try console.paste("first line\tx\nnotes.txt\n")
        var screen = console.waitForScreen("the paste in the message field, line breaks as ⏎") {
            self.messageLine($0).contains("first line⇥x⏎notes.txt⏎")
        }
        XCTAssertFalse(screen.contains("→ 127.0.0.1"), "a pasted line break sent the message:\n\(screen)")
        XCTAssertTrue(screen.contains("Enter send"), "a pasted Tab moved the focus:\n\(screen)")
        try console.keys("Enter")
        screen = console.waitForScreen("one reply for the whole paste") { $0.contains("← first line\\tx⏎notes.txt⏎") }
        XCTAssertEqual(screen.components(separatedBy: "→ 127.0.0.1").count - 1, 1, "one message sent:\n\(screen)")

        // In the server pane a paste is not a row of commands (q, s, m): it goes to the message field.
        try console.keys("Escape")
        usleep(200_000)
        try console.paste("qsm")
        screen = console.waitForScreen("the paste in the message field") { self.messageLine($0).contains("Message: qsm") }
        assertServersUntouched(screen)
    }

    func testActionsThatWouldDropConnectionsAskFirst() throws {
        let echoPort = try console.startAndWaitForServers()
        let nc = try XCTUnwrap(which("nc"), "nc is needed")
        let outsider = try RunningProcess(executable: nc, ["127.0.0.1", "\(echoPort)"])
        console.waitForScreen("the nc connection") { $0.contains("1 open") }
        try console.keys("Escape")
        usleep(200_000)

        try console.keys("q")
        var screen = console.waitForScreen("a question before quitting") { $0.contains("Quit netconsole?") && $0.contains("1 open connection will be closed") }
        try console.keys("n")
        screen = console.waitForScreen("the question gone") { !$0.contains("Quit netconsole?") }
        try console.keys("C-c")
        console.waitForScreen("the same question for Ctrl-C") { $0.contains("Quit netconsole?") }
        try console.keys("Escape")
        console.waitForScreen("the question gone") { !$0.contains("Quit netconsole?") }
        try console.keys("F10")
        console.waitForScreen("the same question for F10") { $0.contains("Quit netconsole?") }
        try console.keys("n")

        try console.keys("s")
        screen = console.waitForScreen("a question before stopping") { $0.contains("Stop listening?") }
        try console.keys("n")
        screen = console.waitForScreen("the question gone") { !$0.contains("Stop listening?") }
        assertServersUntouched(screen)
        outsider.writeToStdin(Data("still here\n".utf8))
        outsider.waitForStdout { $0.contains("still here") }

        try console.keys("s")
        console.waitForScreen("the question again") { $0.contains("Stop listening?") }
        try console.keys("y")
        console.waitForScreen("both servers off and nc's connection closed") {
            $0.components(separatedBy: " off").count - 1 >= 2 && $0.contains("echo  closed")
        }

        // Nothing left to lose: q quits at once.
        try console.keys("q")
        XCTAssertTrue(console.waitForExit(), "q did not quit:\n\(console.screen())")
    }

    func testTheMessageFieldEditsLikeReadline() throws {
        try console.startAndWaitForServers()
        func expect(_ text: String, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
            let wanted = ("Message: " + text).trimmingCharacters(in: .whitespaces)
            console.waitForScreen(what, file: file, line: line) { self.messageLine($0).trimmingCharacters(in: .whitespaces).hasSuffix(wanted) }
        }
        try console.type("alpha beta gamma")
        try console.keys("C-Left", "C-Left")
        try console.type("X")
        expect("alpha Xbeta gamma", "Ctrl-← twice, then typing")
        try console.keys("C-Right")
        try console.type("Y")
        expect("alpha XbetaY gamma", "Ctrl-→ to the end of the word")
        try console.keys("End")
        try console.keys("C-w")
        expect("alpha XbetaY", "Ctrl-W cut the last word")
        try console.keys("Home")
        try console.type(">")
        expect(">alpha XbetaY", "Home")
        try console.keys("C-k")
        expect(">", "Ctrl-K cut the rest")
        try console.keys("C-y")
        expect(">alpha XbetaY", "Ctrl-Y put it back")
        try console.keys("C-u")
        expect("", "Ctrl-U cut the line")
    }

    func testCtrlZSuspendsToTheShellAndFgResumes() throws {
        let bash = try XCTUnwrap(which("bash"), "bash is needed for job control")
        try console.run(["new-session", "-d", "-x", "80", "-y", "24", "-c", console.pickDirectory.path,
                         "env TERM=xterm-256color LANG=C.UTF-8 PS1='shell$ ' \(bash) --norc --noprofile -i"])
        console.waitForScreen("the shell") { $0.contains("shell$") }
        try console.type("'\(NetconsoleBinary.path)' --port 0 --dir '\(console.saveDirectory.path)'")
        try console.keys("Enter")
        console.waitForScreen("the console") { $0.contains("SERVER") && $0.contains("quit") }
        try console.type("draft")
        try console.keys("C-z")
        console.waitForScreen("the shell with the console stopped") { $0.contains("Stopped") && !$0.contains("SERVER") }
        try console.type("fg")
        try console.keys("Enter")
        console.waitForScreen("the console again, the draft kept") { $0.contains("SERVER") && self.messageLine($0).contains("Message: draft") }
        try console.keys("C-c")
        console.waitForScreen("the shell after quitting") { $0.contains("shell$") && !$0.contains("SERVER") }
    }
}

extension ConsoleKeysTUITests {
    func testMessageHistoryIsKeptAcrossRuns() throws {
        try console.startAndWaitForServers()
        try console.type("remember me")
        try console.keys("Enter")
        console.waitForScreen("the reply") { $0.contains("← remember me") }
        try console.keys("C-c")
        XCTAssertTrue(console.waitForExit(), "Ctrl-C did not quit")
        let file = console.stateDirectory.appendingPathComponent("netconsole/history")
        XCTAssertEqual(try String(contentsOf: file, encoding: .utf8), "remember me\n")

        try console.startAndWaitForServers()
        try console.keys("Up")
        console.waitForScreen("the message from the last run") { self.messageLine($0).contains("Message: remember me") }
    }
}
