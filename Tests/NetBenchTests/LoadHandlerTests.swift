import XCTest
import NetEngine
@testable import NetBench

/// The load generator's connection handler without a socket: what it sends, how it checks echoes, how it ends.
final class LoadHandlerTests: XCTestCase {
    private var pattern: VerificationPattern!

    override func setUp() { pattern = VerificationPattern(period: 1009, maxWindow: 64) }
    override func tearDown() { pattern.deallocate() }

    private func makeHandler(size: Int, pipeline: Int, tally: LoadTally,
                             closed: @escaping (SocketError?) -> Void = { _ in }) -> LoadHandler {
        LoadHandler(index: 3, pattern: pattern, requestSize: size, pipeline: pipeline, tally: tally) { _, error in closed(error) }
    }

    func testKeepsThePipelineFullAndTimesEveryEchoedRequest() throws {
        let tally = LoadTally()
        tally.running = true
        tally.measuring = true
        let handler = makeHandler(size: 100, pipeline: 3, tally: tally)
        let embedded = try EmbeddedConnection(handler: handler)
        handler.startRequests()
        let first = embedded.takeWritten()
        XCTAssertEqual(first.count, 300, "three requests of 100 bytes, larger than one pattern window")
        let start = pattern.startOffset(forConnection: 3)
        XCTAssertEqual(Array(first.prefix(64)), Array(pattern.window(at: start, count: 64)))

        embedded.receive(Array(first.prefix(150)))  // one and a half requests echoed
        XCTAssertEqual(tally.completedRequests, 1)
        XCTAssertEqual(tally.bytesEchoed, 150)
        let refill = embedded.takeWritten()
        XCTAssertEqual(refill.count, 100, "one request completed, one new one issued")
        embedded.receive(Array(first.suffix(150)) + refill)
        XCTAssertEqual(tally.completedRequests, 3 + 1)
        XCTAssertEqual(tally.mismatchedBytes, 0)
        XCTAssertEqual(embedded.takeWritten().count, 300, "each of the three completed requests replaced")
        XCTAssertEqual(tally.histogram.totalCount, 4)
    }

    func testCountsEchoedBytesThatDifferAndNotesTheFirst() throws {
        let tally = LoadTally()
        tally.running = true
        tally.measuring = true
        let handler = makeHandler(size: 10, pipeline: 1, tally: tally)
        let embedded = try EmbeddedConnection(handler: handler)
        handler.startRequests()
        var echo = embedded.takeWritten()
        echo[4] ^= 0xFF
        echo[7] ^= 0x01
        embedded.receive(echo)
        XCTAssertEqual(tally.mismatchedBytes, 2)
        XCTAssertEqual(tally.problems.count, 1)
        XCTAssertTrue(tally.problems[0].hasPrefix("connection 3: echoed byte 4 is 0x"), tally.problems[0])
        XCTAssertTrue(tally.problems[0].hasSuffix("(2 of 10 bytes in that read differ)"), tally.problems[0])
    }

    func testBytesThatWereNeverSentAreCounted() throws {
        let tally = LoadTally()
        let handler = makeHandler(size: 10, pipeline: 1, tally: tally)
        let embedded = try EmbeddedConnection(handler: handler)
        handler.startRequests()
        embedded.receive(embedded.takeWritten() + [1, 2, 3])
        XCTAssertEqual(tally.mismatchedBytes, 3)
        XCTAssertEqual(tally.problems, ["connection 3: 3 bytes arrived that were never sent (after byte 10)"])
        XCTAssertEqual(embedded.takeWritten().count, 0, "not running: no new requests")
    }

    func testAServerThatClosesEndsTheConnectionWithAReason() throws {
        let tally = LoadTally()
        tally.running = true
        var reason: String?
        let handler = makeHandler(size: 10, pipeline: 1, tally: tally) { reason = $0?.message }
        let embedded = try EmbeddedConnection(handler: handler)
        handler.startRequests()
        embedded.receiveEnd()
        XCTAssertTrue(embedded.isClosed)
        XCTAssertEqual(reason, "server closed the connection")
        XCTAssertFalse(handler.isOpen)
    }

    func testKeepsReadingWhileItsOwnRequestsWaitToBeSent() throws {
        let tally = LoadTally()
        tally.running = true
        tally.measuring = true
        let handler = makeHandler(size: 50, pipeline: 4, tally: tally)
        let embedded = try EmbeddedConnection(handler: handler)
        embedded.setPeerReadCapacity(60)  // a server that has not read the rest yet
        handler.startRequests()
        let sent = embedded.takeWritten()
        XCTAssertEqual(sent.count, 60)
        embedded.receive(Array(sent.prefix(50)))  // its echo of the first request must still be read
        XCTAssertEqual(tally.completedRequests, 1)
    }
}
