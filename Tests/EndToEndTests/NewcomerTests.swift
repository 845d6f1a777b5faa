import Foundation
import NetEngine
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// What a newcomer meets first: a port that is really taken, a way out when it is, a version, no stray folders,
/// a readable log and help texts that say each thing once.
final class NewcomerTests: XCTestCase {
    func testASecondServerOnATakenPortFailsWithOrWithoutThreads() throws {
        let first = try RunningProcess(["serve", "--port", "0", "--threads", "2"])
        let port = first.listeningPort()
        defer { first.interrupt() }
        for threads in ["1", "2"] {
            let second = try runToCompletion(["serve", "--port", "\(port)", "--threads", threads], timeout: 10)
            XCTAssertEqual(second.status, 1, "threads \(threads): \(second.stderr)")
            XCTAssertEqual(second.stderr, "netconsole: address already in use: 127.0.0.1:\(port)\n")
        }
        // Both of the first server's loops still serve: several clients in a row all get their echo.
        for index in 0..<6 {
            let result = try runToCompletion(["echo", "127.0.0.1:\(port)"], input: Data("client \(index)\n".utf8))
            XCTAssertEqual(String(decoding: result.stdout, as: UTF8.self), "client \(index)\n")
        }
    }

    func testABusyConsolePortSaysWhatToDoAndCreatesNothing() throws {
        let base = try makeTemporaryDirectory(self)
        let holder = try RunningProcess(["serve", "--port", "0"])
        let port = holder.listeningPort()
        defer { holder.interrupt() }
        let folder = base.appendingPathComponent("received")
        let result = try runToCompletion(["--port", "\(port)", "--dir", folder.path])
        XCTAssertEqual(result.status, 1)
        XCTAssertEqual(result.stderr, "netconsole: echo server: address already in use: 127.0.0.1:\(port); the console uses ports "
                       + "\(port) and \(port + 1) (echo and files): pick others with --port N, or --port 0 for free ones\n")
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder.path), "nothing created when refusing to start")
    }

    func testTheConsoleAtTheLastPortSaysThereIsNoNextOne() throws {
        let result = try runToCompletion(["--port", "65535"])
        XCTAssertEqual(result.status, 1)
        XCTAssertEqual(result.stderr, "netconsole: --port 65535 leaves no next port for the console's file server; pick a lower --port, or --port 0\n")
    }

    func testTheConsoleRefusingAPipeCreatesNoFolder() throws {
        let base = try makeTemporaryDirectory(self)
        let result = try runToCompletion(["--port", "0"], currentDirectory: base.path)
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.stderr.contains("the console needs a terminal"), result.stderr)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: base.path), [], "no ./received")
    }

    func testVersionIsShownByVersionAndHelp() throws {
        let version = try runToCompletion(["--version"])
        XCTAssertEqual(version.status, 0, version.stderr)
        let text = String(decoding: version.stdout, as: UTF8.self)
        XCTAssertTrue(text.hasPrefix("netconsole ") && text.split(separator: ".").count == 3, text)
        let help = String(decoding: try runToCompletion(["--help"]).stdout, as: UTF8.self)
        XCTAssertTrue(help.contains(text.trimmingCharacters(in: .newlines)), help)
        XCTAssertTrue(help.contains("--port") && help.contains("--dir"), "the console's own options are named")
    }

    func testTheDefaultLogHasEventsNotReads() throws {
        let folder = try makeTemporaryDirectory(self)
        let source = try makeTemporaryDirectory(self).appendingPathComponent("big.bin")
        try Data(repeating: 1, count: 20 << 20).write(to: source)
        let server = try RunningProcess(["serve", "--files", folder.path, "--port", "0", "--no-fsync"])
        let port = server.listeningPort(service: "files")
        defer { server.interrupt() }
        let sent = try runToCompletion(["send", source.path, "--to", "127.0.0.1:\(port)"])
        XCTAssertEqual(sent.status, 0, sent.stderr)
        XCTAssertTrue(server.waitForStderr { $0.contains("closed, 20971") }, server.stderr)
        let log = server.stderr
        XCTAssertFalse(log.split(separator: "\n").contains { $0.contains(" received ") && $0.hasSuffix(" bytes") }, "no per-read lines: \(log)")
        XCTAssertTrue(log.contains("upload of 'big.bin' started"), log)
        XCTAssertTrue(log.contains("saved "), log)
        XCTAssertLessThan(log.split(separator: "\n").count, 12, log)

        let verbose = try RunningProcess(["serve", "--port", "0", "-v"])
        let echoPort = verbose.listeningPort()
        defer { verbose.interrupt() }
        _ = try runToCompletion(["echo", "127.0.0.1:\(echoPort)"], input: Data("hi\n".utf8))
        XCTAssertTrue(verbose.waitForStderr { $0.contains("received 3 bytes") && $0.contains("sent 3 bytes") }, verbose.stderr)
    }

    func testHelpTextsSayEachThingOnceAndBadAddressesShowTheRightUsage() throws {
        let echoHelp = String(decoding: try runToCompletion(["help", "echo"]).stdout, as: UTF8.self)
        XCTAssertEqual(echoHelp.components(separatedBy: "127.0.0.1:12345").count - 1, 2, "once in the example, once as the default: \(echoHelp)")
        let benchHelp = String(decoding: try runToCompletion(["bench", "echo", "--help"]).stdout, as: UTF8.self)
        XCTAssertTrue(benchHelp.contains("stream, keeps --pipeline of them in flight"), benchHelp)
        let bad = try runToCompletion(["echo", "nosuchhost.invalid"])
        XCTAssertEqual(bad.status, 64)
        XCTAssertTrue(bad.stderr.contains("port must be a number") && bad.stderr.contains("Usage: netconsole echo"), bad.stderr)
    }
}
