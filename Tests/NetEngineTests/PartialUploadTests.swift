import Foundation
import NetEngine
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// Resumable uploads in the upload handler on an `EmbeddedConnection`, and the kept parts' store: real files, no socket.
final class PartialUploadTests: XCTestCase {
    private func makeFolder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("netconsole-partial-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    private func store(_ folder: URL, configure: (inout FileServerOptions) -> Void = { _ in }) -> UploadStore {
        var options = FileServerOptions(directory: folder.path, fsync: false)
        configure(&options)
        return UploadStore(options: options)
    }

    private func replies(_ embedded: EmbeddedConnection, until suffix: String) -> String {
        var text = ""
        embedded.runLoop { text += embedded.takeWrittenText(); return text.hasSuffix(suffix) }
        return text
    }

    private func parts(_ folder: URL) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder.appendingPathComponent(PartialUploads.folderName).path)) ?? []).sorted()
    }

    /// Blocks are preallocated ahead of the bytes, as much again as arrived: a header alone takes no disk, and a kept
    /// part gives back what was preallocated past its bytes (it holds its own bytes, not the declared size).
    func testPreallocationFollowsTheBytesAndAKeptPartHoldsOnlyItsOwn() throws {
        let folder = try makeFolder()
        let shared = store(folder)
        let size: Int64 = 256 << 20
        let header = FileTransferEncoder.treeHeader(path: "big.bin", size: size, kind: .resumableFile, identity: [3])
        let embedded = try EmbeddedConnection(handler: FileUploadHandler(store: shared))
        embedded.receive(header)
        XCTAssertEqual(replies(embedded, until: "\n"), "READY 0\n")
        func allocated() -> (size: Int64, bytes: Int64) {
            let dir = folder.appendingPathComponent(PartialUploads.folderName).path
            var best: (Int64, Int64) = (-1, -1)
            for name in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] where !name.hasSuffix(".meta") {
                var info = stat()
                if stat(dir + "/" + name, &info) == 0, Int64(info.st_size) >= best.0 { best = (Int64(info.st_size), Int64(info.st_blocks) * 512) }
            }
            return best
        }
        XCTAssertEqual(allocated().bytes, 0, "a header alone takes no disk: \(allocated())")
        embedded.receive([UInt8](repeating: 7, count: 2 << 20))
        let during = allocated()
        XCTAssertEqual(during.size, 2 << 20, "the size is what arrived")
        // Extended when half of the step ahead is used: between one and a half and twice what arrived.
        XCTAssertGreaterThanOrEqual(during.bytes, 3 << 20, "about as much again is preallocated: \(during)")
        XCTAssertLessThanOrEqual(during.bytes, 4 << 20, "and never more than twice what arrived: \(during)")
        embedded.receiveEnd()
        XCTAssertTrue(embedded.isClosed)
        let kept = allocated()
        XCTAssertEqual(kept.size, 2 << 20)
        XCTAssertLessThan(kept.bytes, 3 << 20, "the preallocation past the kept bytes was given back: \(kept)")
    }

    /// A server that stops (its connections closed under the upload) says the part is kept, as it does when the peer
    /// goes away; it said only "connection closed before the upload finished".
    func testAServerThatStopsSaysThePartIsKept() throws {
        let folder = try makeFolder()
        let header = FileTransferEncoder.treeHeader(path: "g.bin", size: 100, kind: .resumableFile, identity: [5])
        let embedded = try EmbeddedConnection(handler: FileUploadHandler(store: store(folder)))
        embedded.receive(header)
        XCTAssertEqual(replies(embedded, until: "\n"), "READY 0\n")
        embedded.receive([UInt8](repeating: 1, count: 40))
        embedded.connection.close()
        let reasons = embedded.events.compactMap { if case let .uploadRejected(_, reason) = $0 { return reason } else { return nil } }
        XCTAssertTrue(reasons.contains { $0.contains("g.bin: 40 bytes kept to resume") }, "\(reasons)")
        XCTAssertEqual(parts(folder).count, 2, "the part and its record")
    }

    /// A server killed mid-upload leaves its part with the blocks preallocated past its bytes; the next sweep gives
    /// them back and leaves the part, its bytes and its expiry as they were.
    func testTheSweepGivesBackWhatAKilledServerHadPreallocated() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/fallocate") else { throw XCTSkip("no fallocate(1)") }
        let folder = try makeFolder()
        let shared = store(folder)
        let header = FileTransferEncoder.treeHeader(path: "k.bin", size: 1000, kind: .resumableFile, identity: [9])
        let embedded = try EmbeddedConnection(handler: FileUploadHandler(store: shared))
        embedded.receive(header)
        XCTAssertEqual(replies(embedded, until: "\n"), "READY 0\n")
        embedded.receive([UInt8](repeating: 1, count: 300))
        embedded.receiveEnd()
        let dir = folder.appendingPathComponent(PartialUploads.folderName).path
        let part = try XCTUnwrap(parts(folder).first { $0.hasSuffix(".part") })
        // What a killed server leaves: 16 MiB preallocated past the part's 300 bytes.
        let fallocate = Process()
        fallocate.executableURL = URL(fileURLWithPath: "/usr/bin/fallocate")
        fallocate.arguments = ["-n", "-l", "16M", dir + "/" + part]
        try fallocate.run()
        fallocate.waitUntilExit()
        var before = stat()
        XCTAssertEqual(stat(dir + "/" + part, &before), 0)
        XCTAssertGreaterThan(Int64(before.st_blocks) * 512, 8 << 20)
        XCTAssertTrue(shared.partials.sweep(now: Date().timeIntervalSince1970).isEmpty, "a young part stays")
        var after = stat()
        XCTAssertEqual(stat(dir + "/" + part, &after), 0)
        XCTAssertEqual(after.st_size, 300)
        XCTAssertLessThan(Int64(after.st_blocks) * 512, 1 << 20, "the preallocation was given back")
        XCTAssertEqual(after.st_mtim.tv_sec, before.st_mtim.tv_sec, "its expiry did not move")
        XCTAssertEqual(after.st_mtim.tv_nsec, before.st_mtim.tv_nsec)
    }

    func testAnInterruptedUploadIsKeptAndContinuedWhereItStopped() throws {
        let folder = try makeFolder()
        let shared = store(folder)
        let payload = Array("the whole file, in two goes".utf8)
        let header = FileTransferEncoder.treeHeader(path: "notes.txt", size: Int64(payload.count), kind: .resumableFile, identity: [1, 2])

        var embedded = try EmbeddedConnection(handler: FileUploadHandler(store: shared))
        embedded.receive(header)
        XCTAssertEqual(replies(embedded, until: "\n"), "READY 0\n")
        embedded.receive(Array(payload[0..<10]))
        embedded.receiveEnd()
        XCTAssertTrue(embedded.isClosed)
        XCTAssertEqual(parts(folder).count, 2, "the part and its record: \(parts(folder))")

        embedded = try EmbeddedConnection(handler: FileUploadHandler(store: shared))
        embedded.receive(header)
        XCTAssertEqual(replies(embedded, until: "\n"), "READY 10\n")
        embedded.receive(Array(payload[10...]) + FileTransferEncoder.trailer(sha256: FileTransferEncoder.sha256(of: payload)))
        XCTAssertEqual(replies(embedded, until: "\n"), "OK notes.txt\n")
        XCTAssertEqual(try Data(contentsOf: folder.appendingPathComponent("notes.txt")), Data(payload))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path), ["notes.txt"], "no part left, no hidden folder")
    }

    func testAnotherIdentityOrACorruptedPartNeverSplices() throws {
        let folder = try makeFolder()
        let shared = store(folder)
        let payload = [UInt8](repeating: 5, count: 100)
        var embedded = try EmbeddedConnection(handler: FileUploadHandler(store: shared))
        embedded.receive(FileTransferEncoder.treeHeader(path: "f", size: 100, kind: .resumableFile, identity: [1]))
        _ = replies(embedded, until: "\n")
        embedded.receive(Array(payload[0..<40]))
        embedded.receiveEnd()

        // The same name and size from a changed file (another identity) starts from nothing.
        embedded = try EmbeddedConnection(handler: FileUploadHandler(store: shared))
        embedded.receive(FileTransferEncoder.treeHeader(path: "f", size: 100, kind: .resumableFile, identity: [2]))
        XCTAssertEqual(replies(embedded, until: "\n"), "READY 0\n")
        embedded.receiveEnd()

        // A part whose bytes were changed on disk is hashed again, so the upload fails its check instead of
        // splicing; and the part is removed, so the next attempt starts over.
        let part = try XCTUnwrap(parts(folder).first { $0.hasSuffix(".part") && (try? Data(contentsOf: folder.appendingPathComponent(PartialUploads.folderName).appendingPathComponent($0)))?.count == 40 })
        let partURL = folder.appendingPathComponent(PartialUploads.folderName).appendingPathComponent(part)
        try Data(repeating: 9, count: 40).write(to: partURL)
        embedded = try EmbeddedConnection(handler: FileUploadHandler(store: shared))
        embedded.receive(FileTransferEncoder.treeHeader(path: "f", size: 100, kind: .resumableFile, identity: [1]))
        XCTAssertEqual(replies(embedded, until: "\n"), "READY 40\n")
        embedded.receive(Array(payload[40...]) + FileTransferEncoder.trailer(sha256: FileTransferEncoder.sha256(of: payload)))
        XCTAssertTrue(replies(embedded, until: "\n").hasPrefix("ERR 422 checksum mismatch"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: partURL.path))
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder.appendingPathComponent("f").path))
    }

    func testCapsLeaveNoRoomToKeepAndOldPartsAreSwept() throws {
        let folder = try makeFolder()
        let small = store(folder) { $0.maxPartialBytesPerPeer = 50 }
        var embedded = try EmbeddedConnection(handler: FileUploadHandler(store: small))
        embedded.receive(FileTransferEncoder.treeHeader(path: "big", size: 60, kind: .resumableFile, identity: [1]))
        XCTAssertEqual(replies(embedded, until: "\n"), "READY 0\n", "still uploaded, just not kept")
        embedded.receive([UInt8](repeating: 1, count: 30))
        embedded.receiveEnd()
        XCTAssertEqual(parts(folder), [], "over the per-peer cap: nothing kept")

        embedded = try EmbeddedConnection(handler: FileUploadHandler(store: small))
        embedded.receive(FileTransferEncoder.treeHeader(path: "fits", size: 40, kind: .resumableFile, identity: [1]))
        _ = replies(embedded, until: "\n")
        embedded.receive([UInt8](repeating: 1, count: 30))
        embedded.receiveEnd()
        XCTAssertEqual(parts(folder).count, 2)
        XCTAssertEqual(small.partials.sweep(now: Date().timeIntervalSince1970).count, 0, "young parts stay")
        let swept = small.partials.sweep(now: Date().timeIntervalSince1970 + small.partials.keepFor + 1)
        XCTAssertEqual(swept.map(\.name), ["fits"])
        XCTAssertEqual(swept.map(\.bytes), [30])
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder.appendingPathComponent(PartialUploads.folderName).path))
    }

    func testAPartIsKeyedByPeerSoNoOneElseContinuesIt() {
        let key = { (peer: String) in PartialUploads.key(peer: peer, name: "f", size: 1, identity: [1], secret: nil) }
        XCTAssertNotEqual(key("10.0.0.1"), key("10.0.0.2"))
        XCTAssertNotEqual(PartialUploads.key(peer: "p", name: "f", size: 1, identity: [1], secret: [7]), key("p"), "the secret counts too")
        XCTAssertEqual(key("p"), key("p"))
    }
}
