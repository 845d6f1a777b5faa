import Foundation
import NetConsoleUI
import XCTest

/// Saving a transcript never overwrites a file and never follows a link planted at the name.
final class TranscriptFileTests: XCTestCase {
    func testANewFileIsCreatedAndAnExistingNameOrALinkIsRefused() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("netconsole-transcript-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("t.txt").path
        XCTAssertEqual(try TranscriptFile.create(at: path, text: "first\n").get(), path)
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "first\n")
        guard case .failure(let error) = TranscriptFile.create(at: path, text: "second\n") else { return XCTFail("overwrote a file") }
        XCTAssertEqual(error.message, "not saved, exists already, not overwritten: \(path)")
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "first\n")

        let target = folder.appendingPathComponent("victim").path
        XCTAssertTrue(FileManager.default.createFile(atPath: target, contents: Data("keep".utf8)))
        let link = folder.appendingPathComponent("link").path
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: target)
        guard case .failure = TranscriptFile.create(at: link, text: "evil") else { return XCTFail("followed a link") }
        XCTAssertEqual(try String(contentsOfFile: target, encoding: .utf8), "keep")
        let dangling = folder.appendingPathComponent("dangling").path
        try FileManager.default.createSymbolicLink(atPath: dangling, withDestinationPath: folder.appendingPathComponent("new").path)
        guard case .failure = TranscriptFile.create(at: dangling, text: "evil") else { return XCTFail("created through a link") }
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder.appendingPathComponent("new").path))
    }
}
