import Foundation
import NetEngine
import XCTest

final class EchoServerTests: XCTestCase {
    override func setUp() { ignoreBrokenPipeSignal() }

    /// Sends `payload` from a writer thread while this thread reads the echo, so large payloads cannot deadlock
    /// on full socket buffers.
    private func echo(_ payload: [UInt8], through fixture: ServerFixture) throws -> [UInt8] {
        let socket = try fixture.connect()
        let writerDone = DispatchSemaphore(value: 0)
        // A class box: the writer thread hands its error over through the semaphore, not through a captured var.
        final class Outcome: @unchecked Sendable { var error: Error? }
        let outcome = Outcome()
        Thread {
            do { try socket.sendAll(payload) } catch { outcome.error = error }
            socket.shutdown(.write)
            writerDone.signal()
        }.start()
        let reply = try receiveUntilEnd(socket)
        writerDone.wait()
        if let error = outcome.error { throw error }
        return reply
    }

    func testEchoOfZeroBytesClosesCleanly() throws {
        let fixture = try ServerFixture()
        defer { fixture.shutdown() }
        XCTAssertEqual(try echo([], through: fixture), [])
        XCTAssertTrue(fixture.recorder.wait { events in
            events.contains { if case let .connectionClosed(_, _, bytesIn, bytesOut, reason) = $0 { return bytesIn == 0 && bytesOut == 0 && reason == nil } else { return false } }
        })
    }

    func testEchoOfOneByte() throws {
        let fixture = try ServerFixture()
        defer { fixture.shutdown() }
        XCTAssertEqual(try echo([0x42], through: fixture), [0x42])
    }

    func testEchoOfOneMebibyteOfRandomBinary() throws {
        let fixture = try ServerFixture()
        defer { fixture.shutdown() }
        let payload = randomBytes(count: 1 << 20, seed: 7)
        let reply = try echo(payload, through: fixture)
        XCTAssertEqual(reply.count, payload.count)
        XCTAssertTrue(reply == payload, "echoed bytes differ from what was sent")
        XCTAssertTrue(fixture.recorder.wait { events in
            events.contains { if case let .connectionClosed(_, _, bytesIn, bytesOut, _) = $0 { return bytesIn == 1 << 20 && bytesOut == 1 << 20 } else { return false } }
        })
    }

    func testManyMessagesOnOneConnection() throws {
        let fixture = try ServerFixture()
        defer { fixture.shutdown() }
        let client = try EchoClient(connectingTo: fixture.endpoint)
        for index in 0..<500 {
            let message = Array("message \(index) \(String(repeating: "x", count: index % 97))\n".utf8)
            XCTAssertEqual(try client.roundTrip(message), message)
        }
        client.close()
    }

    func testTwoHundredConcurrentClientsEachGetTheirOwnBytes() throws {
        let fixture = try ServerFixture()
        defer { fixture.shutdown() }
        let sockets = try (0..<200).map { _ in try fixture.connect() }
        XCTAssertTrue(fixture.recorder.wait { _ in fixture.recorder.openedCount == 200 }, "server saw \(fixture.recorder.openedCount) of 200 connections")
        for round in 0..<3 {
            let payloads = (0..<200).map { randomBytes(count: 2048 + $0, seed: UInt64(round * 1000 + $0 + 1)) }
            for (socket, payload) in zip(sockets, payloads) { try socket.sendAll(payload) }
            for (index, (socket, payload)) in zip(sockets, payloads).enumerated() {
                let reply = try receiveExactly(socket, count: payload.count)
                XCTAssertTrue(reply == payload, "client \(index) got someone else's or corrupted bytes in round \(round)")
            }
        }
        XCTAssertEqual(try fixture.loopThread.sync { fixture.server.connectionCount }, 200)
        for socket in sockets { socket.close() }
        XCTAssertTrue(fixture.recorder.wait { _ in fixture.recorder.closedCount == 200 })
    }

    func testSequentialModeServesOneClientAfterAnother() throws {
        let fixture = try ServerFixture(mode: .sequential)
        defer { fixture.shutdown() }
        let first = try EchoClient(connectingTo: fixture.endpoint)
        XCTAssertEqual(try first.roundTrip(Array("one\n".utf8)), Array("one\n".utf8))

        // The second client is queued by the kernel but not served while the first is connected.
        let second = try fixture.connect()
        try second.sendAll("two\n")
        XCTAssertThrowsError(try second.waitFor(events: Int16(POLLIN), timeoutMilliseconds: 300), "second client was served while the first was still connected")
        XCTAssertEqual(fixture.recorder.openedCount, 1)

        first.close()
        XCTAssertEqual(try receiveExactly(second, count: 4), Array("two\n".utf8))
        XCTAssertEqual(fixture.recorder.openedCount, 2)
        second.close()

        let third = try EchoClient(connectingTo: fixture.endpoint)
        XCTAssertEqual(try third.roundTrip(Array("three\n".utf8)), Array("three\n".utf8))
        third.close()
        XCTAssertTrue(try fixture.loopThread.sync { fixture.server.isListening }, "sequential server must keep running")
    }

    func testConcurrentModeServesTheSecondClientWhileTheFirstIsConnected() throws {
        let fixture = try ServerFixture(mode: .concurrent)
        defer { fixture.shutdown() }
        let first = try EchoClient(connectingTo: fixture.endpoint)
        let second = try EchoClient(connectingTo: fixture.endpoint)
        XCTAssertEqual(try second.roundTrip(Array("b\n".utf8), timeout: 2), Array("b\n".utf8))
        XCTAssertEqual(try first.roundTrip(Array("a\n".utf8), timeout: 2), Array("a\n".utf8))
    }

    func testOnceModeStopsAfterTheFirstClient() throws {
        let fixture = try ServerFixture(mode: .once)
        defer { fixture.shutdown() }
        let stopped = DispatchSemaphore(value: 0)
        try fixture.loopThread.sync { fixture.server.onStopped = { stopped.signal() } }
        let client = try EchoClient(connectingTo: fixture.endpoint)
        XCTAssertEqual(try client.roundTrip(Array("only\n".utf8)), Array("only\n".utf8))
        client.close()
        XCTAssertEqual(stopped.wait(timeout: .now() + 5), .success)
        XCTAssertFalse(try fixture.loopThread.sync { fixture.server.isListening })
        XCTAssertThrowsError(try Socket.connect(host: "127.0.0.1", port: fixture.port)) { error in
            XCTAssertEqual((error as? SocketError)?.message, "connection refused: 127.0.0.1:\(fixture.port)")
        }
    }

    func testMaxConnectionsTurnsAwayTheExtraClientWithAMessage() throws {
        let fixture = try ServerFixture(limits: ServerLimits(maxConnections: 2))
        defer { fixture.shutdown() }
        let a = try EchoClient(connectingTo: fixture.endpoint)
        let b = try EchoClient(connectingTo: fixture.endpoint)
        XCTAssertEqual(try a.roundTrip([1]), [1])
        XCTAssertEqual(try b.roundTrip([2]), [2])
        let extra = try fixture.connect()
        let message = String(decoding: try receiveUntilEnd(extra), as: UTF8.self)
        XCTAssertTrue(message.hasPrefix("ERR 503 server busy"), message)
        XCTAssertEqual(try a.roundTrip([3]), [3], "existing clients keep being served")
        a.close()
        XCTAssertTrue(fixture.recorder.wait { _ in fixture.recorder.closedCount == 1 })
        let c = try EchoClient(connectingTo: fixture.endpoint)
        XCTAssertEqual(try c.roundTrip([4]), [4], "a freed slot is usable again")
    }

    func testIdleConnectionIsDroppedAfterTheTimeout() throws {
        let fixture = try ServerFixture(limits: ServerLimits(idleTimeout: 0.3))
        defer { fixture.shutdown() }
        let idle = try fixture.connect()
        let started = Date()
        XCTAssertEqual(try receiveUntilEnd(idle, timeout: 5), [])
        XCTAssertGreaterThanOrEqual(Date().timeIntervalSince(started), 0.25)
        XCTAssertTrue(fixture.recorder.wait { events in
            events.contains { if case let .connectionClosed(_, _, _, _, reason) = $0 { return reason?.contains("idle") == true } else { return false } }
        })
    }

    func testPeerResetMidEchoDoesNotDisturbOthers() throws {
        let fixture = try ServerFixture()
        defer { fixture.shutdown() }
        let honest = try EchoClient(connectingTo: fixture.endpoint)
        for _ in 0..<20 {
            let rude = try fixture.connect()
            try rude.sendAll(randomBytes(count: 300_000, seed: 3))
            try rude.setResetOnClose()
            rude.close()
            XCTAssertEqual(try honest.roundTrip(Array("still here\n".utf8)), Array("still here\n".utf8))
        }
        XCTAssertTrue(fixture.recorder.wait { _ in fixture.recorder.closedCount == 20 })
    }
}
