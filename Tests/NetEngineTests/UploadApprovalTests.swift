import Foundation
import NetEngine
import XCTest

/// `--ask`: a framed upload waits after its header, before any payload byte is stored, for a yes or a no.
final class UploadApprovalTests: XCTestCase {
    private var asked: [(UploadRequest, UploadDecision)] = []

    private func makeStore(timeout: Double = 60) throws -> (UploadStore, URL) {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("netconsole-ask-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        var options = FileServerOptions(directory: url.path, fsync: false)
        options.approval = UploadApproval { [unowned self] request, decision in asked.append((request, decision)) }
        options.approvalTimeout = timeout
        return (UploadStore(options: options), url)
    }

    private func upload(_ name: String, _ payload: String) -> (header: [UInt8], rest: [UInt8]) {
        let bytes = Array(payload.utf8)
        return (FileTransferEncoder.header(name: name, size: Int64(bytes.count)), bytes + FileTransferEncoder.trailer(sha256: FileTransferEncoder.sha256(of: bytes)))
    }

    private func files(_ url: URL) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []).sorted()
    }

    func testAnUploadWaitsForAYesAndThenGoesOn() throws {
        let (store, folder) = try makeStore()
        let embedded = try EmbeddedConnection(handler: FramedOrRawUploadHandler(store: store))
        let file = upload("notes.txt", "hello")
        // A client that does not wait for READY: the payload in the same read must not be stored before the yes.
        embedded.receive(file.header + file.rest)
        XCTAssertEqual(embedded.takeWrittenText(), "WAIT 60 asking whether to accept notes.txt\n")
        XCTAssertEqual(asked.count, 1)
        XCTAssertEqual(asked[0].0.name, "notes.txt")
        XCTAssertEqual(asked[0].0.size, 5)
        XCTAssertEqual(asked[0].0.peer.host, "127.0.0.1")
        XCTAssertEqual(files(folder), [], "nothing stored while the question is open")
        let second = upload("second.txt", "again")
        embedded.receive(second.header)
        XCTAssertEqual(embedded.connection.bytesIn, file.header.count + file.rest.count, "reading paused: the next header waits in the kernel")

        asked[0].1.accept()
        var written = ""
        // The publish runs on the disk pool; its answer, and reading the next header, come back on the loop.
        embedded.runLoop {
            written += embedded.takeWrittenText()
            return self.asked.count == 2
        }
        XCTAssertEqual(written, "READY\nOK notes.txt\nWAIT 60 asking whether to accept second.txt\n")
        XCTAssertEqual(files(folder), ["notes.txt"])
        XCTAssertEqual(try String(contentsOf: folder.appendingPathComponent("notes.txt"), encoding: .utf8), "hello")
        XCTAssertEqual(asked.count, 2, "then the next header is read and asked about")
        asked[0].1.refuse()
        XCTAssertFalse(embedded.isClosed, "a late answer changes nothing")
        XCTAssertEqual(files(folder), ["notes.txt"])
    }

    func testANoRefusesTheUploadAndKeepsTheConnection() throws {
        let (store, folder) = try makeStore()
        let embedded = try EmbeddedConnection(handler: FramedOrRawUploadHandler(store: store))
        let file = upload("virus.exe", "MZ")
        embedded.receive(file.header)
        _ = embedded.takeWritten()
        asked[0].1.refuse()
        XCTAssertEqual(embedded.takeWrittenText(), "ERR 403 virus.exe refused by the server's operator\n")
        XCTAssertTrue(embedded.events.contains { if case .uploadRejected(_, let reason) = $0 { return reason.hasPrefix("403 ") } else { return false } })
        XCTAssertFalse(embedded.isClosed, "the client may send another file")
        let next = upload("ok.txt", "fine")
        embedded.receive(next.header)
        XCTAssertEqual(embedded.takeWrittenText(), "WAIT 60 asking whether to accept ok.txt\n", "the next header is asked about too")
        XCTAssertEqual(asked.count, 2)
        XCTAssertEqual(files(folder), [])
    }

    func testNoAnswerInTimeRefusesIt() throws {
        let (store, _) = try makeStore(timeout: 0.2)
        let embedded = try EmbeddedConnection(handler: FramedOrRawUploadHandler(store: store))
        embedded.receive(upload("slow.bin", "x").header)
        XCTAssertEqual(embedded.takeWrittenText(), "WAIT 1 asking whether to accept slow.bin\n")
        var written = ""
        embedded.runLoop(timeout: 5) {
            written += embedded.takeWrittenText()
            return !written.isEmpty
        }
        XCTAssertEqual(written, "ERR 403 slow.bin not accepted: no answer within 0.2 s\n")
        XCTAssertTrue(asked[0].1.isDecided, "the console's popup can tell it is over")
    }

    func testRawUploadsAreRefusedWhenTheServerAsks() throws {
        let (store, folder) = try makeStore()
        let embedded = try EmbeddedConnection(handler: FramedOrRawUploadHandler(store: store))
        embedded.receive("plain bytes from nc")
        XCTAssertTrue(embedded.takeWrittenText().hasPrefix("ERR 403 raw uploads are refused"))
        XCTAssertEqual(files(folder), [])
        XCTAssertTrue(asked.isEmpty)
    }

    func testTheWaitLineParses() {
        XCTAssertEqual(FileTransferReply(line: "WAIT 60 asking whether to accept a.txt\n"), .waiting(seconds: 60, message: "asking whether to accept a.txt"))
        XCTAssertNil(FileTransferReply(line: "WAIT soon"))
        XCTAssertEqual(FileTransferReply.waiting(seconds: 5, message: "a\nb").line, "WAIT 5 a b\n")
    }

    private func eager(_ path: String, _ payload: String) -> [UInt8] {
        let bytes = Array(payload.utf8)
        return FileTransferEncoder.treeHeader(path: path, size: Int64(bytes.count), kind: .eagerFile) + bytes
            + FileTransferEncoder.trailer(sha256: FileTransferEncoder.sha256(of: bytes))
    }

    func testAFolderTreeIsAskedAboutOnceForAllItsFiles() throws {
        let (store, folder) = try makeStore()
        let embedded = try EmbeddedConnection(handler: FramedOrRawUploadHandler(store: store))
        embedded.receive(FileTransferEncoder.treeHeader(path: "photos", size: 0, kind: .folder)
                         + eager("photos/a.txt", "aa") + eager("photos/b.txt", "bb")
                         + FileTransferEncoder.treeHeader(path: "photos", size: 0, kind: .end))
        XCTAssertEqual(asked.count, 1, "one question for the tree")
        XCTAssertEqual(asked.first?.0.name, "photos/")
        XCTAssertEqual(asked.first?.0.isFolder, true)
        asked[0].1.accept()
        embedded.runLoop(timeout: 5) { files(folder.appendingPathComponent("photos")).count == 2 }
        XCTAssertEqual(files(folder.appendingPathComponent("photos")), ["a.txt", "b.txt"])
        XCTAssertEqual(asked.count, 1, "the other file of the tree is not asked about")

        let (refusing, refusedFolder) = try makeStore()
        asked = []
        let second = try EmbeddedConnection(handler: FramedOrRawUploadHandler(store: refusing))
        second.receive(FileTransferEncoder.treeHeader(path: "junk", size: 0, kind: .folder)
                       + eager("junk/a.txt", "aa") + eager("junk/b.txt", "bb"))
        XCTAssertEqual(asked.count, 1)
        asked[0].1.refuse()
        second.runLoop(timeout: 2) { second.takeWrittenText().components(separatedBy: "ERR 403").count > 2 }
        XCTAssertEqual(asked.count, 1, "a refused tree's other files are refused without asking")
        XCTAssertFalse(files(refusedFolder.appendingPathComponent("junk")).contains("a.txt"))
    }
}
