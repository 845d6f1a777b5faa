import Foundation
import NetEngine
import XCTest

/// Names a peer sends are reduced to safe base names; uploads become files only through the store's publish.
final class FileTransferNameTests: XCTestCase {
    func testPathsAreReducedToTheirBaseName() {
        XCTAssertEqual(SafeFileName.sanitize("../../etc/passwd"), "passwd")
        XCTAssertEqual(SafeFileName.sanitize("/etc/passwd"), "passwd")
        XCTAssertEqual(SafeFileName.sanitize("..\\..\\windows\\win.ini"), "win.ini")
        XCTAssertEqual(SafeFileName.sanitize("dir/sub/"), "sub")
        XCTAssertEqual(SafeFileName.sanitize("notes/.."), "notes")
        XCTAssertEqual(SafeFileName.sanitize("plain.txt"), "plain.txt")
        XCTAssertEqual(SafeFileName.sanitize("héllo wörld ✓.txt"), "héllo wörld ✓.txt")
    }

    func testDotsAndEmptyNamesNeverSurvive() {
        for name in ["", ".", "..", "...", "/", "//", "../..", "   ", ". .", "\u{0}"] {
            let safe = SafeFileName.sanitize(name)
            XCTAssertFalse(safe.isEmpty, "'\(name)'")
            XCTAssertFalse(safe.hasPrefix("."), "'\(name)' → '\(safe)'")
            XCTAssertFalse(safe.contains("/"), "'\(name)' → '\(safe)'")
        }
        XCTAssertEqual(SafeFileName.sanitize(""), SafeFileName.fallback)
        XCTAssertEqual(SafeFileName.sanitize(".."), SafeFileName.fallback)
        XCTAssertEqual(SafeFileName.sanitize(".bashrc"), "bashrc")
        XCTAssertEqual(SafeFileName.sanitize("..hidden.txt"), "hidden.txt")
    }

    func testControlCharactersAndEscapeSequencesAreNeutralised() {
        XCTAssertEqual(SafeFileName.sanitize("a\u{0}b.txt"), "a_b.txt")
        XCTAssertEqual(SafeFileName.sanitize("line1\nline2\r.txt"), "line1_line2_.txt")
        XCTAssertEqual(SafeFileName.sanitize("\u{1B}[31mred\u{1B}[0m.txt"), "_[31mred_[0m.txt")
        XCTAssertEqual(SafeFileName.sanitize("evil\u{202E}txt.exe"), "evil_txt.exe")
        XCTAssertEqual(SafeFileName.sanitize("tab\there\u{7F}\u{85}"), "tab_here__")
        for scalar in SafeFileName.sanitize("\u{1}\u{1F}\u{9B}x\u{2028}").unicodeScalars {
            XCTAssertFalse(scalar.value < 0x20 || (0x7F..<0xA0).contains(scalar.value) || scalar.value == 0x2028)
        }
    }

    func testLongNamesAreCutTo255BytesOnAUTF8BoundaryKeepingTheExtension() {
        let long = String(repeating: "é", count: 300) + ".txt"  // 604 bytes
        let safe = SafeFileName.sanitize(long)
        XCTAssertLessThanOrEqual(safe.utf8.count, 255)
        XCTAssertGreaterThanOrEqual(safe.utf8.count, 254)
        XCTAssertTrue(safe.hasSuffix(".txt"))
        XCTAssertEqual(String(decoding: Array(safe.utf8), as: UTF8.self), safe, "still valid UTF-8")

        let noExtension = String(repeating: "€", count: 100)  // 3 bytes each
        XCTAssertEqual(SafeFileName.sanitize(noExtension).utf8.count, 255)
        let variant = SafeFileName.variant(of: SafeFileName.sanitize(long), number: 12)
        XCTAssertLessThanOrEqual(variant.utf8.count, 255)
        XCTAssertTrue(variant.hasSuffix(" (12).txt"), variant)
    }

    func testVariantsPutTheNumberBeforeTheExtension() {
        XCTAssertEqual(SafeFileName.variant(of: "notes.txt", number: 0), "notes.txt")
        XCTAssertEqual(SafeFileName.variant(of: "notes.txt", number: 1), "notes (1).txt")
        XCTAssertEqual(SafeFileName.variant(of: "archive.tar.gz", number: 2), "archive.tar (2).gz")
        XCTAssertEqual(SafeFileName.variant(of: "README", number: 3), "README (3)")
    }

    // MARK: The store

    private func store(in directory: URL, fsync: Bool = true, temporaryFiles: UploadStore.TemporaryFiles = .anonymous) -> UploadStore {
        UploadStore(options: FileServerOptions(directory: directory.path, fsync: fsync), temporaryFiles: temporaryFiles)
    }

    private func contents(of directory: URL) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).sorted()
    }

    func testPublishNeverOverwritesAndLeavesNoTemporaryFile() throws {
        let directory = try makeTemporaryDirectory()
        try Data("original".utf8).write(to: directory.appendingPathComponent("notes.txt"))
        let uploads = store(in: directory)
        var saved: [SavedFile] = []
        for text in ["first", "second"] {
            let upload = try uploads.begin()
            try Array(text.utf8).withUnsafeBytes { try upload.write($0) }
            saved.append(try upload.publish(as: "notes.txt", expectedSHA256: nil))
        }
        XCTAssertEqual(saved.map(\.name), ["notes (1).txt", "notes (2).txt"])
        XCTAssertEqual(contents(of: directory), ["notes (1).txt", "notes (2).txt", "notes.txt"])
        XCTAssertEqual(try String(contentsOf: directory.appendingPathComponent("notes.txt"), encoding: .utf8), "original")
        XCTAssertEqual(try String(contentsOf: directory.appendingPathComponent("notes (2).txt"), encoding: .utf8), "second")
        XCTAssertEqual(saved[0].size, 5)
        XCTAssertEqual(saved[0].sha256, "a7937b64b8caa58f03721bb6bacf5c78cb235febe0e70b1b84cd99541461a08e")  // sha256("first")
    }

    func testChecksumMismatchAndDiscardRemoveTheTemporaryFile() throws {
        let directory = try makeTemporaryDirectory()
        let uploads = store(in: directory, fsync: false, temporaryFiles: .named)
        let upload = try uploads.begin()
        XCTAssertEqual(contents(of: directory).count, 1)
        XCTAssertTrue(contents(of: directory)[0].hasPrefix(UploadStore.temporaryPrefix))
        try Array("data".utf8).withUnsafeBytes { try upload.write($0) }
        XCTAssertThrowsError(try upload.publish(as: "x.txt", expectedSHA256: [UInt8](repeating: 0, count: 32))) { error in
            XCTAssertEqual((error as? FileTransferError)?.code, FileTransferStatus.checksumMismatch)
        }
        XCTAssertEqual(contents(of: directory), [])

        let dropped = try uploads.begin()
        dropped.discard()
        XCTAssertEqual(contents(of: directory), [])
        do { _ = try uploads.begin() }  // released without publish: deinit removes it
        XCTAssertEqual(contents(of: directory), [])
    }

    func testCheckCreatesNothingAndTheFirstUploadCreatesTheFolder() throws {
        let base = try makeTemporaryDirectory()
        let nested = base.appendingPathComponent("a/b/c")
        XCTAssertNoThrow(try UploadStore.check(directory: nested.path))
        XCTAssertFalse(FileManager.default.fileExists(atPath: base.appendingPathComponent("a").path), "checking creates nothing")
        let uploads = store(in: nested, fsync: false)
        XCTAssertEqual(uploads.removeStaleTemporaryFiles().count, 0)
        XCTAssertFalse(FileManager.default.fileExists(atPath: base.appendingPathComponent("a").path), "nor does looking for leftovers")
        let upload = try uploads.begin()
        XCTAssertTrue(FileManager.default.fileExists(atPath: nested.path), "the first upload creates the folder")
        upload.discard()
        XCTAssertEqual(contents(of: nested), [])

        let file = base.appendingPathComponent("plain")
        try Data().write(to: file)
        XCTAssertThrowsError(try UploadStore.check(directory: file.path)) { error in
            XCTAssertTrue("\(error)".contains("not a folder"), "\(error)")
        }
        XCTAssertThrowsError(try UploadStore.check(directory: file.path + "/inside")) { error in
            XCTAssertTrue("\(error)".contains("not a folder"), "\(error)")
        }
        if getuid() != 0 {
            let locked = base.appendingPathComponent("locked")
            try FileManager.default.createDirectory(at: locked, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o555])
            XCTAssertThrowsError(try UploadStore.check(directory: locked.path)) { error in
                XCTAssertTrue("\(error)".contains("permission denied"), "\(error)")
            }
        }
    }

    private func makeTemporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("netconsole-names-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }
}
