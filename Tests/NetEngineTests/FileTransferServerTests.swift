import Crypto
import Foundation
import NetEngine
import XCTest

/// The file server and the file client in-process, over real loopback sockets and real temp folders.
final class FileTransferServerTests: XCTestCase {
    override func setUp() { ignoreBrokenPipeSignal() }

    // MARK: Fixtures

    func makeFolder(_ label: String = "files") throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("netconsole-\(label)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    func startServer(in folder: URL, maxSize: Int64 = 1 << 30, raw: Bool = false, stallTimeout: Double = 60,
                     limits: ServerLimits = ServerLimits(), temporaryFiles: UploadStore.TemporaryFiles = .anonymous,
                     configure: (inout FileServerOptions) -> Void = { _ in }) throws -> ServerFixture {
        var options = FileServerOptions(directory: folder.path, maxSize: maxSize, fsync: false, raw: raw, stallTimeout: stallTimeout)
        configure(&options)
        let store = UploadStore(options: options, temporaryFiles: temporaryFiles)
        let fixture = try ServerFixture(limits: limits, service: "files") {
            raw ? RawUploadHandler(store: store) as ConnectionHandler : FileUploadHandler(store: store)
        }
        addTeardownBlock { fixture.shutdown() }
        return fixture
    }

    func write(_ bytes: [UInt8], to folder: URL, as name: String) throws -> String {
        let url = folder.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url.path
    }

    func entries(_ folder: URL) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).sorted()
    }

    func bytes(_ folder: URL, _ name: String) -> [UInt8]? {
        (try? Data(contentsOf: folder.appendingPathComponent(name))).map { [UInt8]($0) }
    }

    /// Runs a `FileSender` on its own loop thread until it finishes; returns every event it reported.
    func send(_ files: [String], to port: UInt16, raw: Bool = false, names: [String]? = nil, timeout: Double = 20) throws -> [FileSendEvent] {
        let client = try LoopThread()
        defer { client.shutdown() }
        let lock = NSLock()
        var events: [FileSendEvent] = []
        let done = DispatchSemaphore(value: 0)
        let sender = try client.sync {
            let sender = FileSender(loop: client.loop, endpoint: Endpoint(host: "127.0.0.1", port: port), files: files, raw: raw) { event in
                lock.lock()
                events.append(event)
                lock.unlock()
                if case .finished = event { done.signal() }
            }
            sender.names = names
            sender.start()
            return sender
        }
        if done.wait(timeout: .now() + timeout) == .timedOut {
            _ = try? client.sync { sender.cancel() }
            XCTFail("the sender did not finish within \(timeout) s")
        }
        lock.lock()
        defer { lock.unlock() }
        return events
    }

    func confirmed(_ events: [FileSendEvent]) -> [String] {
        events.compactMap { if case let .fileConfirmed(_, name, _) = $0 { return name } else { return nil } }
    }

    func refusals(_ events: [FileSendEvent]) -> [String] {
        events.compactMap { if case let .fileRefused(_, reason) = $0 { return reason } else { return nil } }
    }

    func failure(_ events: [FileSendEvent]) -> String? {
        events.compactMap { if case let .failed(message) = $0 { return message } else { return nil } }.first
    }

    func finished(_ events: [FileSendEvent]) -> Bool? {
        events.compactMap { if case let .finished(all) = $0 { return all } else { return nil } }.last
    }

    func savedEvents(_ recorder: EventRecorder) -> [(path: String, size: Int64, sha256: String)] {
        recorder.events.compactMap { if case let .fileSaved(_, path, size, sha) = $0 { return (path, size, sha) } else { return nil } }
    }

    func rejections(_ recorder: EventRecorder) -> [String] {
        recorder.events.compactMap { if case let .uploadRejected(_, reason) = $0 { return reason } else { return nil } }
    }


    // MARK: The framed protocol

    func testSeveralFilesOnOneConnectionArriveIdentical() throws {
        let source = try makeFolder("source")
        let target = try makeFolder()
        let server = try startServer(in: target)
        let payloads: [(String, [UInt8])] = [
            ("empty.txt", []), ("one.bin", [0x7F]), ("héllo wörld ✓.txt", Array("grüße\n".utf8)),
            ("random.bin", randomBytes(count: 3_000_000, seed: 5)),
        ]
        let paths = try payloads.map { try write($0.1, to: source, as: $0.0) }
        let events = try send(paths, to: server.port)
        XCTAssertEqual(finished(events), true, "\(events)")
        XCTAssertEqual(confirmed(events), payloads.map(\.0))
        XCTAssertEqual(entries(target), payloads.map(\.0).sorted())
        for (name, payload) in payloads { XCTAssertTrue(bytes(target, name) == payload, name) }
        XCTAssertEqual(events.filter { if case .connected = $0 { return true } else { return false } }.count, 1, "one connection")
        XCTAssertEqual(server.recorder.openedCount, 1)

        XCTAssertTrue(server.recorder.wait { _ in self.savedEvents(server.recorder).count == 4 })
        let saved = savedEvents(server.recorder)
        XCTAssertEqual(saved.last?.size, 3_000_000)
        XCTAssertEqual(saved.last?.sha256, hexString(SHA256.hash(data: payloads[3].1)))
        XCTAssertEqual(saved.last?.path, target.appendingPathComponent("random.bin").path)
        let digests = events.compactMap { if case let .fileConfirmed(_, _, sha) = $0 { return sha } else { return nil } }
        XCTAssertEqual(digests.last, saved.last?.sha256, "client and server hashed the same bytes")
        XCTAssertTrue(server.recorder.events.contains { if case .uploadProgress = $0 { return true } else { return false } })
        for index in payloads.indices {
            let finals = events.filter { if case let .progress(i, sent, size) = $0 { return i == index && sent == size } else { return false } }
            XCTAssertEqual(finals.count, 1, "exactly one completed-progress report for file \(index)")
        }
    }

    func testNamesGivenInPlaceOfThePathsAreTheNamesSent() throws {
        let source = try makeFolder("source")
        let target = try makeFolder()
        let server = try startServer(in: target)
        let path = try write(Array("through a descriptor\n".utf8), to: source, as: "7")
        let fd = open(path, O_RDONLY)
        defer { close(fd) }
        let events = try send(["/proc/self/fd/\(fd)"], to: server.port, names: ["photo \u{FFFD}.jpg"])
        XCTAssertEqual(finished(events), true, "\(events)")
        XCTAssertEqual(confirmed(events), ["photo \u{FFFD}.jpg"])
        XCTAssertTrue(bytes(target, "photo \u{FFFD}.jpg") == Array("through a descriptor\n".utf8))
    }

    func testAnExistingFileIsNeverOverwritten() throws {
        let source = try makeFolder("source")
        let target = try makeFolder()
        _ = try write(Array("keep me".utf8), to: target, as: "notes.txt")
        let server = try startServer(in: target)
        let path = try write(Array("new".utf8), to: source, as: "notes.txt")
        let events = try send([path, path], to: server.port)
        XCTAssertEqual(confirmed(events), ["notes (1).txt", "notes (2).txt"])
        XCTAssertEqual(bytes(target, "notes.txt"), Array("keep me".utf8))
        XCTAssertEqual(bytes(target, "notes (2).txt"), Array("new".utf8))
    }

    func testOversizeFileIsRefusedBeforeAnyByteAndTheNextFileStillGoes() throws {
        let source = try makeFolder("source")
        let target = try makeFolder()
        let server = try startServer(in: target, maxSize: 1000)
        let big = try write(randomBytes(count: 1001, seed: 1), to: source, as: "big.bin")
        let small = try write(randomBytes(count: 1000, seed: 2), to: source, as: "small.bin")
        let events = try send([big, small], to: server.port)
        XCTAssertEqual(finished(events), false)
        XCTAssertEqual(refusals(events).count, 1)
        XCTAssertTrue(refusals(events).first?.hasPrefix("413 ") ?? false, "\(refusals(events))")
        XCTAssertTrue(refusals(events).first?.contains("limit") ?? false, "\(refusals(events))")
        XCTAssertEqual(confirmed(events), ["small.bin"])
        XCTAssertEqual(entries(target), ["small.bin"])
        let sentBeforeRefusal = events.contains { if case let .progress(0, sent, _) = $0 { return sent > 0 } else { return false } }
        XCTAssertFalse(sentBeforeRefusal, "no byte of the refused file was sent")
    }

    func testWrongChecksumIsRefusedAndTheConnectionGoesOn() throws {
        let target = try makeFolder()
        let server = try startServer(in: target)
        let socket = try server.connect()
        let payload = Array("the real bytes".utf8)
        try socket.sendAll(FileTransferEncoder.header(name: "tampered.txt", size: Int64(payload.count)))
        XCTAssertEqual(try receiveLine(socket), "READY")
        try socket.sendAll(payload + FileTransferEncoder.trailer(sha256: Array(SHA256.hash(data: Array("other".utf8)))))
        let verdict = try receiveLine(socket)
        XCTAssertTrue(verdict.hasPrefix("ERR 422 checksum mismatch"), verdict)
        XCTAssertEqual(entries(target), [], "nothing saved, temp file removed")

        try socket.sendAll(FileTransferEncoder.header(name: "honest.txt", size: Int64(payload.count)))
        XCTAssertEqual(try receiveLine(socket), "READY")
        try socket.sendAll(payload + FileTransferEncoder.trailer(sha256: Array(SHA256.hash(data: payload))))
        XCTAssertEqual(try receiveLine(socket), "OK honest.txt")
        XCTAssertEqual(entries(target), ["honest.txt"])
    }

    func testHostileNamesLandInsideTheFolder() throws {
        let target = try makeFolder()
        let server = try startServer(in: target)
        let socket = try server.connect()
        let names = ["../../etc/passwd", "/etc/passwd", ".bashrc", "a\u{0}b\nc\u{1B}[2J.txt", "..", ""]
        var saved: [String] = []
        for name in names {
            try socket.sendAll(FileTransferEncoder.header(name: name, size: 2))
            XCTAssertEqual(try receiveLine(socket), "READY")
            try socket.sendAll(Array("hi".utf8) + FileTransferEncoder.trailer(sha256: Array(SHA256.hash(data: Array("hi".utf8)))))
            let line = try receiveLine(socket)
            XCTAssertTrue(line.hasPrefix("OK "), line)
            saved.append(String(line.dropFirst(3)))
        }
        XCTAssertEqual(saved, ["passwd", "passwd (1)", "bashrc", "a_b_c_[2J.txt", "unnamed", "unnamed (1)"])
        XCTAssertEqual(entries(target), saved.sorted())
    }

    func testClientThatDisconnectsHalfWayLeavesNothingBehind() throws {
        let target = try makeFolder()
        let server = try startServer(in: target)
        for reset in [false, true] {
            let socket = try server.connect()
            let header = FileTransferEncoder.header(name: "partial.bin", size: 1_000_000)
            try socket.sendAll(header)
            XCTAssertEqual(try receiveLine(socket), "READY")
            try socket.sendAll(randomBytes(count: 400_000, seed: 3))
            let expected = (reset ? 2 : 1) * (header.count + 400_000)
            XCTAssertTrue(server.recorder.wait { _ in self.server(server, hasReceivedAtLeast: expected) })
            if reset { try socket.setResetOnClose() }
            socket.close()
            XCTAssertTrue(server.recorder.wait { _ in self.rejections(server.recorder).count == (reset ? 2 : 1) }, "\(server.recorder.events)")
            XCTAssertEqual(entries(target), [], "temporary file removed (reset: \(reset))")
        }
        XCTAssertTrue(rejections(server.recorder)[0].contains("400000 of 1000000"), rejections(server.recorder)[0])
        // The server goes on.
        let source = try makeFolder("source")
        let events = try send([write([1, 2, 3], to: source, as: "after.bin")], to: server.port)
        XCTAssertEqual(confirmed(events), ["after.bin"])
    }

    func testGarbageHeaderGetsAnErrorAndTheServerServesTheNextClient() throws {
        let target = try makeFolder()
        let server = try startServer(in: target)
        let socket = try server.connect()
        try socket.sendAll(Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
        let line = try receiveLine(socket)
        XCTAssertTrue(line.hasPrefix("ERR 400 "), line)
        XCTAssertEqual(try receiveLine(socket), "", "then the server closes")
        let source = try makeFolder("source")
        XCTAssertEqual(confirmed(try send([write([9], to: source, as: "next.bin")], to: server.port)), ["next.bin"])
    }

    func testSlowHeaderIsDroppedAtTheHeaderDeadline() throws {
        let target = try makeFolder()
        let server = try startServer(in: target, limits: ServerLimits(headerTimeout: 0.3))
        let socket = try server.connect()
        try socket.sendAll(Array(FileTransferEncoder.header(name: "slow.txt", size: 1).prefix(6)))
        let started = Date()
        XCTAssertEqual(try receiveLine(socket, timeout: 5), "ERR 408 no complete file header within 0.3 s", "the client is told why")
        XCTAssertEqual(try receiveLine(socket, timeout: 5), "")
        XCTAssertLessThan(Date().timeIntervalSince(started), 3)
        XCTAssertTrue(server.recorder.wait { _ in self.rejections(server.recorder).contains { $0.contains("no complete file header") } },
                      "an error line in the log")
        XCTAssertTrue(server.recorder.wait {
            $0.contains { if case let .connectionClosed(_, _, _, _, reason) = $0 { return reason?.contains("file header") ?? false } else { return false } }
        })
    }

    func testClientThatStallsMidUploadIsDroppedAndItsFileRemoved() throws {
        let target = try makeFolder()
        let server = try startServer(in: target, stallTimeout: 0.3)
        let socket = try server.connect()
        try socket.sendAll(FileTransferEncoder.header(name: "stalled.bin", size: 1000))
        XCTAssertEqual(try receiveLine(socket), "READY")
        try socket.sendAll([UInt8](repeating: 1, count: 10))
        XCTAssertEqual(entries(target), [], "the temporary file is anonymous")
        XCTAssertEqual(try receiveLine(socket, timeout: 5), "ERR 408 no data for 0.3 s during the upload of stalled.bin")
        XCTAssertEqual(try receiveLine(socket, timeout: 5), "", "the server drops the connection")
        XCTAssertTrue(server.recorder.wait { _ in self.rejections(server.recorder).contains { $0.contains("no data for 0.3 s") } },
                      "\(self.rejections(server.recorder))")
        XCTAssertEqual(entries(target), [])
    }

    func testServerStopRemovesAnUnfinishedUpload() throws {
        let target = try makeFolder()
        let server = try startServer(in: target, temporaryFiles: .named)
        let socket = try server.connect()
        try socket.sendAll(FileTransferEncoder.header(name: "interrupted.bin", size: 100))
        XCTAssertEqual(try receiveLine(socket), "READY")
        try socket.sendAll([UInt8](repeating: 1, count: 50))
        XCTAssertTrue(server.recorder.wait { $0.contains { if case .uploadProgress = $0 { return true } else { return false } } })
        XCTAssertEqual(entries(target).count, 1, "the hidden temporary file exists while the upload runs")
        XCTAssertTrue(entries(target)[0].hasPrefix(".netconsole-upload-"))
        _ = try server.loopThread.sync { server.server.stop() }
        XCTAssertEqual(entries(target), [])
    }

    func testCancellingFromAnEventCallbackStopsEverythingAtOnce() throws {
        let source = try makeFolder("source")
        let target = try makeFolder()
        let server = try startServer(in: target)
        let paths = try (0..<3).map { try write(randomBytes(count: 10, seed: UInt64($0)), to: source, as: "\($0).bin") }
        let client = try LoopThread()
        defer { client.shutdown() }
        let lock = NSLock()
        var events: [FileSendEvent] = []
        let done = DispatchSemaphore(value: 0)
        _ = try client.sync { () -> FileSender in
            var sender: FileSender!
            sender = FileSender(loop: client.loop, endpoint: server.endpoint, files: paths) { event in
                lock.lock()
                events.append(event)
                lock.unlock()
                if case .fileConfirmed = event { sender.cancel() }
                if case .finished = event { done.signal() }
            }
            sender.start()
            return sender
        }
        XCTAssertEqual(done.wait(timeout: .now() + 10), .success)
        usleep(100_000)  // anything reported after finished would show up now
        lock.lock()
        defer { lock.unlock() }
        XCTAssertEqual(confirmed(events), ["0.bin"])
        XCTAssertEqual(failure(events), "cancelled")
        guard case .finished(false)? = events.last else { return XCTFail("finished must come last: \(events)") }
        XCTAssertEqual(events.filter { if case .fileStarted = $0 { return true } else { return false } }.count, 1, "\(events)")
    }

    // MARK: The client's own errors

    func testMissingFilesAndFoldersFailBeforeConnecting() throws {
        let source = try makeFolder("source")
        let target = try makeFolder()
        let server = try startServer(in: target)
        let good = try write([1], to: source, as: "good.bin")
        var events = try send([good, source.appendingPathComponent("missing.txt").path], to: server.port)
        XCTAssertTrue(failure(events)?.hasSuffix("missing.txt: no such file") ?? false, "\(events)")
        XCTAssertEqual(finished(events), false)
        events = try send([source.path], to: server.port)
        XCTAssertTrue(failure(events)?.hasSuffix("is a folder, not a file") ?? false, "\(events)")
        XCTAssertEqual(server.recorder.openedCount, 0, "nothing was sent")
        XCTAssertEqual(entries(target), [])
    }

    func testRefusedConnectionIsAClearFailure() throws {
        let listener = try Socket.listening(on: SocketAddress.resolve(host: "127.0.0.1", port: 0)[0])
        let port = listener.localAddress!.port
        listener.close()
        let source = try makeFolder("source")
        let events = try send([write([1], to: source, as: "a.bin")], to: port)
        XCTAssertEqual(failure(events), "connection refused: 127.0.0.1:\(port)")
        XCTAssertEqual(finished(events), false)
    }

    func testPlainTCPPeerThatIsNotAFileServerIsReported() throws {
        let echo = try ServerFixture()
        defer { echo.shutdown() }
        let source = try makeFolder("source")
        let events = try send([write(Array("data".utf8), to: source, as: "a.txt")], to: echo.port)
        XCTAssertTrue(failure(events)?.contains("is it a netconsole file server") ?? false, "\(events)")
    }

    func testBusyServerEndsTheSessionWithItsReason() throws {
        let source = try makeFolder("source")
        let target = try makeFolder()
        let server = try startServer(in: target, limits: ServerLimits(maxConnections: 1))
        let occupant = try server.connect()
        XCTAssertTrue(server.recorder.wait { _ in server.recorder.openedCount == 1 })
        let events = try send([write([1], to: source, as: "a.bin"), write([2], to: source, as: "b.bin")], to: server.port)
        XCTAssertEqual(refusals(events).count, 1, "\(events)")
        XCTAssertTrue(refusals(events).first?.hasPrefix("503 server busy") ?? false, "\(events)")
        XCTAssertTrue(failure(events)?.contains("503 server busy") ?? false, "\(events)")
        XCTAssertEqual(finished(events), false)
        occupant.close()
    }

    // MARK: Raw mode

    func testRawServerSavesEachConnectionUntilEOF() throws {
        let target = try makeFolder()
        let server = try startServer(in: target, raw: true)
        let payload = randomBytes(count: 500_000, seed: 8)
        let socket = try server.connect()
        try socket.sendAll(payload)
        socket.shutdown(.write)
        let line = try receiveLine(socket)
        XCTAssertTrue(line.hasPrefix("OK upload-"), line)
        XCTAssertEqual(bytes(target, String(line.dropFirst(3))), payload)

        // A reset connection leaves nothing.
        let dropped = try server.connect()
        try dropped.sendAll(payload)
        XCTAssertTrue(server.recorder.wait { _ in self.server(server, hasReceivedAtLeast: 2 * payload.count) })
        try dropped.setResetOnClose()
        dropped.close()
        XCTAssertTrue(server.recorder.wait { _ in !self.rejections(server.recorder).isEmpty })
        XCTAssertEqual(entries(target), [String(line.dropFirst(3))])
    }

    func server(_ fixture: ServerFixture, hasReceivedAtLeast count: Int) -> Bool {
        fixture.recorder.events.reduce(0) { sum, event in
            if case let .bytesReceived(_, n) = event { return sum + n } else { return sum }
        } >= count
    }

    func testRawServerEnforcesTheSizeLimit() throws {
        let target = try makeFolder()
        let server = try startServer(in: target, maxSize: 10_000, raw: true)
        let socket = try server.connect()
        try socket.sendAll(randomBytes(count: 10_001, seed: 4))
        XCTAssertTrue(try receiveLine(socket).hasPrefix("ERR 413 "))
        XCTAssertTrue(server.recorder.wait { _ in !self.rejections(server.recorder).isEmpty })
        XCTAssertEqual(entries(target), [])
    }

    func testRawSenderUsesOneConnectionPerFile() throws {
        let source = try makeFolder("source")
        let target = try makeFolder()
        let server = try startServer(in: target, raw: true)
        let first = randomBytes(count: 1_000_000, seed: 6)
        let second = Array("second file\n".utf8)
        let events = try send([write(first, to: source, as: "1.bin"), write(second, to: source, as: "2.txt")], to: server.port, raw: true)
        XCTAssertEqual(finished(events), true, "\(events)")
        let names = confirmed(events)
        XCTAssertEqual(names.count, 2)
        XCTAssertNotEqual(names[0], names[1])
        XCTAssertEqual(bytes(target, names[0]), first)
        XCTAssertEqual(bytes(target, names[1]), second)
        XCTAssertEqual(server.recorder.openedCount, 2)
    }
}
