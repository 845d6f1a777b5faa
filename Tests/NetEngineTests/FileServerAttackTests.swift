import Crypto
import Foundation
import NetEngine
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// The attacks of the file server's audit, replayed over real sockets and real folders: names that try to leave the
/// folder, probes and crawlers in raw mode, trickled uploads, and a sender whose file changes under it.
extension FileTransferServerTests {
    private func upload(_ nameBytes: [UInt8], _ payload: [UInt8], on socket: Socket) throws -> String {
        var header = FileTransferProtocol.headerMagic + [FileTransferProtocol.version]
        header += [UInt8(nameBytes.count >> 8), UInt8(nameBytes.count & 0xFF)]
        for shift in stride(from: 56, through: 0, by: -8) { header.append(UInt8(truncatingIfNeeded: payload.count >> shift)) }
        try socket.sendAll(header + nameBytes)
        let ready = try receiveLine(socket)
        guard ready == "READY" else { return ready }
        try socket.sendAll(payload + FileTransferEncoder.trailer(sha256: Array(SHA256.hash(data: payload))))
        return try receiveLine(socket)
    }

    func testNamesWithMarksAfterSeparatorsCannotLeaveTheFolderOrHide() throws {
        let base = try makeFolder("attack")
        let target = base.appendingPathComponent("received")
        let outside = base.appendingPathComponent("outside")
        try FileManager.default.createDirectory(at: target.appendingPathComponent("sub"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: outside, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: target.appendingPathComponent("linkdir").path, withDestinationPath: outside.path)
        let server = try startServer(in: target)
        let socket = try server.connect()
        let names: [[UInt8]] = ["linkdir/\u{301}x.txt", "sub/\u{301}x.txt", ".\u{301}bashrc", "linkdir/\u{200D}y", "sub\\\u{FE0F}z",
                                "linkdir\u{2215}w", "x.txt \u{301}"].map { Array($0.utf8) }
            + [[0x6C, 0x69, 0x6E, 0x6B, 0x64, 0x69, 0x72, 0x2F, 0xCC, 0x2F, 0xFF, 0x2E, 0x61]]  // "linkdir/" + invalid UTF-8
        var saved: [String] = []
        for name in names {
            let reply = try upload(name, Array("payload".utf8), on: socket)
            XCTAssertTrue(reply.hasPrefix("OK "), reply)
            saved.append(String(reply.dropFirst(3)))
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: outside.path), [], "nothing written through the link")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: target.appendingPathComponent("sub").path), [])
        for name in saved {
            XCTAssertFalse(name.hasPrefix(".") || name.contains("/") || name.contains("\\"), name)
            XCTAssertEqual(bytes(target, name), Array("payload".utf8), name)
        }
        XCTAssertEqual(saved[2], "bashrc")
        XCTAssertEqual(saved[6], "x (2).txt", "trailing space and its mark trimmed; x.txt was taken twice already")
    }

    func testPortProbesLeaveNoEmptyFilesInRawMode() throws {
        let target = try makeFolder()
        let server = try startServer(in: target, raw: true)
        for _ in 0..<20 {
            let probe = try server.connect()
            probe.shutdown(.write)
            XCTAssertTrue(try receiveLine(probe).hasPrefix("ERR 408 nothing received"))
            probe.close()
        }
        XCTAssertTrue(server.recorder.wait { _ in self.rejections(server.recorder).count == 20 })
        XCTAssertEqual(entries(target), [])

        let keeping = try startServer(in: target, raw: true) { $0.keepEmpty = true }
        let asked = try keeping.connect()
        asked.shutdown(.write)
        let line = try receiveLine(asked)
        XCTAssertTrue(line.hasPrefix("OK upload-"), line)
        XCTAssertEqual(bytes(target, String(line.dropFirst(3))), [])
    }

    func testAnIdleRawConnectionIsDroppedAtTheStallTimeout() throws {
        let target = try makeFolder()
        let server = try startServer(in: target, raw: true, stallTimeout: 0.3)
        let socket = try server.connect()
        try socket.sendAll(Array("a few bytes".utf8))
        let started = Date()
        let line = try receiveLine(socket, timeout: 5)
        XCTAssertTrue(line.hasPrefix("ERR 408 no data for 0.3 s"), line)
        XCTAssertLessThan(Date().timeIntervalSince(started), 3)
        XCTAssertTrue(server.recorder.wait { _ in server.server.connectionCount == 0 })
        XCTAssertEqual(entries(target), [])
    }

    func testATrickledUploadIsDroppedBelowTheMinimumRate() throws {
        for raw in [false, true] {
            let target = try makeFolder()
            let server = try startServer(in: target, raw: raw) {
                $0.minimumRate = 1000
                $0.minimumRateWindow = 0.5
            }
            let socket = try server.connect()
            if !raw {
                try socket.sendAll(FileTransferEncoder.header(name: "slow.bin", size: 1_000_000))
                XCTAssertEqual(try receiveLine(socket), "READY")
            }
            var reply = ""
            let started = Date()
            // One byte every 100 ms: never stalled, far below 1000 bytes/s.
            while reply.isEmpty && Date().timeIntervalSince(started) < 5 {
                try? socket.sendAll([0x41])
                reply = (try? receiveLine(socket, timeout: 0.1)) ?? ""
            }
            XCTAssertTrue(reply.hasPrefix("ERR 408 too slow: "), "raw \(raw): \(reply)")
            XCTAssertTrue(reply.contains("minimum of 1000 bytes/s"), reply)
            XCTAssertTrue(server.recorder.wait { _ in server.server.connectionCount == 0 })
            XCTAssertEqual(entries(target), [])
        }
    }

    // MARK: The sender

    /// Sends `path` and runs `meddle` (on the sender's loop) at the first progress report past half of the file.
    private func send(_ path: String, to port: UInt16, raw: Bool = false, meddle: @escaping () -> Void) throws -> [FileSendEvent] {
        let client = try LoopThread()
        defer { client.shutdown() }
        let lock = NSLock()
        var events: [FileSendEvent] = []
        var meddled = false
        let done = DispatchSemaphore(value: 0)
        _ = try client.sync {
            let sender = FileSender(loop: client.loop, endpoint: Endpoint(host: "127.0.0.1", port: port), files: [path], raw: raw) { event in
                if case let .progress(_, sent, size) = event, !meddled, sent * 2 >= size {
                    meddled = true
                    meddle()
                }
                lock.lock()
                events.append(event)
                lock.unlock()
                if case .finished = event { done.signal() }
            }
            sender.start()
            return sender
        }
        XCTAssertEqual(done.wait(timeout: .now() + 20), .success)
        lock.lock()
        defer { lock.unlock() }
        return events
    }

    func testAFileThatGrowsOrIsRewrittenDuringTheUploadIsNeverReportedSaved() throws {
        let source = try makeFolder("source")
        let target = try makeFolder()
        let server = try startServer(in: target)
        let original = randomBytes(count: 8 << 20, seed: 21)

        let growing = try write(original, to: source, as: "growing.bin")
        var events = try send(growing, to: server.port) {
            let handle = FileHandle(forWritingAtPath: growing)!
            handle.seekToEndOfFile()
            handle.write(Data("appended".utf8))
            try? handle.close()
        }
        XCTAssertEqual(finished(events), false, "\(events)")
        XCTAssertTrue(failure(events)?.contains("growing.bin changed while it was being sent") ?? false, "\(events)")

        let rewritten = try write(original, to: source, as: "rewritten.bin")
        events = try send(rewritten, to: server.port) {
            let fd = open(rewritten, O_WRONLY)
            var zeros = [UInt8](repeating: 0, count: 4096)
            _ = pwrite(fd, &zeros, zeros.count, off_t(original.count - 4096))
            close(fd)
        }
        XCTAssertEqual(finished(events), false, "\(events)")
        XCTAssertTrue(failure(events)?.contains("rewritten.bin changed while it was being sent") ?? false, "\(events)")
        XCTAssertTrue(server.recorder.wait { _ in self.rejections(server.recorder).count == 2 }, "\(self.rejections(server.recorder))")
        XCTAssertEqual(entries(target), [], "neither a short nor a torn file was saved")
    }

    /// A raw server saves whatever ends with a FIN, so a raw send that fails part way must reset the connection.
    func testARawSendWhoseFileShrinksLeavesNothingOnTheServer() throws {
        let source = try makeFolder("source")
        let target = try makeFolder()
        let server = try startServer(in: target, raw: true)
        let shrinking = try write(randomBytes(count: 16 << 20, seed: 33), to: source, as: "shrinking.bin")
        let events = try send(shrinking, to: server.port, raw: true) { _ = truncate(shrinking, 1 << 20) }
        XCTAssertEqual(finished(events), false, "\(events)")
        let reason = failure(events) ?? ""
        XCTAssertTrue(reason.contains("shrank while being sent") || reason.contains("changed while it was being sent"), reason)
        XCTAssertTrue(server.recorder.wait { _ in self.rejections(server.recorder).count == 1 }, "\(self.rejections(server.recorder))")
        XCTAssertEqual(entries(target), [], "no truncated file saved")
    }

    /// Trailer bytes trickling in are progress: they push the stall deadline like payload bytes do.
    func testASlowTrailerIsNotTakenForAStall() throws {
        let target = try makeFolder()
        let server = try startServer(in: target, stallTimeout: 0.4)
        let socket = try server.connect()
        let payload = Array("slow trailer".utf8)
        try socket.sendAll(FileTransferEncoder.header(name: "slow.txt", size: Int64(payload.count)))
        XCTAssertEqual(try receiveLine(socket), "READY")
        try socket.sendAll(payload)
        let trailer = FileTransferEncoder.trailer(sha256: FileTransferEncoder.sha256(of: payload))
        for chunk in stride(from: 0, to: trailer.count, by: 4) {
            usleep(150_000)  // 9 chunks over 1.35 s: no gap reaches the 0.4 s stall timeout
            try socket.sendAll(Array(trailer[chunk..<min(chunk + 4, trailer.count)]))
        }
        XCTAssertEqual(try receiveLine(socket), "OK slow.txt")
    }

    func testAFileThatReportsNoSizeButHasBytesIsSentAsRead() throws {
        let target = try makeFolder()
        let server = try startServer(in: target)
        let expected = try XCTUnwrap(FileManager.default.contents(atPath: "/proc/version"))
        XCTAssertGreaterThan(expected.count, 0)
        let events = try send(["/proc/version"], to: server.port)
        XCTAssertEqual(confirmed(events), ["version"], "\(events)")
        XCTAssertEqual(bytes(target, "version").map { Data($0) }, expected)
    }
}
