import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// `netconsole lab`'s five blocking programs over real loopback sockets, against the real commands and against
/// the lab's own Python programs (LabPython), both ways.
final class LabTests: XCTestCase {
    private var python3: String!

    override func setUpWithError() throws {
        guard let found = which("python3") else { throw XCTSkip("python3 is not installed") }
        python3 = found
    }

    // MARK: Helpers

    /// Starts `netconsole lab PROGRAM --port 0 ...`; returns it with the port it printed.
    private func startLab(_ program: String, _ extra: [String] = []) throws -> (RunningProcess, UInt16) {
        let server = try RunningProcess(["lab", program, "--port", "0"] + extra)
        addTeardownBlock { server.interrupt(); server.waitForExit() }
        return (server, printedPort(server))
    }

    /// Starts one of the lab's Python servers on port 0; returns it with the port it printed.
    private func startPython(_ script: String, _ extra: [String] = []) throws -> (RunningProcess, UInt16) {
        let server = try RunningProcess(executable: python3, ["-c", script, "0"] + extra)
        addTeardownBlock { server.interrupt(); server.waitForExit() }
        return (server, printedPort(server))
    }

    /// Starts `netconsole serve --port 0 ...`; returns it with the port of `service`.
    private func startServe(_ extra: [String], service: String = "echo") throws -> (RunningProcess, UInt16) {
        let server = try RunningProcess(["serve", "--port", "0"] + extra)
        addTeardownBlock { server.interrupt(); server.waitForExit() }
        return (server, server.listeningPort(service: service))
    }

    private func printedPort(_ server: RunningProcess, file: StaticString = #filePath, line: UInt = #line) -> UInt16 {
        let text = server.waitForStdout(file: file, line: line) { $0.split(separator: "\n").contains { $0.hasPrefix("listening on ") } }
        let row = text.split(separator: "\n").first { $0.hasPrefix("listening on ") } ?? ""
        guard let port = row.split(separator: ":").last.flatMap({ UInt16($0) }) else {
            XCTFail("no port in: \(text)", file: file, line: line)
            return 0
        }
        return port
    }

    private func runPython(_ script: String, _ arguments: [String], input: Data = Data()) throws -> (status: Int32?, stdout: Data, stderr: String) {
        try runToCompletion(executable: python3, ["-c", script] + arguments, input: input)
    }

    private func randomData(_ count: Int) throws -> Data {
        let source = try XCTUnwrap(FileHandle(forReadingAtPath: "/dev/urandom"))
        defer { try? source.close() }
        return source.readData(ofLength: count)
    }

    /// A text file, a binary file of every byte value and random bytes over many 1024-byte blocks, and an empty file.
    private func sampleFiles(in folder: URL) throws -> [URL] {
        let samples: [(String, Data)] = [
            ("notes.txt", Data("Привіт, сервере!\nline two\n".utf8)),
            ("random.bin", Data((0...255).map { UInt8($0) }) + (try randomData(300_000 + 37))),
            ("empty", Data()),
        ]
        return try samples.map { name, data in
            let url = folder.appendingPathComponent(name)
            try data.write(to: url)
            return url
        }
    }

    private func assertSameBytes(_ copy: URL, _ original: URL, file: StaticString = #filePath, line: UInt = #line) throws {
        let expected = try Data(contentsOf: original)
        let actual = try Data(contentsOf: copy)
        XCTAssertEqual(actual.count, expected.count, original.lastPathComponent, file: file, line: line)
        XCTAssertTrue(actual == expected, "\(original.lastPathComponent) arrived with different bytes", file: file, line: line)
    }

    // MARK: 1. echo-server

    func testEchoServerEchoesNetconsoleEchoThenExitsAfterItsOneClient() throws {
        let (server, port) = try startLab("echo-server")
        let long = String(repeating: "0123456789", count: 300)  // 3000 bytes: three 1024-byte blocks
        let input = "привіт\n\(long)\nend\n"
        let result = try runToCompletion(["echo", "127.0.0.1:\(port)"], input: Data(input.utf8))
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(String(decoding: result.stdout, as: UTF8.self), input)
        XCTAssertEqual(server.waitForExit(timeout: 5), 0, server.stderr)
        XCTAssertTrue(server.stdout.contains("connected by 127.0.0.1:"), server.stdout)
    }

    func testEchoServerAnswersTheLabsPythonClient() throws {
        let (server, port) = try startLab("echo-server")
        let result = try runPython(LabPython.echoClient, ["\(port)"], input: Data("hello\nworld\nexit\nnever\n".utf8))
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(String(decoding: result.stdout, as: UTF8.self), "hello\nworld\n")
        XCTAssertEqual(server.waitForExit(timeout: 5), 0, server.stderr)
    }

    func testEchoServerReturnsAMegabyteOfRandomBytesUnchanged() throws {
        let folder = try makeTemporaryDirectory(self)
        let payload = try randomData(1 << 20)
        let path = folder.appendingPathComponent("payload.bin")
        try payload.write(to: path)
        let (server, port) = try startLab("echo-server")
        let result = try runPython(LabPython.bulkEchoClient, ["\(port)", path.path])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(result.stdout.count, payload.count)
        XCTAssertTrue(result.stdout == payload, "the echo differs from what was sent")
        XCTAssertEqual(server.waitForExit(timeout: 5), 0, server.stderr)
    }

    // MARK: 2. echo-client

    func testEchoClientAgainstServeOnceStopsAtExit() throws {
        let (server, port) = try startServe(["--mode", "once"])
        let result = try runToCompletion(["lab", "echo-client", "--port", "\(port)"], input: Data("a\nbc\nexit\nnever\n".utf8))
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(String(decoding: result.stdout, as: UTF8.self), "a\nbc\n")
        XCTAssertEqual(server.waitForExit(timeout: 5), 0, "serve --mode once ends after its one client")
        XCTAssertTrue(server.stderr.contains("closed, 5 bytes in, 5 bytes out"), "'never' must not be sent: \(server.stderr)")
    }

    func testEchoClientPrintsALineLongerThanOneBlockFromServe() throws {
        let (_, port) = try startServe(["--no-byte-log"])
        let long = String(repeating: "abcdefghij", count: 500)
        let result = try runToCompletion(["lab", "echo-client", "--port", "\(port)"], input: Data("\(long)\nshort\n".utf8))
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(String(decoding: result.stdout, as: UTF8.self), "\(long)\nshort\n")
    }

    func testEchoClientAgainstThePythonEchoServer() throws {
        let (server, port) = try startPython(LabPython.echoServer)
        let result = try runToCompletion(["lab", "echo-client", "--port", "\(port)"], input: Data("один\ntwo\nexit\n".utf8))
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(String(decoding: result.stdout, as: UTF8.self), "один\ntwo\n")
        XCTAssertEqual(server.waitForExit(timeout: 5), 0, server.stderr)
    }

    // MARK: 3. forever-server

    /// A second client is not served while the first is connected, and is served as soon as it leaves.
    private func assertOneClientAfterAnother(port: UInt16, file: StaticString = #filePath, line: UInt = #line) throws {
        let first = try RunningProcess(["lab", "echo-client", "--port", "\(port)"])
        first.writeToStdin(Data("first\n".utf8))
        first.waitForStdout(file: file, line: line) { $0 == "first\n" }
        // The second client connects (the backlog takes it) but is not served while the first is connected.
        let second = try RunningProcess(["echo", "127.0.0.1:\(port)"])
        second.writeToStdin(Data("second\n".utf8))
        usleep(500_000)
        XCTAssertEqual(second.stdout, "", "a second client was answered while the first was connected", file: file, line: line)
        first.closeStdin()
        XCTAssertEqual(first.waitForExit(), 0, first.stderr, file: file, line: line)
        second.waitForStdout(file: file, line: line) { $0 == "second\n" }
        second.closeStdin()
        XCTAssertEqual(second.waitForExit(), 0, second.stderr, file: file, line: line)
        let third = try runPython(LabPython.echoClient, ["\(port)"], input: Data("third\n".utf8))
        XCTAssertEqual(String(decoding: third.stdout, as: UTF8.self), "third\n", third.stderr, file: file, line: line)
    }

    func testForeverServerServesOneClientAfterAnother() throws {
        let (server, port) = try startLab("forever-server")
        try assertOneClientAfterAnother(port: port)
        XCTAssertTrue(server.process.isRunning, "the forever server keeps running")
        let log = server.waitForStdout { $0.components(separatedBy: "closed\n").count == 4 }
        XCTAssertEqual(log.components(separatedBy: "connected by 127.0.0.1:").count, 4, log)
    }

    func testServeSequentialServesTheLabClientsOneAfterAnotherToo() throws {
        let (server, port) = try startServe(["--mode", "sequential", "--no-byte-log"])
        try assertOneClientAfterAnother(port: port)
        XCTAssertTrue(server.process.isRunning, "a sequential server keeps running")
    }

    func testForeverServerOutlivesAClientThatResetsItsConnection() throws {
        let (server, port) = try startLab("forever-server")
        let reset = """
        import socket, struct, sys
        s = socket.create_connection(('127.0.0.1', int(sys.argv[1])))
        s.sendall(b'x' * 100000)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
        s.close()
        """
        _ = try runPython(reset, ["\(port)"])
        let after = try runToCompletion(["lab", "echo-client", "--port", "\(port)"], input: Data("still here\n".utf8))
        XCTAssertEqual(after.status, 0, after.stderr)
        XCTAssertEqual(String(decoding: after.stdout, as: UTF8.self), "still here\n")
        XCTAssertTrue(server.process.isRunning)
        // The error the reset caused was reported, and the server went on to the next client.
        XCTAssertTrue(server.stderr.hasPrefix("netconsole: recv: connection reset by peer\n")
                      || server.stderr.hasPrefix("netconsole: send: connection reset by peer\n")
                      || server.stderr.hasPrefix("netconsole: send: broken pipe\n"), "the reset was not seen: \(server.stderr)")
    }

    // MARK: 4. file-server

    func testFileServerSavesWhatSendRawSendsByteForByte() throws {
        let source = try makeTemporaryDirectory(self)
        let target = try makeTemporaryDirectory(self)
        for original in try sampleFiles(in: source) {
            let copy = target.appendingPathComponent(original.lastPathComponent)
            let (server, port) = try startLab("file-server", ["--output", copy.path])
            let result = try runToCompletion(["send", "--raw", original.path, "--to", "127.0.0.1:\(port)"])
            XCTAssertEqual(result.status, 0, result.stderr)
            XCTAssertEqual(server.waitForExit(timeout: 5), 0, server.stderr)
            let size = try Data(contentsOf: original).count
            XCTAssertTrue(server.stdout.contains("saved \(size) bytes to \(copy.path)"), server.stdout)
            try assertSameBytes(copy, original)
        }
    }

    func testFileServerSavesWhatThePythonClientSends() throws {
        let source = try makeTemporaryDirectory(self)
        let target = try makeTemporaryDirectory(self)
        for original in try sampleFiles(in: source) {
            let copy = target.appendingPathComponent(original.lastPathComponent)
            let (server, port) = try startLab("file-server", ["--output", copy.path])
            let result = try runPython(LabPython.fileClient, ["\(port)", original.path])
            XCTAssertEqual(result.status, 0, result.stderr)
            XCTAssertEqual(server.waitForExit(timeout: 5), 0, server.stderr)
            try assertSameBytes(copy, original)
        }
    }

    // MARK: 5. file-client

    func testFileClientUploadsToServeRawByteForByte() throws {
        let source = try makeTemporaryDirectory(self)
        let target = try makeTemporaryDirectory(self)
        // --keep-empty: like the lab's server, an upload of nothing is an empty file (by default no file).
        let (_, port) = try startServe(["--files", target.path, "--raw", "--keep-empty", "--no-byte-log"], service: "files")
        for original in try sampleFiles(in: source) {
            let result = try runToCompletion(["lab", "file-client", original.path, "--port", "\(port)"])
            XCTAssertEqual(result.status, 0, result.stderr)
            let stdout = String(decoding: result.stdout, as: UTF8.self)
            // The raw server answers "OK <name>" once it has saved the bytes; the client prints it.
            let name = try XCTUnwrap(stdout.split(separator: "\n").first { $0.hasPrefix("OK ") }?.dropFirst(3), stdout)
            let size = try Data(contentsOf: original).count
            XCTAssertTrue(stdout.contains("sent \(size) bytes from \(original.path)"), stdout)
            try assertSameBytes(target.appendingPathComponent(String(name)), original)
        }
    }

    /// A student's file client against the default file server (no --raw): its bytes are not a framed header, so
    /// they are saved as a raw upload on the same port `netconsole send` uses.
    func testThePythonFileClientUploadsToTheDefaultFileServer() throws {
        let source = try makeTemporaryDirectory(self)
        let target = try makeTemporaryDirectory(self)
        let (server, port) = try startServe(["--files", target.path], service: "files")
        var saved = 0
        for original in try sampleFiles(in: source) where try Data(contentsOf: original).count > 0 {
            let result = try runPython(LabPython.fileClient, ["\(port)", original.path])
            XCTAssertEqual(result.status, 0, result.stderr)
            saved += 1
            XCTAssertTrue(server.waitForStderr { $0.components(separatedBy: " saved ").count - 1 == saved }, server.stderr)
            // "#3 saved /dir/upload-20260101-120000 (1) (300293 bytes, sha256 ...)": the path may hold spaces.
            let line = try XCTUnwrap(server.stderr.split(separator: "\n").last { $0.contains(" saved ") })
            let afterSaved = try XCTUnwrap(line.range(of: " saved ")).upperBound
            let beforeSize = try XCTUnwrap(line.range(of: " (", options: .backwards)).lowerBound
            try assertSameBytes(URL(fileURLWithPath: String(line[afterSaved..<beforeSize])), original)
        }
        XCTAssertGreaterThan(saved, 1)
    }

    func testFileClientUploadsToThePythonFileServer() throws {
        let source = try makeTemporaryDirectory(self)
        let target = try makeTemporaryDirectory(self)
        for original in try sampleFiles(in: source) {
            let copy = target.appendingPathComponent(original.lastPathComponent)
            let (server, port) = try startPython(LabPython.fileServer, [copy.path])
            let result = try runToCompletion(["lab", "file-client", original.path, "--port", "\(port)"])
            XCTAssertEqual(result.status, 0, result.stderr)
            XCTAssertEqual(server.waitForExit(timeout: 5), 0, server.stderr)
            try assertSameBytes(copy, original)
        }
    }

    func testFileClientToFileServer() throws {
        let source = try makeTemporaryDirectory(self)
        let original = try sampleFiles(in: source)[1]
        let copy = source.appendingPathComponent("copy.bin")
        let (server, port) = try startLab("file-server", ["-o", copy.path])
        let result = try runToCompletion(["lab", "file-client", original.path, "-p", "\(port)"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(server.waitForExit(timeout: 5), 0, server.stderr)
        try assertSameBytes(copy, original)
    }

    // MARK: Errors and defaults

    func testPortInUseIsOneClearLine() throws {
        let (_, port) = try startServe([])
        for program in ["echo-server", "forever-server", "file-server"] {
            let result = try runToCompletion(["lab", program, "--port", "\(port)"])
            XCTAssertEqual(result.status, 1, program)
            XCTAssertEqual(result.stderr, "netconsole: address already in use: 127.0.0.1:\(port)\n", program)
        }
    }

    func testClientsReportRefusedConnectionsAndMissingFilesInOneLine() throws {
        let (server, port) = try startServe([])
        server.interrupt()
        XCTAssertEqual(server.waitForExit(), 0)
        let echo = try runToCompletion(["lab", "echo-client", "--port", "\(port)"], input: Data("x\n".utf8))
        XCTAssertEqual(echo.status, 1)
        XCTAssertEqual(echo.stderr, "netconsole: connection refused: 127.0.0.1:\(port)\n")
        let missing = try makeTemporaryDirectory(self).appendingPathComponent("nothing-here").path
        let file = try runToCompletion(["lab", "file-client", missing, "--port", "\(port)"])
        XCTAssertEqual(file.status, 1)
        XCTAssertEqual(file.stderr, "netconsole: no such file or directory: \(missing)\n")
    }

    func testDefaultsAreTheLabs() throws {
        for program in ["echo-server", "echo-client", "forever-server", "file-server", "file-client"] {
            let help = try runToCompletion(["lab", program, "--help"])
            // Help wraps to the terminal's width; compare with the line breaks taken out.
            let text = String(decoding: help.stdout, as: UTF8.self).split(whereSeparator: \.isWhitespace).joined(separator: " ")
            XCTAssertTrue(text.contains("(default: 12345)"), "\(program): \(text)")
            XCTAssertTrue(text.contains("(default: 127.0.0.1)"), "\(program): \(text)")
        }
    }
}
