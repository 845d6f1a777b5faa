import NetEngine
import XCTest

/// Version 4 headers (folder trees) and the relative paths they carry, with no socket.
final class FolderTreeProtocolTests: XCTestCase {
    private func decode(_ bytes: [UInt8]) throws -> [FileHeader] { try decodedHeaders(bytes) }

    func testTreeHeadersRoundTripAndFoldersCarryNoPayload() throws {
        let secret = try SharedSecret(Array("pw".utf8))
        let stream = FileTransferEncoder.treeHeader(path: "photos", size: 0, kind: .folder)
            + FileTransferEncoder.treeHeader(path: "photos/a.txt", size: 2, kind: .eagerFile, secret: secret) + [7, 8]
            + FileTransferEncoder.trailer(sha256: FileTransferEncoder.sha256(of: [7, 8]))
            + FileTransferEncoder.treeHeader(path: "photos", size: 3, kind: .end)
        let headers = try decode(stream)
        XCTAssertEqual(headers, [
            FileHeader(name: "photos", size: 0, kind: .folder, inTree: true),
            FileHeader(name: "photos/a.txt", size: 2, secret: Array("pw".utf8), kind: .eagerFile, inTree: true),
            FileHeader(name: "photos", size: 3, kind: .end, inTree: true),
        ])
        XCTAssertEqual(Array(FileTransferEncoder.treeHeader(path: "x", size: 1, kind: .file)[4...16]),
                       [4, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0], "version 4, name length, size, kind 0, no secret")
    }

    func testAFolderWithASizeOrAnUnknownKindIsABadHeader() {
        var header = FileTransferEncoder.treeHeader(path: "d", size: 5, kind: .folder)
        XCTAssertThrowsError(try decode(header)) { XCTAssertEqual(($0 as? FileTransferError)?.code, 400) }
        header = FileTransferEncoder.treeHeader(path: "d", size: 0, kind: .folder)
        header[15] = 9
        XCTAssertThrowsError(try decode(header)) { XCTAssertTrue("\($0)".contains("unknown entry kind 9")) }
    }

    func testRelativePathsAreCheckedAndCleanedComponentByComponent() throws {
        XCTAssertEqual(try TreePath.parse("photos/2024/a.jpg").get().components, ["photos", "2024", "a.jpg"])
        XCTAssertEqual(try TreePath.parse("photos\\win\\a.jpg").get().components, ["photos", "win", "a.jpg"])
        XCTAssertEqual(try TreePath.parse(".hidden/\u{202E}gpj.exe/x\u{0}y").get().components, ["hidden", "_gpj.exe", "x_y"])
        XCTAssertEqual(try TreePath.parse("a/\u{2215}etc").get().components, ["a", "_etc"], "a look-alike slash is no separator")
        for refused in ["../etc/passwd", "a/../../b", "a/./b", "/etc/passwd", "\\\\server\\share", "a//b", "a/", "",
                        Array(repeating: "d", count: 33).joined(separator: "/")] {
            guard case let .failure(error) = TreePath.parse(refused) else { XCTFail("\(refused) must be refused"); continue }
            XCTAssertEqual(error.code, 403, refused)
        }
        // A separator followed by a combining mark is still a separator (decided on scalars, not Characters).
        XCTAssertEqual(try TreePath.parse("a/\u{301}b").get().components, ["a", "b"])
        guard case .failure = TreePath.parse("a/..\u{301}/b") else { return }
    }
}
