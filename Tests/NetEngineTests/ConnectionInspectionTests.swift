import Foundation
import NetEngine
import XCTest

/// The inspector's engine side: payload rings, snapshots with the kernel's view, and acting on a connection by
/// its number from another thread.
final class ConnectionInspectionTests: XCTestCase {
    private func append(_ ring: inout PayloadRing, _ text: String, at time: Double) {
        Array(text.utf8).withUnsafeBytes { ring.append($0, time: time) }
    }

    private func text(_ chunks: [PayloadChunk]) -> [String] {
        chunks.map { "\($0.offset):\(String(decoding: $0.bytes, as: UTF8.self))" }
    }

    func testARingKeepsTheLastBytesWithWhereEachChunkStarted() {
        var ring = PayloadRing(received: true, capacity: 10)
        append(&ring, "hello", at: 1)
        append(&ring, "world!!", at: 2)
        XCTAssertEqual(ring.total, 12)
        XCTAssertEqual(ring.count, 10)
        XCTAssertEqual(text(ring.chunks()), ["2:llo", "5:world!!"], "the oldest chunk is cut where the bytes held begin")
        XCTAssertEqual(ring.chunks().map(\.time), [1, 2])
        append(&ring, "0123456789abc", at: 3)
        XCTAssertEqual(text(ring.chunks()), ["15:3456789abc"], "a write larger than the ring keeps its newest bytes")
        append(&ring, "xy", at: 4)
        XCTAssertEqual(text(ring.chunks()), ["17:56789abc", "25:xy"], "wrapped around the storage")
    }

    func testARingStartedMidStreamGrowsAcrossTheEndOfItsStorage() {
        var ring = PayloadRing(received: true, capacity: 4096, startingAt: 200)
        let first = String(repeating: "a", count: 100), second = String(repeating: "b", count: 300)
        append(&ring, first, at: 1)
        append(&ring, second, at: 2)
        XCTAssertEqual(text(ring.chunks()), ["200:" + first, "300:" + second], "kept whole while the storage doubled")
        let third = String(repeating: "c", count: 3900)
        append(&ring, third, at: 3)
        XCTAssertEqual(text(ring.chunks()), ["404:" + String(repeating: "b", count: 196), "600:" + third], "the newest 4096 bytes")
    }

    func testTinyChunksCannotOutgrowTheRing() {
        var ring = PayloadRing(received: false, capacity: 64, maxChunks: 4)
        for index in 0..<10 { append(&ring, String(index), at: Double(index)) }
        XCTAssertEqual(text(ring.chunks()), ["6:6", "7:7", "8:8", "9:9"], "at most maxChunks, the oldest bytes go with their chunk")
        XCTAssertEqual(ring.count, 4)
    }

    func testARingGrowsWithItsBytesAndStopsAtItsCapacity() {
        var ring = PayloadRing(received: true)
        XCTAssertEqual(ring.allocatedBytes, 0, "nothing allocated before the first byte")
        append(&ring, "ping\n", at: 0)
        XCTAssertLessThan(ring.allocatedBytes, 1024, "a short exchange costs a small ring")
        let block = [UInt8](repeating: 0x41, count: 1000)
        for _ in 0..<300 { block.withUnsafeBytes { ring.append($0, time: 1) } }
        XCTAssertEqual(ring.count, PayloadRing.defaultCapacity)
        XCTAssertLessThanOrEqual(ring.allocatedBytes, PayloadRing.defaultCapacity + PayloadRing.defaultMaxChunks * 16 + 64)
        XCTAssertEqual(ring.chunks().reduce(0) { $0 + $1.bytes.count }, PayloadRing.defaultCapacity)
        XCTAssertEqual(ring.chunks().last?.offset, 5 + 299 * 1000)
    }

    func testAWatchedConnectionKeepsBothDirectionsAndForgetsThemWhenUnwatched() throws {
        let embedded = try EmbeddedConnection(handler: EchoHandler())
        embedded.receive("before")
        _ = embedded.takeWritten()
        XCTAssertEqual(embedded.connection.snapshot().received, [], "nothing is kept while nobody watches")
        XCTAssertEqual(embedded.connection.captureBytes, 0)

        embedded.connection.startCapture()
        embedded.receive("hello")
        embedded.connection.write("server says hi\n")
        let snapshot = embedded.connection.snapshot()
        XCTAssertTrue(snapshot.isCapturing)
        XCTAssertEqual(text(snapshot.received), ["6:hello"], "offsets count from the connection's first byte")
        XCTAssertEqual(text(snapshot.sent), ["6:hello", "11:server says hi\n"])
        XCTAssertEqual(snapshot.chunks.map(\.received), [true, false, false], "in the order the bytes crossed")
        XCTAssertEqual(snapshot.bytesIn, 11)
        XCTAssertNil(snapshot.tcp, "no kernel view without a socket")
        let now = Date().timeIntervalSince1970
        XCTAssertEqual(snapshot.received[0].time, now, accuracy: 5, "times are wall-clock")

        embedded.connection.stopCapture()
        XCTAssertEqual(embedded.connection.captureBytes, 0)
        embedded.receive("after")
        XCTAssertEqual(embedded.connection.snapshot().received, [])
    }

    func testADumpAndACaptureShareTheTap() throws {
        let embedded = try EmbeddedConnection(handler: EchoHandler())
        embedded.connection.startCapture(capacity: 4)
        embedded.receive("abcdef")
        XCTAssertEqual(text(embedded.connection.snapshot().received), ["2:cdef"])
        XCTAssertEqual(embedded.takeWrittenText(), "abcdef", "the echo is unchanged by the capture")
    }

    // MARK: Real sockets

    private func startGroup(_ loopThread: LoopThread, capture: Bool) throws -> (ServerGroup, UInt16) {
        let loop = loopThread.loop
        return try loopThread.sync {
            let group = ServerGroup(loops: [loop], host: "127.0.0.1", sink: nil)
            group.capturesPayload = capture
            let address = try group.start(ServerGroup.Service(name: "echo", port: 0) { EchoHandler() })
            return (group, address.port)
        }
    }

    func testAtMostCaptureLimitConnectionsKeepRingsAndAClosedOneFreesItsPlace() throws {
        let loopThread = try LoopThread()
        defer { loopThread.shutdown() }
        let (group, port) = try loopThread.sync {
            let group = ServerGroup(loops: [loopThread.loop], host: "127.0.0.1", sink: nil)
            group.capturesPayload = true
            group.captureLimit = 2
            let address = try group.start(ServerGroup.Service(name: "echo", port: 0) { EchoHandler() })
            return (group, address.port)
        }
        func capturing() throws -> [Bool] {
            try loopThread.sync { group.server(named: "echo")!.openConnections.sorted { $0.id < $1.id }.map(\.isCapturing) }
        }
        func waitForOpen(_ count: Int) throws {
            let deadline = Date().addingTimeInterval(5)
            while try loopThread.sync({ group.server(named: "echo")!.openConnections.count }) != count && Date() < deadline { usleep(5_000) }
        }
        var peers = [try Socket.connect(host: "127.0.0.1", port: port), try Socket.connect(host: "127.0.0.1", port: port),
                     try Socket.connect(host: "127.0.0.1", port: port)]
        try waitForOpen(3)
        XCTAssertEqual(try capturing(), [true, true, false], "the third waits for a place")
        peers.removeFirst().close()
        try waitForOpen(2)
        peers.append(try Socket.connect(host: "127.0.0.1", port: port))
        try waitForOpen(3)
        XCTAssertEqual(try capturing(), [true, false, true], "the first one's place went to the newcomer")
        try loopThread.sync { group.stopAll() }
    }

    private func snapshot(_ group: ServerGroup, id: Int, replyOn loop: EventLoop) -> ConnectionSnapshot? {
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var result: ConnectionSnapshot?
        group.withConnection(id: id, replyOn: loop, { $0?.snapshot() }) { snapshot in
            result = snapshot
            done.signal()
        }
        XCTAssertEqual(done.wait(timeout: .now() + 5), .success)
        return result
    }

    private func onlyConnectionID(_ group: ServerGroup, _ loopThread: LoopThread) throws -> Int {
        let deadline = Date().addingTimeInterval(5)
        while Date() < deadline {
            if let id = try loopThread.sync({ group.server(named: "echo")?.openConnections.first?.id }) { return id }
            usleep(5_000)
        }
        throw SocketError(code: ETIMEDOUT, message: "no connection")
    }

    func testASnapshotOfARealConnectionHasTheKernelsViewAndThePayload() throws {
        let loopThread = try LoopThread()
        defer { loopThread.shutdown() }
        let (group, port) = try startGroup(loopThread, capture: true)
        defer { _ = try? loopThread.sync { group.stopAll() } }
        let client = try Socket.connect(host: "127.0.0.1", port: port)
        try client.sendAll("known payload\n")
        XCTAssertEqual(try receiveExactly(client, count: 14), Array("known payload\n".utf8))
        let id = try onlyConnectionID(group, loopThread)

        let shot = try XCTUnwrap(snapshot(group, id: id, replyOn: loopThread.loop))
        XCTAssertEqual(shot.id, id)
        XCTAssertEqual(text(shot.received), ["0:known payload\n"])
        XCTAssertEqual(text(shot.sent), ["0:known payload\n"])
        XCTAssertEqual(shot.local?.port, port)
        XCTAssertEqual(shot.peer.port, client.localAddress?.port)
        let tcp = try XCTUnwrap(shot.tcp)
        XCTAssertEqual(tcp.state, 1, "TCP_ESTABLISHED")
        XCTAssertGreaterThan(tcp.roundTrip, 0, "the kernel measured a round trip from the echo's acknowledgements")
        XCTAssertLessThan(tcp.roundTrip, 1)
        XCTAssertGreaterThan(tcp.congestionWindow, 0)
        XCTAssertEqual(tcp.sendQueue, 0, "everything sent was acknowledged")
        XCTAssertGreaterThan(tcp.maxSegmentSize, 0)

        XCTAssertNil(snapshot(group, id: id + 1_000_000, replyOn: loopThread.loop), "no such connection: nil, not a hang")
    }

    func testTheReceiveQueueShowsBytesTheServerHasNotRead() throws {
        // A raw upload handler paused by its own publish is hard to catch; an echo whose peer does not read fills up
        // and stops reading, which leaves bytes in the server's receive queue.
        let loopThread = try LoopThread()
        defer { loopThread.shutdown() }
        let (group, port) = try startGroup(loopThread, capture: false)
        defer { _ = try? loopThread.sync { group.stopAll() } }
        let client = try Socket.connect(host: "127.0.0.1", port: port)
        try client.setNonBlocking(true)
        let block = [UInt8](repeating: 0x5A, count: 64 * 1024)
        var sentTotal = 0
        for _ in 0..<200 {
            let sent = try block.withUnsafeBytes { try client.send($0) }
            if sent == 0 { usleep(20_000); if (try block.withUnsafeBytes { try client.send($0) }) == 0 { break } }
            sentTotal += sent
        }
        let id = try onlyConnectionID(group, loopThread)
        let shot = try XCTUnwrap(snapshot(group, id: id, replyOn: loopThread.loop))
        XCTAssertGreaterThan(shot.tcp?.receiveQueue ?? 0, 0, "bytes wait in the kernel for a server that stopped reading")
        XCTAssertGreaterThan(shot.pendingOutput + (shot.tcp?.sendQueue ?? 0), 0, "and the echo's replies wait to go out")
        XCTAssertEqual(shot.received, [], "not watched: no payload kept")
        _ = sentTotal
    }

    func testAResetFromTheServerSideReachesThePeerAsConnectionReset() throws {
        let loopThread = try LoopThread()
        defer { loopThread.shutdown() }
        let (group, port) = try startGroup(loopThread, capture: false)
        defer { _ = try? loopThread.sync { group.stopAll() } }
        let client = try Socket.connect(host: "127.0.0.1", port: port)
        try client.sendAll("x")
        _ = try receiveExactly(client, count: 1)
        let id = try onlyConnectionID(group, loopThread)
        let done = DispatchSemaphore(value: 0)
        group.withConnection(id: id, replyOn: loopThread.loop, { connection -> Bool in
            connection?.write("bye\n")
            connection?.reset()
            return connection != nil
        }) { found in
            XCTAssertTrue(found)
            done.signal()
        }
        XCTAssertEqual(done.wait(timeout: .now() + 5), .success)
        var buffer = [UInt8](repeating: 0, count: 64)
        var failure: SocketError?
        let deadline = Date().addingTimeInterval(5)
        while failure == nil && Date() < deadline {
            do {
                try client.waitFor(events: Int16(POLLIN), timeoutMilliseconds: 5000)
                if try buffer.withUnsafeMutableBytes({ try client.receive(into: $0) }) == 0 { break }
            } catch let error as SocketError { failure = error }
        }
        XCTAssertEqual(failure?.code, ECONNRESET)
    }

    func testAConnectionIsFoundOnWhicheverLoopHoldsItAndAMissOnEveryLoopAnswersOnce() throws {
        // Like `serve --threads 3`: the group starts before its loops run, and stops after they ended.
        let loops = try (0..<3).map { _ in try EventLoop() }
        let recorder = EventRecorder()
        let group = ServerGroup(loops: loops, host: "127.0.0.1", reportsBytes: false, sink: recorder.sink)
        group.capturesPayload = true
        let port = try group.start(ServerGroup.Service(name: "echo", port: 0) { EchoHandler() }).port
        let ended = DispatchGroup()
        for loop in loops {
            ended.enter()
            Thread { loop.run(); ended.leave() }.start()
        }
        defer {
            loops.forEach { $0.stop() }
            ended.wait()
            group.stopAll()
        }
        var clients: [Socket] = []
        for index in 0..<6 {
            let client = try Socket.connect(host: "127.0.0.1", port: port)
            try client.sendAll("client \(index)\n")
            _ = try receiveExactly(client, count: 9)
            clients.append(client)
        }
        let ids = recorder.events.compactMap { event -> Int? in
            if case let .connectionOpened(id, _, _) = event { return id } else { return nil }
        }
        XCTAssertEqual(ids.count, 6)
        let reply = try LoopThread()
        defer { reply.shutdown() }
        let seen = ids.compactMap { snapshot(group, id: $0, replyOn: reply.loop) }.map { String(decoding: $0.received.flatMap(\.bytes), as: UTF8.self) }
        XCTAssertEqual(seen.sorted(), (0..<6).map { "client \($0)\n" }, "each found on the loop that holds it, answered on another")

        let answers = EventRecorder()
        group.withConnection(id: -1, replyOn: reply.loop, { $0 == nil }) { missing in
            answers.sink(.error(missing ? "none" : "found"))
        }
        XCTAssertTrue(answers.wait(timeout: 5) { !$0.isEmpty })
        usleep(100_000)
        XCTAssertEqual(answers.events.count, 1, "three loops missed it: one answer, not three")
        _ = clients
    }

    func testATLSConnectionShowsItsPlainTextAndTheKernelsViewOfTheSocketUnderIt() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("netconsole-inspect-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let certificate = try ServerCertificate.selfSigned(in: folder.appendingPathComponent("config").path)
        let context = try TLSContext.server(certificateFile: certificate.certificateFile, keyFile: certificate.keyFile)
        let loopThread = try LoopThread()
        defer { loopThread.shutdown() }
        let loop = loopThread.loop
        let group = try loopThread.sync { () -> ServerGroup in
            let group = ServerGroup(loops: [loop], host: "127.0.0.1", sink: nil)
            group.capturesPayload = true
            try group.start(ServerGroup.Service(name: "echo", port: 0, tls: context) { EchoHandler() })
            return group
        }
        defer { _ = try? loopThread.sync { group.stopAll() } }
        let port = try loopThread.sync { group.server(named: "echo")!.localAddress!.port }
        let fingerprint = try XCTUnwrap(context.certificateFingerprint)
        let client = try EchoClient(connectingTo: Endpoint(host: "127.0.0.1", port: port),
                                    tls: try TLSClientConfiguration(pinned: fingerprint, knownServers: nil), timeout: 5)
        defer { client.close() }
        XCTAssertEqual(try client.roundTrip(Array("secret text\n".utf8), timeout: 5), Array("secret text\n".utf8))
        let id = try onlyConnectionID(group, loopThread)
        let shot = try XCTUnwrap(snapshot(group, id: id, replyOn: loopThread.loop))
        XCTAssertEqual(text(shot.received), ["0:secret text\n"], "the payload as the handler saw it, decrypted")
        XCTAssertEqual(shot.tcp?.state, 1, "TCP_INFO of the socket TLS runs over")
        XCTAssertEqual(shot.local?.port, port)
    }
}
