import Foundation
import NetEngine
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// Interrupted uploads resumed (`send` killed with SIGKILL, the server killed and restarted), changed sources
/// started over, and expired parts removed, with the real binaries and real files.
final class ResumeCommandTests: XCTestCase {
    override func setUp() { ignoreBrokenPipeSignal() }

    private func startServer(_ folder: URL, _ extra: [String] = []) throws -> (RunningProcess, UInt16) {
        let server = try RunningProcess(["serve", "--files", folder.path, "--port", "0", "--no-byte-log", "--no-fsync"] + extra)
        addTeardownBlock { server.interrupt(); server.waitForExit() }
        return (server, server.listeningPort(service: "files"))
    }

    /// `size` bytes of random data in a file of its own.
    private func randomFile(_ folder: URL, _ name: String, size: Int) throws -> URL {
        let url = folder.appendingPathComponent(name)
        XCTAssertTrue(FileManager.default.createFile(atPath: url.path, contents: nil))
        let out = try FileHandle(forWritingTo: url)
        let source = try XCTUnwrap(FileHandle(forReadingAtPath: "/dev/urandom"))
        var left = size
        while left > 0 {
            let chunk = source.readData(ofLength: min(left, 8 << 20))
            out.write(chunk)
            left -= chunk.count
        }
        try out.close()
        try source.close()
        return url
    }

    /// Bytes the server keeps in parts right now.
    private func keptBytes(_ target: URL) -> Int {
        let folder = target.appendingPathComponent(PartialUploads.folderName)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names.filter { $0.hasSuffix(".part") }.reduce(0) { total, name in
            let size = (try? FileManager.default.attributesOfItem(atPath: folder.appendingPathComponent(name).path)[.size]) as? Int
            return total + (size ?? 0)
        }
    }

    /// The bytes the server received on its last closed connection (from its log).
    private func lastBytesIn(_ log: String) -> Int? {
        log.split(separator: "\n").last { $0.contains(" closed, ") && $0.contains(" bytes in") }
            .flatMap { line in line.split(separator: ",").dropFirst().first?.split(separator: " ").first.flatMap { Int($0) } }
    }

    private func waitUntil(timeout: Double = 20, _ condition: () -> Bool) -> Bool {
        let end = Date().addingTimeInterval(timeout)
        while Date() < end {
            if condition() { return true }
            usleep(10_000)
        }
        return condition()
    }

    /// Starts a throttled `send` of `file` and kills it with SIGKILL once the server keeps at least `atLeast` bytes.
    private func sendAndKill(_ file: URL, port: UInt16, target: URL, atLeast: Int) throws {
        let sender = try RunningProcess(["send", file.path, "--limit-rate", "100M", "--to", "127.0.0.1:\(port)"])
        XCTAssertTrue(waitUntil { keptBytes(target) >= atLeast }, "the upload got going: \(sender.stderr)")
        kill(sender.process.processIdentifier, SIGKILL)
        sender.waitForExit()
    }

    func testKillingTheSenderHalfWaySendsOnlyTheRestTheSecondTime() throws {
        let source = try makeTemporaryDirectory(self)
        let target = try makeTemporaryDirectory(self)
        let size = 200 << 20
        let file = try randomFile(source, "big.bin", size: size)
        let (server, port) = try startServer(target)

        try sendAndKill(file, port: port, target: target, atLeast: size / 2)
        XCTAssertTrue(server.waitForStderr { $0.contains("bytes kept to resume") }, server.stderr)
        let kept = keptBytes(target)
        XCTAssertGreaterThanOrEqual(kept, size / 2)
        XCTAssertLessThan(kept, size)

        let again = try runToCompletion(["send", file.path, "--to", "127.0.0.1:\(port)"], timeout: 60)
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertTrue(again.stderr.contains("big.bin: resuming at "), again.stderr)
        XCTAssertTrue(server.waitForStderr { $0.components(separatedBy: " closed, ").count == 3 }, server.stderr)
        let crossed = try XCTUnwrap(lastBytesIn(server.stderr))
        XCTAssertGreaterThanOrEqual(crossed, size - kept, "the rest crossed the wire")
        XCTAssertLessThan(crossed, size - kept + 4096, "and only the rest (plus a header and a trailer)")
        XCTAssertTrue(FileManager.default.contentsEqual(atPath: file.path, andPath: target.appendingPathComponent("big.bin").path))
        XCTAssertEqual((try? FileManager.default.contentsOfDirectory(atPath: target.path)) ?? [], ["big.bin"], "nothing kept any more")
    }

    func testAServerKilledAndRestartedStillHasThePart() throws {
        let source = try makeTemporaryDirectory(self)
        let target = try makeTemporaryDirectory(self)
        let size = 200 << 20
        let file = try randomFile(source, "big.bin", size: size)
        var (server, port) = try startServer(target)

        let sender = try RunningProcess(["send", file.path, "--limit-rate", "100M", "--to", "127.0.0.1:\(port)"])
        XCTAssertTrue(waitUntil { keptBytes(target) >= size / 3 }, sender.stderr)
        kill(server.process.processIdentifier, SIGKILL)
        XCTAssertEqual(sender.waitForExit(timeout: 20), 1, "the sender saw the server go")
        let kept = keptBytes(target)
        XCTAssertGreaterThanOrEqual(kept, size / 3)

        (server, port) = try startServer(target)
        let again = try runToCompletion(["send", file.path, "--to", "127.0.0.1:\(port)"], timeout: 60)
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertTrue(again.stderr.contains("resuming at"), again.stderr)
        XCTAssertTrue(server.waitForStderr { $0.contains(" closed, ") }, server.stderr)
        let crossed = try XCTUnwrap(lastBytesIn(server.stderr))
        XCTAssertLessThan(crossed, size - kept + 4096)
        XCTAssertTrue(FileManager.default.contentsEqual(atPath: file.path, andPath: target.appendingPathComponent("big.bin").path))
    }

    func testAChangedSourceStartsOverAndAnExpiredPartIsRemoved() throws {
        let source = try makeTemporaryDirectory(self)
        let target = try makeTemporaryDirectory(self)
        let size = 48 << 20
        let file = try randomFile(source, "data.bin", size: size)
        var (server, port) = try startServer(target)
        try sendAndKill(file, port: port, target: target, atLeast: size / 4)
        XCTAssertTrue(server.waitForStderr { $0.contains("bytes kept to resume") }, server.stderr)
        let oldPart = keptBytes(target)

        // Same bytes, another modification time: another identity, so the kept part must not be continued.
        var times = [timespec(tv_sec: 1_000_000_000, tv_nsec: 0), timespec(tv_sec: 1_000_000_000, tv_nsec: 0)]
        XCTAssertEqual(utimensat(AT_FDCWD, file.path, &times, 0), 0)
        let fresh = try runToCompletion(["send", file.path, "--to", "127.0.0.1:\(port)"], timeout: 60)
        XCTAssertEqual(fresh.status, 0, fresh.stderr)
        XCTAssertFalse(fresh.stderr.contains("resuming"), fresh.stderr)
        XCTAssertTrue(server.waitForStderr { $0.components(separatedBy: " closed, ").count == 3 }, server.stderr)
        XCTAssertGreaterThanOrEqual(try XCTUnwrap(lastBytesIn(server.stderr)), size, "all of it again")
        XCTAssertTrue(FileManager.default.contentsEqual(atPath: file.path, andPath: target.appendingPathComponent("data.bin").path))
        XCTAssertEqual(keptBytes(target), oldPart, "the old part is still there, unused")

        server.interrupt()
        XCTAssertEqual(server.waitForExit(), 0, server.stderr)
        usleep(1_200_000)
        (server, port) = try startServer(target, ["--keep-partial", "1s"])
        XCTAssertTrue(server.waitForStderr { $0.contains("removed the kept part of data.bin (\(oldPart) bytes): not resumed within 1 s") },
                      server.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: target.appendingPathComponent(PartialUploads.folderName).path))
        _ = port
    }
}
