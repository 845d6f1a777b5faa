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
