import Crypto
import Foundation
import NetEngine
import XCTest

/// The file client handlers with no socket and no server: what they write goes to an `EmbeddedConnection`, the
/// server's answers are fed in by hand.
final class FileClientHandlerTests: XCTestCase {
    private func makeFolder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("netconsole-client-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    private func write(_ bytes: [UInt8], in folder: URL, as name: String) throws -> String {
        let url = folder.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url.path
    }

    private final class Record {
        var events: [FileSendEvent] = []
        var end: (failure: String?, allConfirmed: Bool)?
        var rawEnd: RawFileSendHandler.Outcome?
        var confirmed: [String] {
            events.compactMap { if case let .fileConfirmed(_, name, _) = $0 { return name } else { return nil } }
        }
    }

    private func framed(_ paths: [String], record: Record) -> FileClientHandler {
        FileClientHandler(files: paths, names: paths.map { URL(fileURLWithPath: $0).lastPathComponent },
                          settings: FileClientMachine.Settings(), onEvent: { record.events.append($0) },
                          onEnd: { record.end = ($0, $1) })
    }

    func testTwoFilesGoHeaderPayloadTrailerEachAfterItsReady() throws {
        let folder = try makeFolder()
        let first = Array("first file".utf8)
        let paths = [try write(first, in: folder, as: "one.txt"), try write([], in: folder, as: "empty")]
        let record = Record()
        let embedded = try EmbeddedConnection(handler: framed(paths, record: record))
        XCTAssertEqual(embedded.takeWritten(), FileTransferEncoder.header(name: "one.txt", size: Int64(first.count)),
                       "the header, and nothing more before READY")
        embedded.receive("READY\n")
        XCTAssertEqual(embedded.takeWritten(), first + FileTransferEncoder.trailer(sha256: FileTransferEncoder.sha256(of: first)))
        embedded.receive("OK one.txt\n")
        XCTAssertEqual(embedded.takeWritten(), FileTransferEncoder.header(name: "empty", size: 0))
        embedded.receive("READY\n")
        XCTAssertEqual(embedded.takeWritten(), FileTransferEncoder.trailer(sha256: FileTransferEncoder.sha256(of: [])))
        XCTAssertNil(record.end)
        embedded.receive("OK empty (1)\n")
        XCTAssertEqual(record.confirmed, ["one.txt", "empty (1)"])
        XCTAssertTrue(record.end.map { $0.failure == nil && $0.allConfirmed } ?? false, "\(String(describing: record.end))")
        XCTAssertTrue(embedded.isClosed)
        XCTAssertTrue(embedded.connection.isWriteShutDown, "a FIN ends the session between files")
    }

    /// The file is sent only as fast as the peer reads: at most one block waits in the connection's output, and the
    /// rest follows when the output drains (`connectionDrained`), not before.
    func testBlocksFollowOnlyWhenTheOutputDrains() throws {
        let folder = try makeFolder()
        let payload = randomBytes(count: 3 << 20, seed: 9)
        let path = try write(payload, in: folder, as: "big.bin")
        let record = Record()
        let embedded = try EmbeddedConnection(handler: framed([path], record: record))
        _ = embedded.takeWritten()
        embedded.setPeerReadCapacity(100_000)
        embedded.receive("READY\n")
        var received = embedded.takeWritten()
        XCTAssertEqual(received.count, 100_000)
        XCTAssertLessThanOrEqual(embedded.connection.pendingOutputCount, FileSender.blockSize, "one block waits, not the file")
        for _ in 0..<5 {
            embedded.setPeerReadCapacity(300_000)
            received += embedded.takeWritten()
        }
        XCTAssertEqual(received.count, 1_600_000, "each drain brought the next blocks")
        embedded.setPeerReadCapacity(Int.max)
        XCTAssertTrue(embedded.runLoop { received += embedded.takeWritten(); return received.count == payload.count + 36 })
        XCTAssertTrue(Array(received.prefix(payload.count)) == payload)
        let progress = record.events.compactMap { if case let .progress(_, sent, _) = $0 { return sent } else { return nil } }
        XCTAssertEqual(progress.last, Int64(payload.count))
        XCTAssertEqual(progress, progress.sorted(), "progress only grows")
        XCTAssertTrue(progress.allSatisfy { $0 <= Int64(received.count) }, "progress counts what the peer took")
    }

    func testARefusalMovesOnAndAClosingCodeEnds() throws {
        let folder = try makeFolder()
        let paths = try ["a", "b", "c"].map { try write([1, 2, 3], in: folder, as: $0) }
        let record = Record()
        let embedded = try EmbeddedConnection(handler: framed(paths, record: record))
        _ = embedded.takeWritten()
        embedded.receive("ERR 413 a is too large\n")
        XCTAssertEqual(embedded.takeWritten(), FileTransferEncoder.header(name: "b", size: 3), "no payload for the refused file")
        embedded.receive("ERR 401 wrong secret\n")
        XCTAssertEqual(record.end?.failure, "the server ended the session: 401 wrong secret")
        XCTAssertEqual(record.end?.allConfirmed, false)
        XCTAssertTrue(embedded.isClosed)
        let refusals = record.events.compactMap { if case let .fileRefused(index, reason) = $0 { return "\(index) \(reason)" } else { return nil } }
        XCTAssertEqual(refusals, ["0 413 a is too large", "1 401 wrong secret"])
    }

    func testSilenceAfterTheFirstHeaderResetsTheConnection() throws {
        let folder = try makeFolder()
        let record = Record()
        let embedded = try EmbeddedConnection(handler: framed([try write([1], in: folder, as: "f")], record: record))
        XCTAssertTrue(embedded.deadlineReason?.contains("it is not a netconsole file server (for netcat, socat or a raw file server use --raw), or it is stalled") ?? false)
        embedded.passDeadline()
        XCTAssertTrue(embedded.wasReset, "a raw server must discard the header, not save it")
        XCTAssertTrue(record.end?.failure?.contains("use --raw") ?? false)
    }

    func testCancelStopsEverythingAtOnce() throws {
        let folder = try makeFolder()
        let record = Record()
        let handler = framed([try write(randomBytes(count: 1 << 20, seed: 1), in: folder, as: "f")], record: record)
        let embedded = try EmbeddedConnection(handler: handler)
        embedded.setPeerReadCapacity(1000)
        embedded.receive("READY\n")
        handler.cancel()
        XCTAssertTrue(embedded.isClosed)
        XCTAssertEqual(record.end?.failure, "cancelled")
        let count = record.events.count
        embedded.setPeerReadCapacity(Int.max)
        XCTAssertEqual(record.events.count, count, "nothing reported after the end")
    }

    // MARK: Raw

    private func raw(_ path: String, record: Record) -> RawFileSendHandler {
        RawFileSendHandler(index: 0, path: path, replyTimeout: 60, onEvent: { record.events.append($0) }, onEnd: { record.rawEnd = $0 })
    }

    func testARawSendIsTheBytesAHalfCloseAndThePeersVerdict() throws {
        let folder = try makeFolder()
        let payload = randomBytes(count: 300_000, seed: 4)
        let record = Record()
        let embedded = try EmbeddedConnection(handler: raw(try write(payload, in: folder, as: "r.bin"), record: record))
        var received: [UInt8] = []
        XCTAssertTrue(embedded.runLoop { received += embedded.takeWritten(); return embedded.connection.isWriteShutDown })
        XCTAssertTrue(received == payload, "just the bytes: no header, no trailer")
        XCTAssertNil(record.rawEnd, "waits for the peer to close")
        embedded.receive("OK upload-20260101-000000\n")
        embedded.receiveEnd()
        XCTAssertEqual(record.rawEnd, .done)
        XCTAssertEqual(record.confirmed, ["upload-20260101-000000"])
        let digest = record.events.compactMap { if case let .fileConfirmed(_, _, sha) = $0 { return sha } else { return nil } }.first
        XCTAssertEqual(digest, hexString(SHA256.hash(data: payload)))
    }

    func testARawSendThatFailsPartWayResetsSoNothingIsSaved() throws {
        let folder = try makeFolder()
        let record = Record()
        // Larger than one turn's share, so it is still streaming when cancelled.
        let handler = raw(try write(randomBytes(count: 6 << 20, seed: 5), in: folder, as: "r.bin"), record: record)
        let embedded = try EmbeddedConnection(handler: handler)
        embedded.setPeerReadCapacity(10)
        handler.cancel()
        XCTAssertTrue(embedded.wasReset)
        XCTAssertEqual(record.rawEnd, .failed("cancelled"))
    }

    func testARawPeersRefusalEndsThatFileOnly() throws {
        let folder = try makeFolder()
        let record = Record()
        let embedded = try EmbeddedConnection(handler: raw(try write([1, 2], in: folder, as: "r.bin"), record: record))
        embedded.receive("ERR 413 too large\n")
        XCTAssertEqual(record.rawEnd, .done)
        XCTAssertTrue(embedded.isClosed)
        XCTAssertFalse(embedded.wasReset)
    }
}
