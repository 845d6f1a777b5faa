import Foundation
import NetEngine
import XCTest

/// Faults around the echo server: vanishing, half-closing and rude peers must never stop it serving honest clients.
final class EchoFaultTests: XCTestCase {
    override func setUp() { ignoreBrokenPipeSignal() }

    func testHalfClosedClientStillGetsEveryByteBack() throws {
        let fixture = try ServerFixture()
        defer { fixture.shutdown() }
        let socket = try fixture.connect()
        let payload = randomBytes(count: 100_000, seed: 11)
        try socket.sendAll(payload)
        socket.shutdown(.write)
        XCTAssertTrue(try receiveUntilEnd(socket) == payload)
    }

    func testClientThatNeverReadsDoesNotGrowTheServerWithoutBound() throws {
        let fixture = try ServerFixture()
        defer { fixture.shutdown() }
        let hog = try fixture.connect()
        try hog.setNonBlocking(true)
        // Push until our send buffer is full too: the server has stopped reading because its output is pending.
        let chunk = [UInt8](repeating: 0x61, count: 65536)
        var pushed = 0
        let deadline = Date().addingTimeInterval(5)
        while Date() < deadline {
            let n = try chunk.withUnsafeBytes { try hog.send($0) }
            if n == 0 {
                if (try? hog.waitFor(events: Int16(POLLOUT), timeoutMilliseconds: 200)) == nil { break }
                continue
            }
            pushed += n
        }
        let pending = try fixture.loopThread.sync { fixture.server.openConnections.first?.pendingOutputCount ?? -1 }
        XCTAssertLessThanOrEqual(pending, 64 * 1024, "the server buffered more than one read's worth for a peer that does not read")
        XCTAssertGreaterThan(pushed, 0)
        let honest = try EchoClient(connectingTo: fixture.endpoint)
        XCTAssertEqual(try honest.roundTrip(Array("ok\n".utf8), timeout: 2), Array("ok\n".utf8))
    }

    func testThousandConnectionsDroppedAtRandomWhileTenHonestClientsKeepGettingCorrectEchoes() throws {
        let fixture = try ServerFixture()
        defer { fixture.shutdown() }
        let honest = try (0..<10).map { _ in try EchoClient(connectingTo: fixture.endpoint) }
        var generator = SeededGenerator(seed: 2024)
        var rude: [Socket] = []
        for round in 0..<1000 {
            let socket = try fixture.connect()
            switch Int.random(in: 0..<4, using: &generator) {
            case 0:  // vanishes with an RST right away
                try socket.setResetOnClose()
                socket.close()
            case 1:  // sends a burst, then RST without reading the echo
                try socket.sendAll(randomBytes(count: Int.random(in: 1...50_000, using: &generator), seed: UInt64(round)))
                try socket.setResetOnClose()
                socket.close()
            case 2:  // half-closes and goes away without reading
                try socket.sendAll([1, 2, 3])
                socket.shutdown(.write)
                socket.close()
            default:  // stays open for a while
                rude.append(socket)
                if rude.count > 50 { rude.removeFirst().close() }
            }
            if round % 25 == 0 {
                for (index, client) in honest.enumerated() {
                    let message = randomBytes(count: 1 + (round + index) % 3000, seed: UInt64(round * 10 + index + 1))
                    let reply = try client.roundTrip(message, timeout: 5)
                    XCTAssertTrue(reply == message, "honest client \(index) got a wrong echo in round \(round)")
                }
            }
        }
        for socket in rude { socket.close() }
        XCTAssertTrue(fixture.recorder.wait(timeout: 10) { _ in fixture.recorder.closedCount >= 1000 }, "closed \(fixture.recorder.closedCount)")
        XCTAssertEqual(try fixture.loopThread.sync { fixture.server.connectionCount }, 10, "only the honest clients remain")
        for client in honest { XCTAssertEqual(try client.roundTrip([9], timeout: 2), [9]) }
    }
}

/// A small deterministic random number generator (SplitMix64), so chaos tests replay the same way.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A handler that demands a header line within the server's header timeout, to test connection deadlines.
private final class HeaderLineHandler: ConnectionHandler {
    func connectionStarted(_ connection: Connection) {
        connection.setDeadline(after: connection.limits.headerTimeout, reason: "header not complete in time")
    }
    func connection(_ connection: Connection, received bytes: UnsafeRawBufferPointer) {
        if bytes.contains(0x0A) {
            connection.clearDeadline()
            connection.write("OK\n")
        }
    }
}

final class ConnectionDeadlineTests: XCTestCase {
    func testSlowlorisTricklingAHeaderIsDroppedAtTheDeadline() throws {
        let fixture = try ServerFixture(limits: ServerLimits(idleTimeout: 5, headerTimeout: 0.5), makeHandler: { HeaderLineHandler() })
        defer { fixture.shutdown() }
        let slow = try fixture.connect()
        let started = Date()
        var dropped = false
        // One byte every 100 ms keeps the connection far from idle, but the header never completes.
        for _ in 0..<30 {
            do { try slow.sendAll([0x41]) } catch { dropped = true; break }
            if (try? slow.waitFor(events: Int16(POLLIN), timeoutMilliseconds: 100)) != nil {
                if (try? receiveUntilEnd(slow, timeout: 1)) != nil { dropped = true; break }
            }
        }
        XCTAssertTrue(dropped, "the trickling client was never dropped")
        XCTAssertLessThan(Date().timeIntervalSince(started), 2.5)
        XCTAssertTrue(fixture.recorder.wait { events in
            events.contains { if case let .connectionClosed(_, _, _, _, reason) = $0 { return reason == "header not complete in time" } else { return false } }
        })
    }

    func testAHeaderInTimeClearsTheDeadline() throws {
        let fixture = try ServerFixture(limits: ServerLimits(headerTimeout: 0.3), makeHandler: { HeaderLineHandler() })
        defer { fixture.shutdown() }
        let client = try fixture.connect()
        try client.sendAll("hello\n")
        XCTAssertEqual(try receiveExactly(client, count: 3), Array("OK\n".utf8))
        usleep(600_000)
        try client.sendAll("more\n")
        XCTAssertEqual(try receiveExactly(client, count: 3), Array("OK\n".utf8), "a client past its header must not be dropped")
    }
}
