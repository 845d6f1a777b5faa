import Crypto
import Foundation
@testable import NetEngine
import XCTest

/// A file the kernel sends itself is hashed where it lies, through a mapping; a file that shrinks meanwhile must fail
/// the send, never kill the process (touching a mapped page past the end of a file raises SIGBUS).
final class FileSourceMappingTests: XCTestCase {
    private func file(_ bytes: [UInt8]) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("mapped-\(UUID().uuidString)")
        try Data(bytes).write(to: url)
        return url
    }

    func testHashingInPlaceGivesTheSameDigestAsReading() throws {
        let bytes = [UInt8](try XCTUnwrap(FileHandle(forReadingAtPath: "/dev/urandom")).readData(ofLength: 3 << 20 | 123))
        let url = try file(bytes)
        defer { try? FileManager.default.removeItem(at: url) }
        let source = FileSource(path: url.path)
        try source.open()
        // Odd sizes, so that windows start inside a page.
        for count in [1000, 1 << 20, 4097, 3 << 20] {
            guard let result = source.hashInPlace(count: count) else { return XCTFail("a plain file maps") }
            _ = try result.get()
        }
        XCTAssertTrue(source.isComplete)
        XCTAssertEqual(try source.finish().get(), Array(SHA256.hash(data: bytes)))
    }

    func testAFileThatShrinksUnderTheMappingFailsTheSendAndTheProcessLives() throws {
        let url = try file([UInt8](repeating: 9, count: 4 << 20))
        defer { try? FileManager.default.removeItem(at: url) }
        let source = FileSource(path: url.path)
        try source.open()
        _ = try XCTUnwrap(source.hashInPlace(count: 1 << 20)).get()
        // Someone truncates the file while it is being sent: the next pages are gone.
        XCTAssertEqual(truncate(url.path, 1 << 20 | 100), 0)
        let result = try XCTUnwrap(source.hashInPlace(count: 2 << 20))
        guard case let .failure(error) = result else { return XCTFail("hashing pages that are gone must fail") }
        XCTAssertTrue(error.message.contains("shrank while being sent"), error.message)
        // The guard is per range: a later, intact mapping works.
        let other = try file([1, 2, 3])
        defer { try? FileManager.default.removeItem(at: other) }
        let again = FileSource(path: other.path)
        try again.open()
        XCTAssertEqual(try XCTUnwrap(again.hashInPlace(count: 3)).get(), 3)
    }

    /// A file changed in place half way is given up within 16 MiB of the change, not after all of it was sent.
    func testAFileChangedHalfWayIsGivenUpSoon() throws {
        let url = try file([UInt8](repeating: 3, count: 48 << 20))
        defer { try? FileManager.default.removeItem(at: url) }
        let source = FileSource(path: url.path)
        try source.open()
        for _ in 0..<17 { _ = try XCTUnwrap(source.hashInPlace(count: 1 << 20)).get() }
        let handle = try FileHandle(forWritingTo: url)
        try handle.seek(toOffset: 30 << 20)
        try handle.write(contentsOf: [9])
        try handle.close()
        var failure: FileSendError?
        var read = 17
        while failure == nil, read < 48 {
            if case let .failure(error) = try XCTUnwrap(source.hashInPlace(count: 1 << 20)) { failure = error }
            read += 1
        }
        XCTAssertLessThanOrEqual(read, 33, "given up at the next check, 16 MiB on")
        XCTAssertTrue(failure?.message.contains("changed while it was being sent (it was modified)") ?? false, "\(String(describing: failure))")
    }
}
