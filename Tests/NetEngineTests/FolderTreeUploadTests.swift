import Crypto
import Foundation
import NetEngine
import NetText
import XCTest

/// Folder trees into the upload handler on an `EmbeddedConnection`: real folders and files, no socket.
final class FolderTreeUploadTests: XCTestCase {
    private func makeFolder(_ label: String = "tree") throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("netconsole-\(label)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    private func handler(_ folder: URL) -> FileUploadHandler {
        FileUploadHandler(store: UploadStore(options: FileServerOptions(directory: folder.path, maxSize: 1000, fsync: false)))
    }

    private func eager(_ path: String, _ payload: [UInt8]) -> [UInt8] {
        FileTransferEncoder.treeHeader(path: path, size: Int64(payload.count), kind: .eagerFile) + payload
            + FileTransferEncoder.trailer(sha256: FileTransferEncoder.sha256(of: payload))
    }

    private func folder(_ path: String) -> [UInt8] { FileTransferEncoder.treeHeader(path: path, size: 0, kind: .folder) }

    /// Feeds `bytes` and collects reply lines until `count` have come.
    private func replies(_ embedded: EmbeddedConnection, after bytes: [UInt8], count: Int) -> [String] {
        embedded.receive(bytes)
        var text = ""
        embedded.runLoop { text += embedded.takeWrittenText(); return text.split(separator: "\n").count >= count }
        return text.split(separator: "\n").map(String.init)
    }

    private func tree(_ root: URL) -> [String] {
        let enumerator = FileManager.default.enumerator(atPath: root.path)
        return ((enumerator?.allObjects as? [String]) ?? []).sorted()
    }

    /// A tree whose sender goes away before its end is still reported, as interrupted: a half folder is never left
    /// unsaid in the log.
    func testATreeCutShortIsReportedAsInterrupted() throws {
        let root = try makeFolder()
        let embedded = try EmbeddedConnection(handler: handler(root))
        _ = replies(embedded, after: folder("album") + eager("album/a.txt", Array("a".utf8)), count: 2)
        embedded.receiveEnd()
        let trees = embedded.events.compactMap { if case let .treeReceived(_, tree) = $0 { return tree } else { return nil } }
        XCTAssertEqual(trees.count, 1, "\(embedded.events)")
        XCTAssertEqual(trees.first?.files, 1)
        XCTAssertEqual(trees.first?.interrupted, true)
        XCTAssertEqual(trees.first?.isWhole, false)
        let line = EventLogFormatter.line(for: .treeReceived(id: 1, summary: trees[0]))
        XCTAssertTrue(line.contains("folder album is incomplete (the connection ended): 1 file, 1 folder"), line)
    }

    func testAPipelinedTreeIsRecreatedUnderAFreshTopFolderWithItsEmptyFolders() throws {
        let target = try makeFolder()
        try FileManager.default.createDirectory(at: target.appendingPathComponent("photos"), withIntermediateDirectories: false)
        let embedded = try EmbeddedConnection(handler: handler(target))
        let stream = folder("photos") + eager("photos/a.txt", Array("a".utf8)) + folder("photos/empty") + folder("photos/sub")
            + eager("photos/sub/b.txt", Array("bb".utf8)) + FileTransferEncoder.treeHeader(path: "photos", size: 1, kind: .end)
        // Everything at once, no READY awaited: six entries, six answers.
        let lines = replies(embedded, after: stream, count: 6)
        XCTAssertEqual(lines, ["OK photos (1)", "OK photos (1)/a.txt", "OK photos (1)/empty", "OK photos (1)/sub",
                               "OK photos (1)/sub/b.txt", "OK photos"])
        XCTAssertEqual(tree(target), ["photos", "photos (1)", "photos (1)/a.txt", "photos (1)/empty", "photos (1)/sub", "photos (1)/sub/b.txt"])
        XCTAssertEqual(try String(contentsOf: target.appendingPathComponent("photos (1)/sub/b.txt"), encoding: .utf8), "bb")
        let summary = embedded.events.compactMap { event -> String? in
            if case let .treeReceived(_, tree) = event {
                return "\(tree.top) \(tree.files) \(tree.folders) \(tree.bytes) \(tree.failed) \(tree.skipped)"
            }
            return nil
        }
        XCTAssertEqual(summary, ["photos (1) 2 3 3 0 1"])
    }

    func testTheTreesAnnouncedTotalIsReportedUnderItsSavedNameFirstAndLast() throws {
        let target = try makeFolder()
        try FileManager.default.createDirectory(at: target.appendingPathComponent("photos"), withIntermediateDirectories: false)
        let embedded = try EmbeddedConnection(handler: handler(target))
        // The sender says 5 files; 1 comes. Shown, never trusted: nothing is refused or waited for.
        let total = TreeTotal(files: 5, bytes: 5000)
        let stream = FileTransferEncoder.treeHeader(path: "photos", size: 0, kind: .folder, total: total) + eager("photos/a.txt", [1])
            + FileTransferEncoder.treeHeader(path: "photos", size: 0, kind: .end)
        XCTAssertEqual(replies(embedded, after: stream, count: 3), ["OK photos (1)", "OK photos (1)/a.txt", "OK photos"])
        let trees = embedded.events.compactMap { event -> String? in
            switch event {
            case let .treeStarted(_, tree): return "started \(tree.top) \(tree.files) of \(tree.announced?.files ?? -1)"
            case let .treeReceived(_, tree): return "received \(tree.top) \(tree.files) of \(tree.announced?.files ?? -1)"
            default: return nil
            }
        }
        XCTAssertEqual(trees, ["started photos (1) 0 of 5", "received photos (1) 1 of 5"])
    }

    func testEscapesAreRefusedAndTheTreeGoesOn() throws {
        let target = try makeFolder()
        let outside = try makeFolder("outside")
        let embedded = try EmbeddedConnection(handler: handler(target))
        let stream = folder("t") + eager("t/../../escape.txt", [1]) + eager("/etc/passwd", [2]) + folder("t/..")
            + eager("t/ok.txt", [3])
        let lines = replies(embedded, after: stream, count: 5)
        XCTAssertEqual(lines.count, 5, "\(lines)")
        XCTAssertEqual(lines[0], "OK t")
        XCTAssertTrue(lines[1].hasPrefix("ERR 403 ") && lines[1].contains(".."), lines[1])
        XCTAssertTrue(lines[2].hasPrefix("ERR 403 ") && lines[2].contains("absolute"), lines[2])
        XCTAssertTrue(lines[3].hasPrefix("ERR 403 "), lines[3])
        XCTAssertEqual(lines[4], "OK t/ok.txt", "a refused eager entry is drained, so the stream stays in step")
        XCTAssertEqual(tree(target), ["t", "t/ok.txt"])
        XCTAssertEqual(tree(outside), [])
    }

    func testALinkInTheFolderIsNeverFollowed() throws {
        let target = try makeFolder()
        let outside = try makeFolder("outside")
        // A link where a top folder would go gets the keep-both treatment; one below it is refused, not followed.
        try FileManager.default.createSymbolicLink(atPath: target.appendingPathComponent("t").path, withDestinationPath: outside.path)
        let embedded = try EmbeddedConnection(handler: handler(target))
        var lines = replies(embedded, after: folder("t") + eager("t/a.txt", [1]), count: 2)
        XCTAssertEqual(lines, ["OK t (1)", "OK t (1)/a.txt"])
        try FileManager.default.createSymbolicLink(atPath: target.appendingPathComponent("t (1)/sub").path, withDestinationPath: outside.path)
        lines = replies(embedded, after: folder("t/sub") + eager("t/sub/x.txt", [2]), count: 2)
        XCTAssertTrue(lines[0].hasPrefix("ERR 403 t (1)/sub is a link or a file, not a folder"), "\(lines)")
        XCTAssertTrue(lines[1].hasPrefix("ERR 403 "), "\(lines)")
        XCTAssertEqual(tree(outside), [], "nothing written through the link")
    }

    func testAnEagerEntryOverTheLimitIsDrainedAndRefusedAndAHugeOneEndsTheConnection() throws {
        let target = try makeFolder()
        let embedded = try EmbeddedConnection(handler: handler(target))
        let big = [UInt8](repeating: 1, count: 1001)
        let lines = replies(embedded, after: folder("t") + eager("t/big.bin", big) + eager("t/small.bin", [1]), count: 3)
        XCTAssertEqual(lines[0], "OK t")
        XCTAssertTrue(lines[1].hasPrefix("ERR 413 "), lines[1])
        XCTAssertEqual(lines[2], "OK t/small.bin")
        let huge = FileTransferEncoder.treeHeader(path: "t/huge", size: FileServerMachine.maxEagerSize + 1, kind: .eagerFile)
        let last = replies(embedded, after: huge, count: 1)
        XCTAssertTrue(last.first?.hasPrefix("ERR 400 ") ?? false, "\(last)")
        XCTAssertTrue(embedded.isClosed)
    }

    func testFoldersPerConnectionAreBounded() throws {
        let target = try makeFolder()
        let store = UploadStore(options: FileServerOptions(directory: target.path, fsync: false))
        let folders = UploadFolders(store: store, maxFolders: 3)
        XCTAssertNoThrow(try folders.folder(["a", "b", "c"]))
        XCTAssertThrowsError(try folders.folder(["a", "b", "d"])) { XCTAssertEqual(($0 as? FileTransferError)?.code, 403) }
        XCTAssertNoThrow(try folders.folder(["a", "b"]), "what exists can still be used")
        XCTAssertEqual(folders.foldersMade, 3)
    }
}
