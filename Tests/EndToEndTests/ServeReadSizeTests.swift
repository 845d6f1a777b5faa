import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// `serve --read-size N`: how many bytes each recv asks for, as the per-read log lines show.
final class ServeReadSizeTests: XCTestCase {
    /// The counts of the server's "#ID received N bytes" log lines.
    private func readCounts(_ log: String) -> [Int] {
        log.split(separator: "\n").compactMap { line in
            guard let range = line.range(of: " received "), line.hasSuffix(" bytes") else { return nil }
            return Int(line[range.upperBound...].dropLast(" bytes".count))
        }
    }

    /// Echoes one line of `length` bytes (newline included) through `serve ARGS`; returns the server's log.
    private func echoOneLine(length: Int, _ arguments: [String]) throws -> String {
        let server = try RunningProcess(["serve", "--port", "0", "--byte-log"] + arguments)
        let port = server.listeningPort()
        let line = String(repeating: "x", count: length - 1) + "\n"
        let result = try runToCompletion(["echo", "127.0.0.1:\(port)"], input: Data(line.utf8))
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(String(decoding: result.stdout, as: UTF8.self), line)
        XCTAssertTrue(server.waitForStderr { $0.contains("closed, \(length) bytes in") }, server.stderr)
        server.interrupt()
        XCTAssertEqual(server.waitForExit(), 0)
        return server.stderr
    }

    func testLabBlocksOf1024BytesShowInTheLog() throws {
        let counts = readCounts(try echoOneLine(length: 3001, ["--read-size", "1024"]))
        XCTAssertEqual(counts.reduce(0, +), 3001, "\(counts)")
        XCTAssertTrue(counts.allSatisfy { $0 <= 1024 }, "a read larger than --read-size: \(counts)")
        XCTAssertTrue(counts.contains(1024), "\(counts)")
    }

    func testAnOddReadSizeIsHonoured() throws {
        let counts = readCounts(try echoOneLine(length: 50, ["--read-size", "7"]))
        XCTAssertEqual(counts.reduce(0, +), 50, "\(counts)")
        XCTAssertTrue(counts.allSatisfy { $0 <= 7 }, "\(counts)")
        XCTAssertGreaterThanOrEqual(counts.count, 8, "\(counts)")
    }

    func testDefaultReadSizeTakesMoreThanALabBlockAtOnce() throws {
        let counts = readCounts(try echoOneLine(length: 3001, []))
        XCTAssertEqual(counts.reduce(0, +), 3001, "\(counts)")
        XCTAssertTrue(counts.contains { $0 > 1024 }, "the default read is 64 KiB: \(counts)")
    }

    func testRawUploadInLabBlocksArrivesWhole() throws {
        let folder = try makeTemporaryDirectory(self)
        let source = folder.appendingPathComponent("source.bin")
        let payload = Data((0..<10_000).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        try payload.write(to: source)
        let target = folder.appendingPathComponent("uploads")
        let server = try RunningProcess(["serve", "--files", target.path, "--raw", "--port", "0", "--read-size", "1024", "--byte-log"])
        defer { server.interrupt(); server.waitForExit() }
        let port = server.listeningPort(service: "files")
        let result = try runToCompletion(["send", "--raw", source.path, "--to", "127.0.0.1:\(port)"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let saved = try FileManager.default.contentsOfDirectory(atPath: target.path).filter { !$0.hasPrefix(".") }
        XCTAssertEqual(saved.count, 1, "\(saved)")
        XCTAssertEqual(try Data(contentsOf: target.appendingPathComponent(saved.first ?? "")), payload)
        XCTAssertTrue(server.waitForStderr { $0.contains("closed, 10000 bytes in") }, server.stderr)
        let counts = readCounts(server.stderr)
        XCTAssertEqual(counts.reduce(0, +), payload.count, "\(counts)")
        XCTAssertTrue(counts.allSatisfy { $0 <= 1024 }, "\(counts)")
    }

    func testReadSizeOutsideOneByteToOneMebibyteIsRefused() throws {
        for value in ["0", "-1", "1048577"] {
            let result = try runToCompletion(["serve", "--port", "0", "--read-size=\(value)"])
            XCTAssertNotEqual(result.status, 0, value)
            XCTAssertTrue(result.stderr.contains("--read-size must be from 1 to 1048576 bytes (1 MiB)"), "\(value): \(result.stderr)")
        }
        let largest = try RunningProcess(["serve", "--port", "0", "--read-size", "1048576"])
        _ = largest.listeningPort()
        largest.interrupt()
        XCTAssertEqual(largest.waitForExit(), 0, largest.stderr)
    }
}
