import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// `netconsole connect`: an nc-like session with any TCP server, on the engine's one connection type.
final class ConnectCommandTests: XCTestCase {
    private func startEcho() throws -> (RunningProcess, UInt16) {
        let server = try RunningProcess(["serve", "--port", "0", "--quiet"])
        addTeardownBlock { server.interrupt() }
        return (server, server.listeningPort())
    }

    /// A Python server written for the test: `script` gets the listening socket as `s` and prints nothing.
    private func startPython(_ body: String) throws -> (RunningProcess, UInt16) {
        guard let python = which("python3") else { throw XCTSkip("python3 is not installed") }
        let script = """
        import socket, sys
        s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(('127.0.0.1', 0)); s.listen(1)
        print(s.getsockname()[1], flush=True)
        \(body)
        """
        let server = try RunningProcess(executable: python, ["-c", script])
        addTeardownBlock { server.interrupt() }
        let text = server.waitForStdout { $0.contains("\n") }
        return (server, try XCTUnwrap(UInt16(text.trimmingCharacters(in: .whitespacesAndNewlines))))
    }

    func testStdinGoesToTheServerAndItsAnswerToStdoutThenACleanEnd() throws {
        let (_, port) = try startEcho()
        let lines = (0..<500).map { "line \($0) é\n" }.joined()
        let result = try runToCompletion(["connect", "127.0.0.1:\(port)"], input: Data(lines.utf8))
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(String(decoding: result.stdout, as: UTF8.self), lines, "the half-close lets every echo come back")
    }

    func testCRLFTalksHTTPToAPythonServer() throws {
        guard let python = which("python3") else { throw XCTSkip("python3 is not installed") }
        let folder = try makeTemporaryDirectory(self)
        try Data("hello from http\n".utf8).write(to: folder.appendingPathComponent("index.txt"))
        let server = try RunningProcess(executable: python, ["-m", "http.server", "0", "--bind", "127.0.0.1", "--directory", folder.path])
        defer { server.interrupt() }
        // http.server prints "Serving HTTP on 127.0.0.1 port N ..." once it listens.
        let banner = server.waitForStdout(timeout: 10) { $0.contains("port ") }
        let port = try XCTUnwrap(banner.components(separatedBy: "port ").last?.split(separator: " ").first.flatMap { UInt16($0) })
        let result = try runToCompletion(["connect", "--crlf", "127.0.0.1:\(port)"], input: Data("GET /index.txt HTTP/1.0\n\n".utf8))
        XCTAssertEqual(result.status, 0, result.stderr)
        let answer = String(decoding: result.stdout, as: UTF8.self)
        XCTAssertTrue(answer.hasPrefix("HTTP/1.0 200 OK\r\n"), answer)
        XCTAssertTrue(answer.hasSuffix("\r\n\r\nhello from http\n"), answer)
    }

    func testHexShowsEveryByteValueWithItsOffset() throws {
        let (_, port) = try startPython("c, _ = s.accept(); c.sendall(bytes(range(256))); c.close()")
        let result = try runToCompletion(["connect", "--hex", "127.0.0.1:\(port)"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let dump = String(decoding: result.stdout, as: UTF8.self)
        XCTAssertTrue(dump.contains("00000000  00 01 02 03 04 05 06 07  08 09 0a 0b 0c 0d 0e 0f  |................|"), dump)
        XCTAssertTrue(dump.contains("00000040  40 41 42 43 44 45 46 47  48 49 4a 4b 4c 4d 4e 4f  |@ABCDEFGHIJKLMNO|"), dump)
        XCTAssertTrue(dump.contains("000000f0  f0 f1 f2 f3 f4 f5 f6 f7  f8 f9 fa fb fc fd fe ff  |................|"), dump)
        XCTAssertFalse(dump.contains("\u{1B}"), "no raw control bytes reach the terminal")
    }

    func testNoNewlineSendsLinesWithoutTheirBreaks() throws {
        let (_, port) = try startPython("c, _ = s.accept(); data = b''\nwhile True:\n    d = c.recv(100)\n    if not d: break\n    data += d\nc.sendall(repr(data).encode()); c.close()")
        let result = try runToCompletion(["connect", "--no-newline", "127.0.0.1:\(port)"], input: Data("ab\ncd\n".utf8))
        XCTAssertEqual(String(decoding: result.stdout, as: UTF8.self), "b'abcd'")
    }

    func testAResetOrARefusalIsAFailureThatSaysWhy() throws {
        let (_, port) = try startPython("import struct\nc, _ = s.accept(); c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0)); c.close()")
        let reset = try runToCompletion(["connect", "127.0.0.1:\(port)"], input: Data("x\n".utf8))
        XCTAssertEqual(reset.status, 1)
        XCTAssertTrue(reset.stderr.contains("connection reset by peer"), reset.stderr)

        let refused = try runToCompletion(["connect", "127.0.0.1:\(port)"])
        XCTAssertEqual(refused.status, 1)
        XCTAssertEqual(refused.stderr, "netconsole: connection refused: 127.0.0.1:\(port)\n")
    }

    /// `serve --dump`: each direction's payload as hex + ASCII, at most --dump-limit bytes per connection, then one line.
    func testServeDumpShowsPayloadsBoundedPerConnection() throws {
        let server = try RunningProcess(["serve", "--port", "0", "--dump", "--dump-limit", "64"])
        let port = server.listeningPort()
        defer { server.interrupt() }
        var payload = Array("hello\u{1B}[2J\n".utf8)
        payload += [UInt8](repeating: 0x41, count: 100_000)
        let result = try runToCompletion(["connect", "127.0.0.1:\(port)"], input: Data(payload))
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(result.stdout.count, payload.count, "the echo is whole; only the log is bounded")
        XCTAssertTrue(server.waitForStderr { $0.contains("payload not shown") }, server.stderr)
        let log = server.stderr
        XCTAssertTrue(log.contains("← 64 bytes") && log.contains("→ 64 bytes"), log)
        XCTAssertTrue(log.contains("00000000  68 65 6c 6c 6f 1b 5b 32  4a 0a 41 41 41 41 41 41  |hello.[2J.AAAAAA|"), log)
        XCTAssertTrue(log.contains("payload not shown (past the --dump limit): \(payload.count - 64) bytes received, \(payload.count - 64) bytes sent"), log)
        XCTAssertFalse(log.contains("\u{1B}"), "no raw escape reaches the log")
        XCTAssertLessThan(log.utf8.count, 4_000, "100 KB of payload, a bounded log")
    }
}
