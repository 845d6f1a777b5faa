import XCTest
import NetEngine

/// `connectionDrained` tells a handler that output which had to wait has all gone, so a sender can pump more.
final class ConnectionDrainedTests: XCTestCase {
    private final class Writer: ConnectionHandler {
        var drained = 0
        func connection(_ connection: Connection, received bytes: UnsafeRawBufferPointer) {
            connection.write([UInt8](repeating: 7, count: 100))
        }
        func connectionDrained(_ connection: Connection) { drained += 1 }
    }

    func testCalledOnceWhenWaitingOutputIsAllSentAndNotForWritesThatWentAtOnce() throws {
        let writer = Writer()
        let embedded = try EmbeddedConnection(handler: writer)
        embedded.receive("a")
        XCTAssertEqual(embedded.takeWritten().count, 100)
        XCTAssertEqual(writer.drained, 0, "the write went out at once")

        embedded.setPeerReadCapacity(30)
        embedded.receive("b")
        XCTAssertEqual(embedded.connection.pendingOutputCount, 70)
        XCTAssertEqual(writer.drained, 0)
        embedded.setPeerReadCapacity(50)
        XCTAssertEqual(writer.drained, 0, "20 bytes still wait")
        embedded.setPeerReadCapacity(Int.max)
        XCTAssertEqual(writer.drained, 1)
        XCTAssertEqual(embedded.takeWritten().count, 100)
    }
}
