import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// Sending files and watching connections, in a real terminal: progress, rates, cancelling, the picker.
final class ConsoleTransferTUITests: XCTestCase {
    private var console: TmuxConsole!

    override func setUpWithError() throws {
        console = try TmuxConsole(self)
    }

    /// A file server that says READY, takes a little of the payload slowly and then stops reading, so a transfer
    /// stays in flight for as long as the test needs.
    static let stallingFileServer = """
    import socket, sys, time
    server_socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server_socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server_socket.bind(('127.0.0.1', 0))
    server_socket.listen(1)
    print('listening on %s:%d' % server_socket.getsockname(), flush=True)
    conn, addr = server_socket.accept()
    conn.recv(8192)
    conn.sendall(b'READY\\n')
    for _ in range(30):
        conn.recv(65536)
        time.sleep(0.05)
    time.sleep(120)
    """

    private func startStallingServer() throws -> (RunningProcess, UInt16) {
        let python = try XCTUnwrap(which("python3"), "python3 is needed")
        let server = try RunningProcess(executable: python, ["-c", Self.stallingFileServer])
        addTeardownBlock { server.process.terminate() }
        let line = server.waitForStdout { $0.contains("listening on") }
        let port = try XCTUnwrap(line.split(separator: ":").last.flatMap { UInt16($0.trimmingCharacters(in: .whitespacesAndNewlines)) })
        return (server, port)
    }

    /// Points "Files to:" at `port` and sends the file the filter `name` finds; focus ends in the picker.
    private func send(_ name: String, toPort port: UInt16) throws {
        try console.keys("Tab")
        try console.keys("C-u")
        try console.type("127.0.0.1:\(port)")
        try console.keys("Enter")
        try console.type(name)
        try console.keys("Enter")
    }

    func testTheProgressShowsBytesRateElapsedAndWhatIsLeftAndCtrlXCancelsFromTheMessageField() throws {
        let big = console.pickDirectory.appendingPathComponent("big.bin")
        XCTAssertTrue(FileManager.default.createFile(atPath: big.path, contents: nil))
        XCTAssertEqual(truncate(big.path, 64 << 20), 0)
        let (_, port) = try startStallingServer()
        try console.startAndWaitForServers()
        try send("big", toPort: port)
        let progress = console.waitForScreen("the figures under the bar") {
            $0.contains("big.bin") && $0.range(of: #"/64\.0 MiB [0-9.]+ [KMG]?i?B/s 0:0\d ETA "#, options: .regularExpression) != nil
        }
        XCTAssertTrue(console.line(containing: "^X", in: progress).contains("^X cancel"), "the footer offers ^X:\n\(progress)")
        // Back in the message field, where ^X used to be nothing.
        try console.keys("BTab", "BTab")
        console.waitForScreen("the message field focused") { console.line(containing: "Enter send", in: $0).contains("history") }
        try console.keys("C-x")
        let cancelled = console.waitForScreen("the transfer cancelled") { $0.contains("✗ transfer cancelled") }
        XCTAssertFalse(console.line(containing: "quit", in: cancelled).contains("^X"), "no ^X once nothing runs:\n\(cancelled)")
    }

    func testTheConnectionTableShowsEachConnectionsRate() throws {
        let port = try console.startAndWaitForServers()
        let nc = try XCTUnwrap(which("nc"), "nc is needed")
        let outsider = try RunningProcess(executable: nc, ["127.0.0.1", "\(port)"])
        addTeardownBlock { outsider.process.terminate() }
        outsider.writeToStdin(Data(String(repeating: "x", count: 3000).utf8 + [10]))
        let screen = console.waitForScreen("a rate in the RATE column") {
            $0.contains("RATE") && $0.range(of: #"echo  open .* [0-9.]+ [KM]?i?B/s +\d+s"#, options: .regularExpression) != nil
        }
        XCTAssertTrue(console.line(containing: "PEER", in: screen).contains("RATE    AGE"), screen)
        console.waitForScreen("the rate back to 0 once idle", timeout: 8) { $0.contains(" 0 B/s ") }
    }

    /// Creates a file whose name is `bytes` (which need not be UTF-8).
    private func createFile(named bytes: [UInt8], contents: String) {
        let path = Array(console.pickDirectory.path.utf8) + [0x2F] + bytes + [0]
        let fd = path.withUnsafeBufferPointer { open(UnsafeRawPointer($0.baseAddress!).assumingMemoryBound(to: CChar.self), O_WRONLY | O_CREAT, 0o644) }
        XCTAssertGreaterThanOrEqual(fd, 0)
        _ = Array(contents.utf8).withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
    }

    func testThePickerMarksWhatIsNotAFileAndSendsANameThatIsNotUTF8() throws {
        let folder = console.pickDirectory
        XCTAssertEqual(mkfifo(folder.appendingPathComponent("pipe").path, 0o644), 0)
        try Data("notes\n".utf8).write(to: folder.appendingPathComponent("notes.txt"))
        try FileManager.default.createSymbolicLink(atPath: folder.appendingPathComponent("shortcut").path, withDestinationPath: "notes.txt")
        try FileManager.default.createSymbolicLink(atPath: folder.appendingPathComponent("broken").path, withDestinationPath: "/nonexistent/file")
        createFile(named: Array("photo ".utf8) + [0xFF] + Array(".jpg".utf8), contents: "pixels\n")
        try console.startAndWaitForServers(cols: 160, rows: 45)
        try console.keys("Tab", "Tab")
        let listed = console.waitForScreen("the marked entries") { $0.contains("pipe|") }
        XCTAssertTrue(console.line(containing: "pipe|", in: listed).contains("fifo"), listed)
        XCTAssertTrue(console.line(containing: "shortcut@", in: listed).contains("6 B"), listed)
        XCTAssertTrue(console.line(containing: "broken@", in: listed).contains("broken link"), listed)
        XCTAssertTrue(listed.contains("photo \\xff.jpg"), "the byte that is not UTF-8 escaped:\n\(listed)")

        try console.type("pipe")
        try console.keys("Enter")
        console.waitForScreen("why a FIFO is not sent") { $0.contains("✗ cannot send pipe: a FIFO (named pipe), not a file") }
        try console.keys("C-u")
        try console.type("photo")
        try console.keys("Enter")
        console.waitForScreen("the file sent and saved") { $0.contains("✓ photo \\xff.jpg saved as photo") && $0.contains("1 saved") }
        let saved = try FileManager.default.contentsOfDirectory(atPath: console.saveDirectory.path)
        XCTAssertEqual(saved, ["photo \u{FFFD}.jpg"])
        XCTAssertEqual(try String(contentsOf: console.saveDirectory.appendingPathComponent(saved[0]), encoding: .utf8), "pixels\n")
    }

    func testGoingUpSelectsTheFolderLeftAndTheListFollowsTheFolder() throws {
        let folder = console.pickDirectory
        for name in ["alpha", "beta", "gamma"] {
            try FileManager.default.createDirectory(at: folder.appendingPathComponent(name), withIntermediateDirectories: true)
        }
        try console.startAndWaitForServers(cols: 160, rows: 45)
        try console.keys("Tab", "Tab")
        try console.type("gam")
        try console.keys("Enter")
        console.waitForScreen("inside gamma") { $0.contains("/gamma 1/1") }
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("gamma/inner"), withIntermediateDirectories: true)
        console.waitForScreen("a folder made outside listed without a key", timeout: 4) { $0.contains("inner/") }
        try console.keys("BSpace")
        let up = console.waitForScreen("back up with gamma selected") { $0.contains("›gamma/") }
        XCTAssertFalse(up.contains("›../"), up)
        try FileManager.default.removeItem(at: folder.appendingPathComponent("gamma"))
        console.waitForScreen("gamma gone: the list follows", timeout: 4) { !$0.contains("gamma/") }
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("delta"), withIntermediateDirectories: true)
        console.waitForScreen("delta listed", timeout: 4) { $0.contains("delta/") }
        try console.type("delta")
        try console.keys("Enter")
        console.waitForScreen("inside delta") { $0.contains("/delta 1/1") }
        try FileManager.default.removeItem(at: folder.appendingPathComponent("delta"))
        try console.keys("C-r")
        console.waitForScreen("why the folder shows nothing") { $0.contains("cannot read this folder: No such file or directory") }
    }

    func testAFileOver100MiBIsSentOnlyAfterAYes() throws {
        let huge = console.pickDirectory.appendingPathComponent("huge.bin")
        XCTAssertTrue(FileManager.default.createFile(atPath: huge.path, contents: nil))
        XCTAssertEqual(truncate(huge.path, 200 << 20), 0)
        let (_, port) = try startStallingServer()
        try console.startAndWaitForServers()
        try send("huge", toPort: port)
        let asked = console.waitForScreen("the question") { $0.contains("Send huge.bin?") }
        XCTAssertTrue(asked.contains("200.0 MiB (209715200 bytes), over 100.0 MiB"), asked)
        try console.keys("n")
        let declined = console.waitForScreen("the question gone") { !$0.contains("Send huge.bin?") }
        XCTAssertFalse(declined.contains("huge.bin ") && declined.contains("%"), "nothing sent:\n\(declined)")
        try console.keys("Enter")
        console.waitForScreen("the question again") { $0.contains("Send huge.bin?") }
        try console.type("y")
        console.waitForScreen("the transfer running") { $0.contains("/200 MiB") }
        try console.keys("C-x")
    }
}
