import Foundation
@testable import NetEngine
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// The store's publish rules under attack: a swapped temporary file, thousands of copies of one name, and what a
/// crash leaves behind.
final class UploadStoreTests: XCTestCase {
    private func makeFolder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("netconsole-store-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    private func entries(_ folder: URL) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).sorted()
    }

    private func write(_ text: String, to upload: PendingUpload) throws {
        try Array(text.utf8).withUnsafeBytes { try upload.write($0) }
    }

    func testAnAnonymousTemporaryFileHasNoNameToSwap() throws {
        let folder = try makeFolder()
        let store = UploadStore(options: FileServerOptions(directory: folder.path, fsync: true))
        let upload = try store.begin()
        XCTAssertNil(upload.temporaryName, "O_TMPFILE works on this file system")
        try write("the real report", to: upload)
        XCTAssertEqual(entries(folder), [], "nothing in the folder while the upload runs")
        let saved = try upload.publish(as: "report.pdf", expectedSHA256: FileTransferEncoder.sha256(of: Array("the real report".utf8)))
        XCTAssertEqual(saved.name, "report.pdf")
        XCTAssertEqual(try String(contentsOf: folder.appendingPathComponent("report.pdf"), encoding: .utf8), "the real report")
        var info = stat()
        XCTAssertEqual(stat(saved.path, &info), 0)
        XCTAssertEqual(info.st_mode & 0o777, 0o644 & ~currentUmask())
    }

    func testAnonymousFilesArePublishedWithoutTheLinkCapabilityToo() throws {
        let folder = try makeFolder()
        let store = UploadStore(options: FileServerOptions(directory: folder.path, fsync: false))
        UploadStore.skipEmptyPathLinkForTests = true
        defer { UploadStore.skipEmptyPathLinkForTests = false }
        let upload = try store.begin()
        try write("via /proc", to: upload)
        let saved = try upload.publish(as: "proc.txt", expectedSHA256: nil)
        XCTAssertEqual(try String(contentsOfFile: saved.path, encoding: .utf8), "via /proc")
    }

    /// A local writer replaces the named temporary file mid-upload: what would be published is not what was written
    /// and hashed, so nothing is published.
    func testASwappedNamedTemporaryFileIsNeverPublished() throws {
        let folder = try makeFolder()
        let store = UploadStore(options: FileServerOptions(directory: folder.path, fsync: false), temporaryFiles: .named)
        let upload = try store.begin()
        let temporary = try XCTUnwrap(upload.temporaryName)
        let payload = Array(repeating: "honest bytes ", count: 1000).joined()
        try write(payload, to: upload)
        let impostor = folder.appendingPathComponent("impostor")
        try Data("17 bytes of other".utf8).write(to: impostor)
        XCTAssertEqual(rename(impostor.path, folder.appendingPathComponent(temporary).path), 0)
        XCTAssertThrowsError(try upload.publish(as: "report.pdf", expectedSHA256: FileTransferEncoder.sha256(of: Array(payload.utf8)))) { error in
            XCTAssertTrue("\(error)".contains("replaced"), "\(error)")
        }
        XCTAssertEqual(entries(folder), [], "neither the impostor nor a report.pdf is left")
    }

    /// 5,000 copies of a name: the next upload of it costs a bounded number of tries, and the one after that one try.
    func testManyCopiesOfANameCostABoundedNumberOfTries() throws {
        let folder = try makeFolder()
        try Data().write(to: folder.appendingPathComponent("same.txt"))
        for number in 1...5000 { try Data().write(to: folder.appendingPathComponent("same (\(number)).txt")) }
        let store = UploadStore(options: FileServerOptions(directory: folder.path, fsync: false))
        var names = Set<String>()
        for round in 0..<3 {
            let before = store.publishAttempts
            let upload = try store.begin()
            try write("copy \(round)", to: upload)
            let saved = try upload.publish(as: "same.txt", expectedSHA256: nil)
            let tries = store.publishAttempts - before
            XCTAssertLessThanOrEqual(tries, round == 0 ? UploadStore.sequentialProbes + UploadStore.randomProbes : 1, "round \(round)")
            XCTAssertTrue(saved.name.hasPrefix("same ("), saved.name)
            XCTAssertTrue(saved.name.hasSuffix(").txt"), saved.name)
            XCTAssertEqual(try String(contentsOfFile: saved.path, encoding: .utf8), "copy \(round)")
            names.insert(saved.name)
        }
        XCTAssertEqual(names.count, 3)
        XCTAssertEqual(entries(folder).count, 5004, "nothing overwritten")
    }

    func testLeftoversOfAnEarlierRunAreRemovedAndNothingElse() throws {
        let folder = try makeFolder()
        let outside = try makeFolder()
        let old = timespec(tv_sec: time(nil) - 3600, tv_nsec: 0)
        func make(_ name: String, bytes: Int, age: timespec?) throws {
            let url = folder.appendingPathComponent(name)
            try Data(repeating: 7, count: bytes).write(to: url)
            if let age {
                var times = [age, age]
                XCTAssertEqual(utimensat(AT_FDCWD, url.path, &times, 0), 0)
            }
        }
        try make(".netconsole-upload-abc.part", bytes: 1000, age: old)
        try make(".netconsole-upload-def.part", bytes: 24, age: old)
        try make(".netconsole-upload-new.part", bytes: 5, age: nil)  // written since this process started
        try make(".netconsole-upload-x.txt", bytes: 5, age: old)
        try make("keep.part", bytes: 5, age: old)
        try Data("target".utf8).write(to: outside.appendingPathComponent("target"))
        try FileManager.default.createSymbolicLink(atPath: folder.appendingPathComponent(".netconsole-upload-link.part").path,
                                                   withDestinationPath: outside.appendingPathComponent("target").path)
        try FileManager.default.createDirectory(at: folder.appendingPathComponent(".netconsole-upload-dir.part"), withIntermediateDirectories: false)

        let store = UploadStore(options: FileServerOptions(directory: folder.path, fsync: false))
        let removed = store.removeStaleTemporaryFiles()
        XCTAssertEqual(removed.count, 2)
        XCTAssertEqual(removed.bytes, 1024)
        XCTAssertEqual(entries(folder), [".netconsole-upload-dir.part", ".netconsole-upload-link.part", ".netconsole-upload-new.part",
                                         ".netconsole-upload-x.txt", "keep.part"])
        XCTAssertEqual(try String(contentsOf: outside.appendingPathComponent("target"), encoding: .utf8), "target")
    }

    /// Another server cleaning the same folder must not take a live upload for a leftover, however old it looks.
    func testALiveUploadOfAnotherServerIsNotALeftover() throws {
        let folder = try makeFolder()
        let first = UploadStore(options: FileServerOptions(directory: folder.path, fsync: false), temporaryFiles: .named)
        let live = try first.begin()
        try write("still coming", to: live)
        let name = try XCTUnwrap(live.temporaryName)
        var old = [timespec(tv_sec: time(nil) - 3600, tv_nsec: 0), timespec(tv_sec: time(nil) - 3600, tv_nsec: 0)]
        XCTAssertEqual(utimensat(AT_FDCWD, folder.appendingPathComponent(name).path, &old, 0), 0)
        let second = UploadStore(options: FileServerOptions(directory: folder.path, fsync: false))
        XCTAssertEqual(second.removeStaleTemporaryFiles().count, 0)
        XCTAssertEqual(entries(folder), [name])
        let saved = try live.publish(as: "done.txt", expectedSHA256: nil)
        XCTAssertEqual(try String(contentsOfFile: saved.path, encoding: .utf8), "still coming")
    }

    private func currentUmask() -> mode_t {
        let mask = umask(0o022)
        umask(mask)
        return mask
    }
}
