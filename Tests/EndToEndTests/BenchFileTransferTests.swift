import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// What the file benchmarks rely on: `netconsole send` finishes files whose size is a multiple of its per-turn
/// budget (4 MiB), which used to stall when a turn ended exactly at the end of the file.
final class BenchFileTransferTests: XCTestCase {
    func testFilesThatAreWholeMultiplesOfTheSendBudgetArrive() throws {
        let folder = try makeTemporaryDirectory(self)
        let received = folder.appendingPathComponent("received")
        let source = folder.appendingPathComponent("eight-mib.bin")
        var bytes = [UInt8](repeating: 0, count: 8 * 1024 * 1024)
        var state: UInt32 = 2_463_534_242
        for index in bytes.indices {
            state ^= state << 13; state ^= state >> 17; state ^= state << 5
            bytes[index] = UInt8(truncatingIfNeeded: state)
        }
        try Data(bytes).write(to: source)
        let server = try RunningProcess(["serve", "--files", received.path, "--no-fsync", "--port", "0", "--quiet"])
        let port = server.listeningPort(service: "files")
        defer { server.interrupt() }
        for round in 1...4 {
            let result = try runToCompletion(["send", source.path, "--to", "127.0.0.1:\(port)", "--timeout", "3"], timeout: 20)
            XCTAssertEqual(result.status, 0, "round \(round): \(result.stderr)")
        }
        let saved = try FileManager.default.contentsOfDirectory(atPath: received.path).filter { !$0.hasPrefix(".") }
        XCTAssertEqual(saved.count, 4, "\(saved)")
        for name in saved {
            XCTAssertEqual(try Data(contentsOf: received.appendingPathComponent(name)), Data(bytes), name)
        }
    }
}
