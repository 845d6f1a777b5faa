import Foundation
import NetEngine
import XCTest

/// Listing a tree to send, on the spot and off the loop.
final class FolderWalkTests: XCTestCase {
    func testAListingOffTheLoopIsTheSameAsOnTheSpotAndComesBackOnTheLoop() throws {
        let top = FileManager.default.temporaryDirectory.appendingPathComponent("walk-\(UUID().uuidString)/photos")
        try FileManager.default.createDirectory(at: top.appendingPathComponent("2024/empty"), withIntermediateDirectories: true)
        for index in 0..<200 { try Data("\(index)".utf8).write(to: top.appendingPathComponent("2024/\(index).txt")) }
        addTeardownBlock { try? FileManager.default.removeItem(at: top.deletingLastPathComponent()) }
        let expected = try FolderWalk.items(for: [top.path], followLinks: false)
        XCTAssertEqual(expected.items.filter(\.isFile).count, 200)

        let loopThread = try LoopThread()
        defer { loopThread.shutdown() }
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var listed: FolderWalk.Listing?
        nonisolated(unsafe) var onLoopThread = false
        try loopThread.sync {
            let loop = loopThread.loop
            let loopsThread = Thread.current
            FolderWalk.list([top.path], followLinks: false, thenOn: loop) { result in
                onLoopThread = Thread.current == loopsThread
                listed = try? result.get()
                done.signal()
            }
        }
        XCTAssertEqual(done.wait(timeout: .now() + 10), .success)
        XCTAssertEqual(listed, expected)
        XCTAssertTrue(onLoopThread, "the result comes back on the loop's thread")
    }

    func testTheTopFolderAnnouncesTheFilesAndBytesListedAndNothingElseDoes() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("walk-\(UUID().uuidString)")
        let top = root.appendingPathComponent("photos")
        try FileManager.default.createDirectory(at: top.appendingPathComponent("2024/empty"), withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: root) }
        try Data(count: 1000).write(to: top.appendingPathComponent("a.jpg"))
        try Data(count: 20).write(to: top.appendingPathComponent("2024/b.jpg"))
        try Data().write(to: top.appendingPathComponent("2024/c.txt"))
        try FileManager.default.createSymbolicLink(atPath: top.appendingPathComponent("link").path, withDestinationPath: "/etc/hostname")
        let other = root.appendingPathComponent("other")
        try FileManager.default.createDirectory(at: other, withIntermediateDirectories: false)
        try Data(count: 7).write(to: other.appendingPathComponent("d"))

        let listing = try FolderWalk.items(for: [top.path, other.path], followLinks: false)
        let folders = listing.items.compactMap { item -> String? in
            guard case let .treeFolder(path, total) = item.entry else { return nil }
            return "\(path) " + (total.map { "\($0.files) \($0.bytes)" } ?? "-")
        }
        XCTAssertEqual(folders, ["photos 3 1020", "photos/2024 -", "photos/2024/empty -", "other 1 7"],
                         "the files listed (the link skipped is not one), each tree its own")
        let followed = try FolderWalk.items(for: [top.path], followLinks: true)
        XCTAssertEqual(followed.items.first?.entry, .treeFolder(path: "photos", total: TreeTotal(files: 4, bytes: 1020 + Int64(
            (try FileManager.default.attributesOfItem(atPath: "/etc/hostname")[.size] as? NSNumber)?.int64Value ?? 0))))
    }

    func testAFolderThatCannotBeListedSaysWhyOnTheLoop() throws {
        let loopThread = try LoopThread()
        defer { loopThread.shutdown() }
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var failure: String?
        try loopThread.sync {
            FolderWalk.list(["/no/such/folder"], followLinks: false, thenOn: loopThread.loop) { result in
                if case let .failure(error) = result { failure = "\(error)" }
                done.signal()
            }
        }
        XCTAssertEqual(done.wait(timeout: .now() + 10), .success)
        XCTAssertTrue(failure?.contains("/no/such/folder") == true, failure ?? "no failure")
    }
}
