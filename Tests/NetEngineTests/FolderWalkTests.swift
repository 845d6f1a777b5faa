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
