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
}
