import NetEngine
import NetText
import XCTest

/// A folder tree's announced total (files and bytes, in its top folder's entry): on the wire, through both machines,
/// and in the log lines. Display-only: a sender that lies changes what is shown and nothing else.
final class TreeTotalTests: XCTestCase {
    typealias Machine = FileServerMachine

    private func decode(_ bytes: [UInt8]) throws -> [FileHeader] { try decodedHeaders(bytes) }

    private func feed(_ machine: inout Machine, _ bytes: [UInt8]) -> [Machine.Action] {
        bytes.withUnsafeBytes { input in
            var offset = 0
            var actions: [Machine.Action] = []
            while let more = machine.receive(input, offset: &offset) { actions += more }
            return actions
        }
    }

    private func folder(_ path: String, total: TreeTotal? = nil) -> [UInt8] {
        FileTransferEncoder.treeHeader(path: path, size: 0, kind: .folder, total: total)
    }

    private func summary(_ top: String, files: Int = 0, bytes: Int64 = 0, folders: Int = 0, failed: Int = 0,
                         announced: TreeTotal?) -> Machine.TreeSummary {
        var summary = Machine.TreeSummary(top: top)
        summary.files = files
        summary.bytes = bytes
        summary.folders = folders
        summary.failed = failed
        summary.announced = announced
        return summary
    }

    /// A whole eager file entry's bytes: header, payload, trailer.
    private func eager(_ path: String, _ payload: [UInt8]) -> [UInt8] {
        FileTransferEncoder.treeHeader(path: path, size: Int64(payload.count), kind: .eagerFile) + payload
            + FileTransferEncoder.trailer(sha256: FileTransferEncoder.sha256(of: payload))
    }

    // MARK: The wire

    func testTheTopFolderCarriesTheTotalInTheIdentitysPlaceAndItRoundTrips() throws {
        let total = TreeTotal(files: 10, bytes: 0x0102_0304_0506)
        let header = folder("photos", total: total)
        XCTAssertEqual(Array(header[4...17]), [4, 0, 6, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 16],
                       "version 4, path length 6, size 0 (as every folder), kind 2, no secret, 16 bytes where an identity goes")
        XCTAssertEqual(Array(header[18..<34]), [0, 0, 0, 0, 0, 0, 0, 10, 0, 0, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06],
                       "files, then bytes, big-endian")
        XCTAssertEqual(Array(header[34...]), Array("photos".utf8))
        let secret = try SharedSecret(Array("pw".utf8))
        let stream = header + FileTransferEncoder.treeHeader(path: "photos/sub", size: 0, kind: .folder, secret: secret, total: total)
            + folder("old")
        XCTAssertEqual(try decode(stream), [
            FileHeader(name: "photos", size: 0, kind: .folder, inTree: true, total: total),
            FileHeader(name: "photos/sub", size: 0, secret: Array("pw".utf8), kind: .folder, inTree: true, total: total),
            FileHeader(name: "old", size: 0, kind: .folder, inTree: true),
        ], "an older sender's folder (no identity) announces nothing")
    }

    func testHugeOrMalformedAnnouncementsAreNoTotalAndNeverABadHeader() throws {
        let largest = TreeTotal(files: .max, bytes: .max)
        XCTAssertEqual(try decode(folder("t", total: largest)).first?.total, largest)
        XCTAssertEqual(TreeTotal(files: -5, bytes: -1).wire, [UInt8](repeating: 0, count: 16), "nothing below zero goes on the wire")
        func withIdentity(_ identity: [UInt8], kind: FileHeader.Kind = .folder) -> [UInt8] {
            var header = FileTransferEncoder.treeHeader(path: "t", size: 0, kind: kind)
            header[17] = UInt8(identity.count)
            header.insert(contentsOf: identity, at: FileTransferProtocol.fixedTreeHeaderLength)
            return header
        }
        for identity in [[UInt8](repeating: 0xFF, count: 16), [0x80] + [UInt8](repeating: 0, count: 15), [UInt8](repeating: 1, count: 8),
                         [UInt8](repeating: 1, count: 255)] {
            let headers = try decode(withIdentity(identity))
            XCTAssertEqual(headers, [FileHeader(name: "t", size: 0, kind: .folder, inTree: true)], "\(identity.prefix(2)) x\(identity.count)")
        }
        let halfMax: [UInt8] = [0x7F] + [UInt8](repeating: 0xFF, count: 7)
        XCTAssertEqual(TreeTotal(wire: halfMax + halfMax), largest)
        XCTAssertNil(TreeTotal(wire: halfMax + [UInt8](repeating: 0xFF, count: 8)), "bytes above 2^63 - 1")
        // A file's identity is its identity, whatever its length: it never reads as a total.
        let identity = [UInt8](repeating: 7, count: 16)
        XCTAssertEqual(try decode(withIdentity(identity, kind: .resumableFile)).first,
                       FileHeader(name: "t", size: 0, kind: .resumableFile, inTree: true, identity: identity))
    }

    func testTheSendersTopFolderAnnouncesItsTreeAndNoOtherEntryDoes() {
        let total = TreeTotal(files: 2, bytes: 300)
        var machine = FileClientMachine(files: ["/src/photos", "/src/photos/sub", "/src/photos"],
                                        entries: [.treeFolder(path: "photos", total: total), .treeFolder(path: "photos/sub"),
                                                  .treeEnd(top: "photos", skipped: 0)])
        let actions = machine.handle(.connected(peer: "127.0.0.1:1"))
        let sent = actions.compactMap { action -> [UInt8]? in if case let .send(bytes) = action { return bytes } else { return nil } }
        XCTAssertEqual(sent, [folder("photos", total: total), folder("photos/sub"),
                              FileTransferEncoder.treeHeader(path: "photos", size: 0, kind: .end)])
    }

    // MARK: The server's machine

    func testTheTotalIsReportedWhenTheTopFolderIsMadeAndAgainAtTheEnd() {
        let total = TreeTotal(files: 2, bytes: 3)
        var machine = Machine(settings: .init(maxSize: 100))
        XCTAssertEqual(feed(&machine, folder("photos", total: total)), [.clearDeadline, .makeFolder(["photos"])])
        XCTAssertEqual(machine.folderMade(.success("photos (1)")), [
            .treeStarted(summary("photos", folders: 1, announced: total)), .reply(.saved(name: "photos (1)")), .expectHeader])
        XCTAssertEqual(feed(&machine, eager("photos/a", [1, 2])).last, .open(name: "photos/a", folder: ["photos"], size: 2))
        XCTAssertEqual(machine.opened(refusal: nil), [])
        _ = feed(&machine, [1, 2] + FileTransferEncoder.trailer(sha256: FileTransferEncoder.sha256(of: [1, 2])))
        XCTAssertEqual(machine.published(.saved(name: "photos (1)/a")), [.reply(.saved(name: "photos (1)/a")), .expectHeader])
        XCTAssertEqual(feed(&machine, FileTransferEncoder.treeHeader(path: "photos", size: 0, kind: .end)), [
            .clearDeadline, .treeEnded(summary("photos", files: 1, bytes: 2, folders: 1, announced: total)),
            .reply(.saved(name: "photos")), .expectHeader])
    }

    func testAnOlderSendersTreeStartsWithNoTotal() {
        var machine = Machine(settings: .init(maxSize: 100))
        _ = feed(&machine, folder("photos"))
        XCTAssertEqual(machine.folderMade(.success("photos")).first, .treeStarted(summary("photos", folders: 1, announced: nil)))
        _ = feed(&machine, folder("photos/sub"))
        XCTAssertEqual(machine.folderMade(.success("photos/sub")), [.reply(.saved(name: "photos/sub")), .expectHeader],
                       "a subfolder starts nothing")
        XCTAssertEqual(feed(&machine, FileTransferEncoder.treeHeader(path: "photos", size: 0, kind: .end))[1],
                       .treeEnded(summary("photos", folders: 2, announced: nil)))
    }

    func testALyingTotalIsOnlyShownNeverTrustedNorBounding() {
        // Says one file, sends three, all taken; says a huge total, nothing is refused or sized by it.
        for total in [TreeTotal(files: 1, bytes: 1), TreeTotal(files: .max, bytes: .max), TreeTotal(files: 0, bytes: 0)] {
            var machine = Machine(settings: .init(maxSize: 100))
            _ = feed(&machine, folder("t", total: total))
            XCTAssertEqual(machine.folderMade(.success("t")).first, .treeStarted(summary("t", folders: 1, announced: total)))
            for name in ["a", "b", "c"] {
                XCTAssertEqual(feed(&machine, eager("t/\(name)", [9])).last, .open(name: "t/\(name)", folder: ["t"], size: 1))
                _ = machine.opened(refusal: nil)
                _ = feed(&machine, [9] + FileTransferEncoder.trailer(sha256: FileTransferEncoder.sha256(of: [9])))
                XCTAssertEqual(machine.published(.saved(name: "t/\(name)")).first, .reply(.saved(name: "t/\(name)")))
            }
            XCTAssertEqual(feed(&machine, FileTransferEncoder.treeHeader(path: "t", size: 0, kind: .end))[1],
                           .treeEnded(summary("t", files: 3, bytes: 3, folders: 1, announced: total)))
        }
    }

    func testOnlyATreesFirstEntryAnnouncesIt() {
        var machine = Machine(settings: .init(maxSize: 100))
        // A subfolder's announcement, and a second top entry's, are ignored; so is a top entry after the tree began.
        _ = feed(&machine, folder("t", total: TreeTotal(files: 1, bytes: 1)))
        _ = machine.folderMade(.success("t"))
        _ = feed(&machine, folder("t/sub", total: TreeTotal(files: 7, bytes: 7)))
        XCTAssertEqual(machine.folderMade(.success("t/sub")), [.reply(.saved(name: "t/sub")), .expectHeader])
        _ = feed(&machine, folder("t", total: TreeTotal(files: 8, bytes: 8)))
        XCTAssertEqual(machine.folderMade(.success("t")), [.reply(.saved(name: "t")), .expectHeader])
        XCTAssertEqual(feed(&machine, FileTransferEncoder.treeHeader(path: "t", size: 0, kind: .end))[1],
                       .treeEnded(summary("t", folders: 3, announced: TreeTotal(files: 1, bytes: 1))))
        _ = feed(&machine, folder("u/sub"))
        _ = machine.folderMade(.success("u/sub"))
        _ = feed(&machine, folder("u", total: TreeTotal(files: 9, bytes: 9)))
        XCTAssertEqual(machine.folderMade(.success("u")), [.reply(.saved(name: "u")), .expectHeader])
        // A top folder that cannot be made starts nothing.
        _ = feed(&machine, folder("v", total: TreeTotal(files: 1, bytes: 1)))
        let refused = machine.folderMade(.failure(FileTransferError(code: 403, message: "too many folders")))
        XCTAssertFalse(refused.contains { if case .treeStarted = $0 { return true } else { return false } }, "\(refused)")
    }

    // MARK: The log

    func testTheLogLinesSayTheTotalIsTheSendersWord() {
        var tree = summary("photos (1)", files: 3, bytes: 2048, folders: 2, announced: TreeTotal(files: 10, bytes: 1 << 20))
        XCTAssertEqual(EventLogFormatter.line(for: .treeStarted(id: 4, summary: tree)),
                       "#4 folder photos (1) arriving: 10 files (1.0 MiB) announced")
        XCTAssertEqual(EventLogFormatter.line(for: .treeReceived(id: 4, summary: tree)),
                       "#4 folder photos (1) arrived whole: 3 files, 2 folders, 2.0 KiB, 0 skipped, 0 failed; 10 files (1.0 MiB) announced")
        XCTAssertTrue(EventJSON.line(for: .treeStarted(id: 4, summary: tree))
            .hasSuffix(#""event":"tree_started","id":4,"name":"photos (1)","announced_files":10,"announced_bytes":1048576}"#))
        tree.announced = nil
        XCTAssertEqual(EventLogFormatter.line(for: .treeStarted(id: 4, summary: tree)), "#4 folder photos (1) arriving")
        XCTAssertTrue(EventLogFormatter.line(for: .treeReceived(id: 4, summary: tree)).hasSuffix("0 skipped, 0 failed"))
        XCTAssertTrue(EventJSON.line(for: .treeReceived(id: 4, summary: tree)).hasSuffix(#""announced_files":null,"announced_bytes":null}"#))
    }
}
