import Foundation
import NetEngine
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// The headless server under the audit's attacks: limits that hold per process, durations that cannot trap,
/// signals that leave nothing behind, and a log that neither fills the disk nor stops the server.
final class ServerHardeningCommandTests: XCTestCase {
    override func setUp() { ignoreBrokenPipeSignal() }

    /// What arrives on `fd` within `timeout` seconds (until EOF or silence).
    private func readSome(_ fd: Int32, timeout: Double) -> String {
        var bytes: [UInt8] = []
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 50) > 0 else { continue }
            var chunk = [UInt8](repeating: 0, count: 4096)
            let n = recv(fd, &chunk, chunk.count, 0)
            if n <= 0 { break }
            bytes += chunk[0..<n]
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    func testMaxConnectionsHoldsForTheWholeProcessWithSeveralThreads() throws {
        let server = try RunningProcess(["serve", "--port", "0", "--threads", "2", "--max-connections", "3", "--no-byte-log"])
        let port = server.listeningPort()
        defer { server.interrupt() }
        var sockets: [Int32] = []
        for _ in 0..<8 { sockets.append(try XCTUnwrap(connectToLoopback(port: port))) }
        defer { for fd in sockets { close(fd) } }
        let answers = sockets.map { readSome($0, timeout: 0.5) }
        let busy = answers.filter { $0.hasPrefix("ERR 503 server busy: at its limit of 3 connections") }
        XCTAssertEqual(busy.count, 5, "\(answers)")
        XCTAssertEqual(answers.filter(\.isEmpty).count, 3, "three are served, across both threads")
    }

    func testEveryDurationIsCheckedBeforeItCanTrap() throws {
        let folder = try makeTemporaryDirectory(self)
        let file = folder.appendingPathComponent("f.txt")
        try Data("x".utf8).write(to: file)
        let cases: [[String]] = [
            ["send", file.path, "--to", "127.0.0.1:9", "--timeout", "inf"],
            ["send", file.path, "--to", "127.0.0.1:9", "--timeout", "1e20"],
            ["serve", "--port", "0", "--header-timeout", "inf"],
            ["serve", "--port", "0", "--idle-timeout", "nan"],
            ["serve", "--port", "0", "--stall-timeout=-1", "--files", folder.path],
            ["serve", "--port", "0", "--idle-timeout", "0"],
            ["echo", "127.0.0.1:9", "--timeout", "1e300"],
        ]
        for arguments in cases {
            let result = try runToCompletion(arguments, timeout: 10)
            XCTAssertEqual(result.status, 64, "\(arguments): \(result.stderr)")
            XCTAssertTrue(result.stderr.contains("is not a duration: give seconds from 0.001 to 604800"), "\(arguments): \(result.stderr)")
            XCTAssertFalse(result.stderr.contains("Fatal error"), result.stderr)
        }
        let off = try RunningProcess(["serve", "--port", "0", "--idle-timeout", "off"])
        _ = off.listeningPort()
        off.interrupt()
        XCTAssertEqual(off.waitForExit(timeout: 5), 0, off.stderr)
    }

    func testAnIdleEchoClientIsDroppedAtTheIdleTimeout() throws {
        let help = try runToCompletion(["serve", "--help"])
        XCTAssertTrue(String(decoding: help.stdout, as: UTF8.self).contains("(default: 600)"), "echo connections have an idle timeout by default")
        let server = try RunningProcess(["serve", "--port", "0", "--idle-timeout", "0.3"])
        let port = server.listeningPort()
        defer { server.interrupt() }
        let fd = try XCTUnwrap(connectToLoopback(port: port))
        defer { close(fd) }
        XCTAssertEqual(readSome(fd, timeout: 3), "", "closed without a word")
        XCTAssertTrue(server.waitForStderr(timeout: 3) { $0.contains("idle for more than 0.3 s, dropped") }, server.stderr)
    }

    func testClosingTheTerminalEndsTheServerCleanly() throws {
        let folder = try makeTemporaryDirectory(self)
        let server = try RunningProcess(["serve", "--files", folder.path, "--port", "0", "--no-byte-log"])
        let port = server.listeningPort(service: "files")
        let socket = try Socket.connect(host: "127.0.0.1", port: port)
        try socket.sendAll(FileTransferEncoder.header(name: "big.bin", size: 100_000_000))
        XCTAssertEqual(readSome(socket.descriptor, timeout: 1), "READY\n")
        try socket.sendAll([UInt8](repeating: 7, count: 5_000_000))
        XCTAssertTrue(server.waitForStderr { $0.contains("upload of 'big.bin' started") })
        kill(server.process.processIdentifier, SIGHUP)
        XCTAssertEqual(server.waitForExit(timeout: 5), 0, "SIGHUP ends it like SIGTERM: \(server.stderr)")
        XCTAssertTrue(server.stderr.contains("hung up, closing"), server.stderr)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path), [], "the unfinished upload is gone")
    }

    /// A SIGTERM as soon as "listening" is printed (a script that starts and stops a server) ends it cleanly, also
    /// with many threads.
    func testASignalRightAfterListeningEndsTheServerCleanly() throws {
        let folder = try makeTemporaryDirectory(self)
        for round in 0..<8 {
            let threads = round % 2 == 0 ? "1" : "16"
            let server = try RunningProcess(["serve", "--files", folder.path, "--port", "0", "--threads", threads])
            _ = server.listeningPort(service: "files")
            kill(server.process.processIdentifier, round % 4 < 2 ? SIGTERM : SIGHUP)
            XCTAssertEqual(server.waitForExit(timeout: 5), 0, "round \(round), threads \(threads): \(server.stderr)")
        }
    }

    /// A leftover written a moment before a restart (the crash was just now) is still a leftover.
    func testALeftoverFromJustBeforeTheStartIsRemoved() throws {
        let folder = try makeTemporaryDirectory(self)
        try Data(repeating: 1, count: 10).write(to: folder.appendingPathComponent(".netconsole-upload-now.part"))
        usleep(100_000)  // a tenth of a second before the start: well within the same wall-clock second, usually
        let server = try RunningProcess(["serve", "--files", folder.path, "--port", "0"])
        _ = server.listeningPort(service: "files")
        defer { server.interrupt() }
        XCTAssertTrue(server.waitForStderr(timeout: 5) { $0.contains("removed 1 unfinished upload") }, server.stderr)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path), [])
    }

    func testTheLoadGeneratorRefusesSizesItCannotHold() throws {
        for arguments in [["--pipeline=99999999999999"], ["--pipeline=1000000000"], ["--duration=1e-9"],
                          ["-c", "1000", "--pipeline", "1000", "-s", "64K"]] {
            let result = try runToCompletion(["bench", "echo", "127.0.0.1:9"] + arguments, timeout: 10)
            XCTAssertEqual(result.status, 64, "\(arguments): \(result.stderr)")
            XCTAssertFalse(result.stderr.contains("Fatal error"), result.stderr)
        }
    }

    func testLeftoversOfACrashAreRemovedAtStartAndCounted() throws {
        let folder = try makeTemporaryDirectory(self)
        for (name, size) in [(".netconsole-upload-k1.part", 100), (".netconsole-upload-k2.part", 23)] {
            let url = folder.appendingPathComponent(name)
            try Data(repeating: 1, count: size).write(to: url)
            var old = [timespec(tv_sec: time(nil) - 600, tv_nsec: 0), timespec(tv_sec: time(nil) - 600, tv_nsec: 0)]
            XCTAssertEqual(utimensat(AT_FDCWD, url.path, &old, 0), 0)
        }
        try Data("mine".utf8).write(to: folder.appendingPathComponent("notes.txt"))
        let server = try RunningProcess(["serve", "--files", folder.path, "--port", "0"])
        _ = server.listeningPort(service: "files")
        defer { server.interrupt() }
        XCTAssertTrue(server.waitForStderr(timeout: 5) {
            $0.contains("removed 2 unfinished uploads left in \(folder.path) by an earlier run (123 bytes)")
        }, server.stderr)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path), ["notes.txt"])
    }

    /// One connection repeating a refused header as fast as it can: the log says "N more like this" instead of a
    /// line per refusal, even with --quiet (refusals are errors and always logged).
    func testARefusalFloodIsRateLimitedInTheLog() throws {
        let folder = try makeTemporaryDirectory(self)
        let server = try RunningProcess(["serve", "--files", folder.path, "--port", "0", "--max-size", "1", "--quiet"])
        let port = server.listeningPort(service: "files")
        defer { server.interrupt() }
        let socket = try Socket.connect(host: "127.0.0.1", port: port)
        let rounds = 20_000
        let header = FileTransferEncoder.header(name: "big", size: 100)
        let sender = Thread {
            var batch: [UInt8] = []
            for _ in 0..<500 { batch += header }
            for _ in 0..<(rounds / 500) { try? socket.sendAll(batch) }
        }
        sender.start()
        var newlines = 0
        var chunk = [UInt8](repeating: 0, count: 65536)
        let deadline = Date().addingTimeInterval(60)
        while newlines < rounds && Date() < deadline {
            guard let n = try chunk.withUnsafeMutableBytes({ try socket.receive(into: $0) }) else { usleep(1000); continue }
            if n == 0 { break }
            newlines += chunk[0..<n].filter { $0 == 0x0A }.count
        }
        XCTAssertEqual(newlines, rounds, "every header got its ERR 413")
        XCTAssertTrue(server.waitForStderr(timeout: 5) { $0.contains("more 'upload rejected' lines not shown (rate limit)") }, server.stderr)
        let lines = server.stderr.split(separator: "\n")
        XCTAssertLessThan(lines.count, 400, "a line per refusal would be \(rounds)")
        XCTAssertTrue(lines.first?.contains("upload rejected: 413") ?? false, server.stderr)
    }

    /// stderr is a pipe nobody reads: once it is full the server must go on serving and still stop on SIGTERM.
    func testALogNobodyReadsNeverStopsTheServer() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: NetconsoleBinary.path)
        process.arguments = ["serve", "--port", "0"]
        let output = Pipe()
        let errors = Pipe()
        _ = fcntl(errors.fileHandleForWriting.fileDescriptor, 1031 /* F_SETPIPE_SZ */, 4096)
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() } }
        var text = ""
        while !text.contains("\n") {
            let data = output.fileHandleForReading.availableData
            if data.isEmpty { break }
            text += String(decoding: data, as: UTF8.self)
        }
        let port = try XCTUnwrap(text.split(separator: ":").last.flatMap { UInt16($0.trimmingCharacters(in: .whitespacesAndNewlines)) }, text)
        for _ in 0..<300 {
            if let fd = connectToLoopback(port: port) { close(fd) }
        }
        usleep(300_000)
        let socket = try Socket.connect(host: "127.0.0.1", port: port)
        try socket.sendAll(Array("still there?\n".utf8))
        XCTAssertEqual(readSome(socket.descriptor, timeout: 1), "still there?\n", "the echo server answers while its log is stuck")
        socket.close()
        kill(process.processIdentifier, SIGTERM)
        let deadline = Date().addingTimeInterval(5)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        XCTAssertFalse(process.isRunning, "SIGTERM is handled although stderr is full")
    }
}
