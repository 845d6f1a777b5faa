import Foundation
import NetEngine
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// The `netconsole` executable that `swift build` put beside this test bundle.
enum NetconsoleBinary {
    static var path: String {
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = directory.appendingPathComponent("netconsole").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            directory = directory.deletingLastPathComponent()
        }
        let fallback = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent(".build/debug/netconsole").path
        return fallback
    }
}

/// A running `netconsole` (or any other program), its stdout and stderr captured to temp files.
final class RunningProcess {
    let process = Process()
    let stdoutURL: URL
    let stderrURL: URL
    private let stdinPipe = Pipe()

    init(executable: String = NetconsoleBinary.path, _ arguments: [String], environment: [String: String]? = nil,
         currentDirectory: String? = nil) throws {
        // Writing to a child that has exited must fail the write, not kill the test process with SIGPIPE.
        signal(SIGPIPE, SIG_IGN)
        let temp = FileManager.default.temporaryDirectory.appendingPathComponent("netconsole-proc-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: temp, withIntermediateDirectories: true)
        stdoutURL = temp.appendingPathComponent("stdout")
        stderrURL = temp.appendingPathComponent("stderr")
        guard FileManager.default.createFile(atPath: stdoutURL.path, contents: nil),
              FileManager.default.createFile(atPath: stderrURL.path, contents: nil) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: temp.path])
        }
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        if let currentDirectory { process.currentDirectoryURL = URL(fileURLWithPath: currentDirectory) }
        process.standardOutput = try FileHandle(forWritingTo: stdoutURL)
        process.standardError = try FileHandle(forWritingTo: stderrURL)
        process.standardInput = stdinPipe
        try process.run()
    }

    var stdout: String { (try? String(contentsOf: stdoutURL, encoding: .utf8)) ?? "" }
    var stderr: String { (try? String(contentsOf: stderrURL, encoding: .utf8)) ?? "" }
    var stdoutData: Data { (try? Data(contentsOf: stdoutURL)) ?? Data() }

    /// A child that has exited already makes the write fail with EPIPE: that is the test's to notice from the child's
    /// output, not a reason for the whole test process to trap (`write(_:)` traps on any error).
    func writeToStdin(_ data: Data) { try? stdinPipe.fileHandleForWriting.write(contentsOf: data) }
    func closeStdin() { try? stdinPipe.fileHandleForWriting.close() }

    /// Waits until `predicate` holds for stdout, or fails after `timeout` seconds.
    @discardableResult
    func waitForStdout(timeout: Double = 10, file: StaticString = #filePath, line: UInt = #line, _ predicate: (String) -> Bool) -> String {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let text = stdout
            if predicate(text) { return text }
            if !process.isRunning {
                let text = stdout
                if predicate(text) { return text }
                XCTFail("process exited (\(process.terminationStatus)) before expected output; stdout: \(text) stderr: \(stderr)", file: file, line: line)
                return text
            }
            usleep(10_000)
        }
        XCTFail("timed out waiting for output; stdout: \(stdout) stderr: \(stderr)", file: file, line: line)
        return stdout
    }

    /// Waits until stderr satisfies `predicate`; returns whether it did within `timeout`.
    func waitForStderr(timeout: Double = 10, _ predicate: (String) -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if predicate(stderr) { return true }
            usleep(10_000)
        }
        return predicate(stderr)
    }

    /// The port from the first "... listening on HOST:PORT" line for `service` ("echo", "files").
    func listeningPort(service: String = "echo", timeout: Double = 10, file: StaticString = #filePath, line: UInt = #line) -> UInt16 {
        let text = waitForStdout(timeout: timeout, file: file, line: line) { $0.contains("\(service) server listening on ") }
        for row in text.split(separator: "\n") where row.hasPrefix("\(service) server listening on ") {
            if let port = row.split(separator: ":").last.flatMap({ UInt16($0) }) { return port }
        }
        XCTFail("no port in: \(text)", file: file, line: line)
        return 0
    }

    /// Waits for exit; returns the status, or nil (after killing it) when `timeout` passes first.
    @discardableResult
    func waitForExit(timeout: Double = 10) -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            return nil
        }
        return process.terminationStatus
    }

    func interrupt() {
        if process.isRunning { kill(process.processIdentifier, SIGINT) }
    }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }
}

/// Runs a program to completion with `input` on stdin; returns status, stdout and stderr.
func runToCompletion(executable: String = NetconsoleBinary.path, _ arguments: [String], input: Data = Data(),
                     timeout: Double = 30, currentDirectory: String? = nil) throws -> (status: Int32?, stdout: Data, stderr: String) {
    let running = try RunningProcess(executable: executable, arguments, currentDirectory: currentDirectory)
    if !input.isEmpty { running.writeToStdin(input) }
    running.closeStdin()
    let status = running.waitForExit(timeout: timeout)
    return (status, running.stdoutData, running.stderr)
}

/// A fresh temporary folder, removed when the test ends.
func makeTemporaryDirectory(_ testCase: XCTestCase) throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("netconsole-test-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    testCase.addTeardownBlock { try? FileManager.default.removeItem(at: url) }
    return url
}

/// The path of a program on PATH, or nil.
func which(_ program: String) -> String? {
    for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
        let candidate = "\(directory)/\(program)"
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
    }
    return nil
}

/// A port nothing listens on right now (the kernel's pick, released at once), for a peer program to listen on.
func freePort() throws -> UInt16 {
    let socket = try Socket.listening(on: SocketAddress.resolve(host: "127.0.0.1", port: 0)[0])
    defer { socket.close() }
    return try XCTUnwrap(socket.localAddress?.port)
}

/// Watches /proc/net/tcp for a listener on 127.0.0.1:`port`, without connecting to it (nc -l takes one client).
func waitUntilListening(port: UInt16, timeout: Double = 5) -> Bool {
    let needle = String(format: "0100007F:%04X 00000000:0000 0A", port)
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if let table = try? String(contentsOfFile: "/proc/net/tcp", encoding: .utf8), table.contains(needle) { return true }
        usleep(20_000)
    }
    return false
}

/// The next connection `listener` takes, waiting up to 10 s for it.
func acceptOne(_ listener: Socket) throws -> Socket {
    try listener.waitFor(events: Int16(POLLIN), timeoutMilliseconds: 10_000)
    return try XCTUnwrap(try listener.accept()).0
}
