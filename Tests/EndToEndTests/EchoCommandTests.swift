import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

final class EchoCommandTests: XCTestCase {
    private func startServer(_ extra: [String] = []) throws -> (RunningProcess, UInt16) {
        let server = try RunningProcess(["serve", "--port", "0"] + extra)
        let port = server.listeningPort()
        return (server, port)
    }

    func testPipedLinesAreEchoedInOrder() throws {
        let (server, port) = try startServer()
        let result = try runToCompletion(["echo", "127.0.0.1:\(port)"], input: Data("a\nb\n".utf8))
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(String(decoding: result.stdout, as: UTF8.self), "a\nb\n")
        server.interrupt()
        XCTAssertEqual(server.waitForExit(), 0)
        XCTAssertTrue(server.stderr.contains("connected (echo)"), server.stderr)
        XCTAssertTrue(server.stderr.contains("closed, 4 bytes in, 4 bytes out"), server.stderr)
    }

    func testExitLineEndsTheSessionAndLaterLinesAreNotSent() throws {
        let (server, port) = try startServer()
        defer { server.interrupt() }
        let result = try runToCompletion(["echo", "127.0.0.1:\(port)"], input: Data("first\nexit\nnever\n".utf8))
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(String(decoding: result.stdout, as: UTF8.self), "first\n")
    }

    func testNonUTF8BytesPassThroughTheEchoClientUnchanged() throws {
        let (server, port) = try startServer()
        defer { server.interrupt() }
        let input = Data([0xFF, 0xFE, 0x00, 0x80, 0x1B, 0x5B, 0x32, 0x4A, 0x0A, 0xC3, 0x28, 0x0A])
        let result = try runToCompletion(["echo", "127.0.0.1:\(port)"], input: input)
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(result.stdout, input)
    }

    func testNetcatAsPeerGetsBackExactlyWhatItSent() throws {
        guard let nc = which("nc") else { throw XCTSkip("nc (netcat-openbsd) is not installed") }
        let (server, port) = try startServer()
        defer { server.interrupt() }
        var payload = Data()
        for index in 0..<20_000 { payload.append(contentsOf: Array("line \(index) \u{00e9}\u{0}\n".utf8)) }
        let result = try runToCompletion(executable: nc, ["-N", "127.0.0.1", "\(port)"], input: payload)
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(result.stdout.count, payload.count)
        XCTAssertTrue(result.stdout == payload, "nc got different bytes back")
    }

    func testOnceModeExitsZeroAfterOneClient() throws {
        let (server, port) = try startServer(["--mode", "once"])
        let result = try runToCompletion(["echo", "127.0.0.1:\(port)"], input: Data("solo\n".utf8))
        XCTAssertEqual(String(decoding: result.stdout, as: UTF8.self), "solo\n")
        XCTAssertEqual(server.waitForExit(timeout: 5), 0, server.stderr)
    }

    func testSequentialModeServesClientsOneAfterAnother() throws {
        let (server, port) = try startServer(["--mode", "sequential"])
        defer { server.interrupt() }
        for index in 0..<3 {
            let result = try runToCompletion(["echo", "127.0.0.1:\(port)"], input: Data("client \(index)\n".utf8))
            XCTAssertEqual(String(decoding: result.stdout, as: UTF8.self), "client \(index)\n")
        }
        XCTAssertTrue(server.process.isRunning, "a sequential server runs forever")
    }

    func testInterruptStopsTheServerWithStatusZero() throws {
        let (server, port) = try startServer()
        let idle = try RunningProcess(["echo", "127.0.0.1:\(port)"])
        XCTAssertTrue(server.waitForStderr { $0.contains("connected (echo)") }, server.stderr)
        server.interrupt()
        XCTAssertEqual(server.waitForExit(timeout: 5), 0)
        XCTAssertTrue(server.stderr.contains("interrupted"), server.stderr)
        idle.closeStdin()
        XCTAssertNotNil(idle.waitForExit(timeout: 5), "the client must notice the closed server")
    }

    func testQuietServerLogsNothing() throws {
        let (server, port) = try startServer(["--quiet"])
        _ = try runToCompletion(["echo", "127.0.0.1:\(port)"], input: Data("shh\n".utf8))
        server.interrupt()
        XCTAssertEqual(server.waitForExit(), 0)
        XCTAssertEqual(server.stderr, "")
    }

    func testPortInUseIsAClearErrorAndNonZeroExit() throws {
        let (server, port) = try startServer()
        defer { server.interrupt() }
        let result = try runToCompletion(["serve", "--port", "\(port)"])
        XCTAssertNotEqual(result.status, 0)
        XCTAssertEqual(result.stderr, "netconsole: address already in use: 127.0.0.1:\(port)\n")
    }

    func testConnectionRefusedIsAClearErrorAndNonZeroExit() throws {
        let (server, port) = try startServer()
        server.interrupt()
        XCTAssertEqual(server.waitForExit(), 0)
        let result = try runToCompletion(["echo", "127.0.0.1:\(port)"], input: Data("x\n".utf8))
        XCTAssertNotEqual(result.status, 0)
        XCTAssertEqual(result.stderr, "netconsole: connection refused: 127.0.0.1:\(port)\n")
    }

    func testUnresolvableHostIsAClearErrorAndNonZeroExit() throws {
        let result = try runToCompletion(["echo", "no-such-host.invalid:12345"], input: Data("x\n".utf8))
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.stderr.hasPrefix("netconsole: cannot resolve host 'no-such-host.invalid'"), result.stderr)
        XCTAssertFalse(result.stderr.contains("Fatal error"), result.stderr)
    }

    func testThreadedServerEchoesOnEveryLoop() throws {
        let (server, port) = try startServer(["--threads", "2", "--quiet"])
        defer { server.interrupt() }
        for index in 0..<8 {
            let result = try runToCompletion(["echo", "127.0.0.1:\(port)"], input: Data("t\(index)\n".utf8))
            XCTAssertEqual(String(decoding: result.stdout, as: UTF8.self), "t\(index)\n")
        }
    }

    // MARK: Servers that answer with more than they got

    /// Runs `netconsole echo` with `input` against the lab's Python echo server that adds `extra` to every echo
    /// and `atEnd` after the client closes; returns the client's stdout, stderr and the server's port.
    private func echoAgainstGenerousServer(_ input: String, extra: [UInt8], atEnd: [UInt8]) throws -> (stdout: String, stderr: String, port: UInt16) {
        guard let python3 = which("python3") else { throw XCTSkip("python3 is not installed") }
        func hex(_ bytes: [UInt8]) -> String { bytes.map { ($0 < 0x10 ? "0" : "") + String($0, radix: 16) }.joined() }
        let server = try RunningProcess(executable: python3, ["-c", LabPython.echoServerWithExtraBytes, "0", hex(extra), hex(atEnd)])
        defer { server.interrupt() }
        let text = server.waitForStdout { $0.hasSuffix("\n") }
        let port = try XCTUnwrap(text.split(separator: ":").last.flatMap { UInt16($0.dropLast()) }, text)
        let result = try runToCompletion(["echo", "127.0.0.1:\(port)"], input: Data(input.utf8))
        XCTAssertEqual(result.status, 0, result.stderr)
        return (String(decoding: result.stdout, as: UTF8.self), result.stderr, port)
    }

    func testBytesBeyondEachEchoAreReportedEscapedAndKeptOutOfTheNextEcho() throws {
        let run = try echoAgainstGenerousServer("ab\ncd\n", extra: Array("+\u{1}".utf8), atEnd: [])
        XCTAssertEqual(run.stdout, "ab\ncd\n")
        let note = "netconsole: 2 bytes beyond the echo from 127.0.0.1:\(run.port): \"+\\u{1}\"\n"
        XCTAssertEqual(run.stderr, note + note)
    }

    func testNonUTF8ExtraBytesAreShownInHex() throws {
        let run = try echoAgainstGenerousServer("x\n", extra: [0xFF, 0x00, 0x41], atEnd: [])
        XCTAssertEqual(run.stdout, "x\n")
        XCTAssertEqual(run.stderr, "netconsole: 3 bytes beyond the echo from 127.0.0.1:\(run.port): \"\\xff\\x00A\"\n")
    }

    func testBytesSentAfterTheLastEchoAreReportedAtTheEnd() throws {
        let run = try echoAgainstGenerousServer("one\n", extra: [], atEnd: Array("bye\n".utf8))
        XCTAssertEqual(run.stdout, "one\n")
        XCTAssertEqual(run.stderr, "netconsole: 4 bytes beyond the echo from 127.0.0.1:\(run.port): \"bye\\n\"\n")
    }

    func testAnHonestEchoServerGetsNoNote() throws {
        let (server, port) = try startServer(["--quiet"])
        defer { server.interrupt() }
        let result = try runToCompletion(["echo", "127.0.0.1:\(port)"], input: Data("a\nb\n".utf8))
        XCTAssertEqual(result.status, 0)
        XCTAssertEqual(String(decoding: result.stdout, as: UTF8.self), "a\nb\n")
        XCTAssertEqual(result.stderr, "")
    }
}
