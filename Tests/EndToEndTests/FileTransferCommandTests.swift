import Foundation
import NetEngine
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// `netconsole serve --files` and `netconsole send` as a user runs them, plus netcat on either side.
final class FileTransferCommandTests: XCTestCase {
    override func setUp() { ignoreBrokenPipeSignal() }

    private func startFileServer(_ folder: URL, _ extra: [String] = []) throws -> (RunningProcess, UInt16) {
        let server = try RunningProcess(["serve", "--files", folder.path, "--port", "0", "--no-byte-log"] + extra)
        addTeardownBlock { server.interrupt(); server.waitForExit() }
        return (server, server.listeningPort(service: "files"))
    }

    private func entries(_ folder: URL) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).sorted()
    }

    private func write(_ data: Data, _ folder: URL, _ name: String) throws -> String {
        let url = folder.appendingPathComponent(name)
        try data.write(to: url)
        return url.path
    }

    private func randomData(_ count: Int) throws -> Data {
        let source = try XCTUnwrap(FileHandle(forReadingAtPath: "/dev/urandom"))
        defer { try? source.close() }
        return source.readData(ofLength: count)
    }

    private func readLine(_ socket: Socket, timeout: Double = 10) throws -> String {
        var line: [UInt8] = []
        var byte = [UInt8](repeating: 0, count: 1)
        while true {
            try socket.waitFor(events: Int16(POLLIN), timeoutMilliseconds: Int32(timeout * 1000))
            guard let n = try byte.withUnsafeMutableBytes({ try socket.receive(into: $0) }) else { continue }
            if n == 0 || byte[0] == 0x0A { return String(decoding: line, as: UTF8.self) }
            line.append(byte[0])
        }
    }

    /// Uploads `payload` as `name` by hand over the framed protocol; returns the server's verdict line.
    private func upload(_ payload: [UInt8], as name: String, port: UInt16, digest: [UInt8]? = nil) throws -> String {
        let socket = try Socket.connect(host: "127.0.0.1", port: port)
        try socket.sendAll(FileTransferEncoder.header(name: name, size: Int64(payload.count)))
        let ready = try readLine(socket)
        guard ready == "READY" else { return ready }
        try socket.sendAll(payload + FileTransferEncoder.trailer(sha256: digest ?? FileTransferEncoder.sha256(of: payload)))
        return try readLine(socket)
    }

    // MARK: Round trips

    func testEmptyOneByteUTF8NamedAndFiftyMiBFilesArriveByteForByte() throws {
        let source = try makeTemporaryDirectory(self)
        let target = try makeTemporaryDirectory(self).appendingPathComponent("new folder")
        let (server, port) = try startFileServer(target)
        let big = try randomData(50 * 1024 * 1024)
        let files: [(String, Data)] = [("empty", Data()), ("one.bin", Data([0xFF])),
                                       ("Grüße, 世界 ✓.txt", Data("ünïcødé\nlines\n".utf8)), ("random.bin", big)]
        let paths = try files.map { try write($0.1, source, $0.0) }
        let result = try runToCompletion(["send"] + paths + ["--to", "127.0.0.1:\(port)"], timeout: 120)
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(entries(target), files.map(\.0).sorted())
        for (name, data) in files {
            let saved = try Data(contentsOf: target.appendingPathComponent(name))
            XCTAssertEqual(saved.count, data.count, name)
            XCTAssertTrue(saved == data, "\(name) differs")
        }
        let stdout = String(decoding: result.stdout, as: UTF8.self)
        XCTAssertEqual(stdout.split(separator: "\n").count, 4, stdout)
        XCTAssertTrue(stdout.contains("saved as Grüße, 世界 ✓.txt"), stdout)
        XCTAssertTrue(stdout.contains("saved as random.bin (50.0 MiB, sha256 "), stdout)
        XCTAssertTrue(server.waitForStderr { $0.contains("saved \(target.path)/random.bin (52428800 bytes, sha256 ") }, server.stderr)
    }

    func testAFileWhoseNameIsNotUTF8IsSentByItsBytes() throws {
        let folder = try makeTemporaryDirectory(self)
        let (_, port) = try startFileServer(folder.appendingPathComponent("in"))
        // Foundation passes arguments as Strings (always UTF-8), so python3 runs `send` with the name's real bytes.
        let script = """
        import os, subprocess, sys
        base = sys.argv[2].encode()
        path = base + b"/bad\\xffname.txt"
        with open(path, "wb") as f: f.write(b"raw bytes\\n")
        result = subprocess.run([sys.argv[1].encode(), b"send", path, b"--to", b"127.0.0.1:" + sys.argv[3].encode()],
                                capture_output=True, timeout=20)
        sys.stderr.write(result.stderr.decode(errors="replace"))
        sys.exit(result.returncode)
        """
        let result = try runToCompletion(executable: "/usr/bin/env", ["python3", "-c", script, NetconsoleBinary.path, folder.path, "\(port)"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stderr.contains("sending \(folder.path)/bad\\xffname.txt (10 B)"), "named as given, its byte escaped:\n" + result.stderr)
        XCTAssertFalse(result.stderr.contains("/proc/self/fd"), result.stderr)
        let saved = entries(folder.appendingPathComponent("in"))
        guard saved.count == 1 else { return XCTFail("one file saved, not \(saved)") }
        XCTAssertTrue(saved.first?.hasPrefix("bad") == true && saved.first?.hasSuffix("name.txt") == true, "\(saved)")
        XCTAssertEqual(try Data(contentsOf: folder.appendingPathComponent("in").appendingPathComponent(saved[0])), Data("raw bytes\n".utf8))
    }

    func testSecondUploadOfTheSameNameGetsASuffix() throws {
        let source = try makeTemporaryDirectory(self)
        let target = try makeTemporaryDirectory(self)
        let (_, port) = try startFileServer(target)
        let path = try write(Data("v1".utf8), source, "notes.txt")
        XCTAssertEqual(try runToCompletion(["send", path, "--to", "127.0.0.1:\(port)"]).status, 0)
        try Data("v2".utf8).write(to: URL(fileURLWithPath: path))
        let second = try runToCompletion(["send", path, "--to", "127.0.0.1:\(port)"])
        XCTAssertEqual(second.status, 0, second.stderr)
        XCTAssertTrue(String(decoding: second.stdout, as: UTF8.self).contains("saved as notes (1).txt"))
        XCTAssertEqual(try String(contentsOf: target.appendingPathComponent("notes.txt"), encoding: .utf8), "v1")
        XCTAssertEqual(try String(contentsOf: target.appendingPathComponent("notes (1).txt"), encoding: .utf8), "v2")
    }

    // MARK: Hostile clients

    func testTraversalAndAbsoluteNamesLandInsideTheFolder() throws {
        let sandbox = try makeTemporaryDirectory(self)
        let target = sandbox.appendingPathComponent("a/b/uploads")
        let (_, port) = try startFileServer(target)
        XCTAssertEqual(try upload(Array("x".utf8), as: "../../etc/passwd", port: port), "OK passwd")
        XCTAssertEqual(try upload(Array("y".utf8), as: "/etc/passwd", port: port), "OK passwd (1)")
        XCTAssertEqual(try upload(Array("z".utf8), as: "../../../.ssh/authorized_keys", port: port), "OK authorized_keys")
        XCTAssertEqual(entries(target), ["authorized_keys", "passwd", "passwd (1)"])
        XCTAssertEqual(entries(sandbox), ["a"], "nothing written above the folder")
        XCTAssertEqual(entries(sandbox.appendingPathComponent("a")), ["b"])
    }

    func testOversizeFileIsRefusedWithTheServersReason() throws {
        let source = try makeTemporaryDirectory(self)
        let target = try makeTemporaryDirectory(self)
        let (server, port) = try startFileServer(target, ["--max-size", "1K"])
        let path = try write(Data(count: 2048), source, "big.bin")
        let result = try runToCompletion(["send", path, "--to", "127.0.0.1:\(port)"])
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.stderr.contains("big.bin refused: 413 "), result.stderr)
        XCTAssertTrue(result.stderr.contains("limit of 1.0 KiB"), result.stderr)
        XCTAssertEqual(entries(target), [])
        XCTAssertTrue(server.waitForStderr { $0.contains("upload rejected: 413") }, server.stderr)
    }

    func testClientThatDisconnectsHalfWayLeavesNothingAndTheServerGoesOn() throws {
        let target = try makeTemporaryDirectory(self)
        let (server, port) = try startFileServer(target)
        let socket = try Socket.connect(host: "127.0.0.1", port: port)
        try socket.sendAll(FileTransferEncoder.header(name: "half.bin", size: 1_000_000))
        XCTAssertEqual(try readLine(socket), "READY")
        try socket.sendAll([UInt8](repeating: 0x42, count: 500_000))
        socket.close()
        XCTAssertTrue(server.waitForStderr { $0.contains("upload rejected") && $0.contains("of 1000000 bytes") }, server.stderr)
        XCTAssertEqual(entries(target), [], "no file and no temporary file")
        XCTAssertEqual(try upload(Array("next".utf8), as: "next.txt", port: port), "OK next.txt")
    }

    func testWrongChecksumIsRefusedAndNothingIsSaved() throws {
        let target = try makeTemporaryDirectory(self)
        let (_, port) = try startFileServer(target)
        let verdict = try upload(Array("payload".utf8), as: "bad.txt", port: port, digest: [UInt8](repeating: 0, count: 32))
        XCTAssertTrue(verdict.hasPrefix("ERR 422 checksum mismatch"), verdict)
        XCTAssertEqual(entries(target), [])
    }

    func testGarbageHeaderIsAnsweredAndTheNextClientIsServed() throws {
        let target = try makeTemporaryDirectory(self)
        // --framed-only: by default a connection that does not start with the magic is a raw upload.
        let (server, port) = try startFileServer(target, ["--framed-only"])
        let socket = try Socket.connect(host: "127.0.0.1", port: port)
        try socket.sendAll(Array("hello there\n".utf8))
        let answer = try readLine(socket)
        XCTAssertTrue(answer.hasPrefix("ERR 400 not a netconsole file header"), answer)
        XCTAssertEqual(try upload([1, 2, 3], as: "after.bin", port: port), "OK after.bin")
        XCTAssertTrue(server.process.isRunning)
    }

    // MARK: Netcat on either side

    func testNetcatSendsAFileToTheRawServer() throws {
        guard let nc = which("nc") else { throw XCTSkip("nc (netcat-openbsd) is not installed") }
        let source = try makeTemporaryDirectory(self)
        let target = try makeTemporaryDirectory(self)
        let (_, port) = try startFileServer(target, ["--raw"])
        var notes = Data()
        for index in 0..<5000 { notes.append(contentsOf: Array("note \(index): ünïcødé \u{1}\n".utf8)) }
        notes.append(try randomData(100_000))
        let path = try write(notes, source, "notes.txt")
        let input = try Data(contentsOf: URL(fileURLWithPath: path))
        let result = try runToCompletion(executable: nc, ["-N", "127.0.0.1", "\(port)"], input: input)
        XCTAssertEqual(result.status, 0, result.stderr)
        let reply = String(decoding: result.stdout, as: UTF8.self)
        XCTAssertTrue(reply.hasPrefix("OK upload-"), reply)
        let name = reply.dropFirst(3).trimmingCharacters(in: .newlines)
        XCTAssertEqual(entries(target), [name])
        XCTAssertTrue(try Data(contentsOf: target.appendingPathComponent(name)) == notes)
    }

    func testSendRawKeepsToItsRateLimit() throws {
        let source = try makeTemporaryDirectory(self)
        let target = try makeTemporaryDirectory(self)
        let (_, port) = try startFileServer(target, ["--raw"])
        let payload = try randomData(1024 * 1024)
        let path = try write(payload, source, "paced.bin")
        let started = Date()
        let result = try runToCompletion(["send", path, "--raw", "--limit-rate", "512K", "--to", "127.0.0.1:\(port)"])
        let seconds = Date().timeIntervalSince(started)
        XCTAssertEqual(result.status, 0, result.stderr)
        // 1 MiB at 512 KiB/s: about 2 s; without the limit it takes a few milliseconds on loopback.
        XCTAssertGreaterThan(seconds, 1.5, "--limit-rate was not kept by --raw")
        XCTAssertEqual(entries(target).count, 1)
        XCTAssertTrue(try Data(contentsOf: target.appendingPathComponent(entries(target)[0])) == payload)
    }

    /// A slow limit sends small steps, not a block at once and then a long pause: a 512 KiB file at 64 KiB/s has sent
    /// about 64 KiB after a second (it sent a whole 256 KiB block at once before).
    func testASlowRateLimitSendsSmallStepsNotABlockAtOnce() throws {
        let source = try makeTemporaryDirectory(self)
        let path = try write(try randomData(512 * 1024), source, "slow.bin")
        let listener = try Socket.listening(on: SocketAddress.resolve(host: "127.0.0.1", port: 0)[0])
        let sender = try RunningProcess(["send", path, "--raw", "--limit-rate", "64K", "--to", "127.0.0.1:\(listener.localAddress!.port)"])
        defer { sender.interrupt() }
        let peer = try acceptOne(listener)
        let start = Date()
        var received = 0
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while Date().timeIntervalSince(start) < 1.0 {
            guard (try? peer.waitFor(events: Int16(POLLIN), timeoutMilliseconds: 50)) != nil else { continue }
            let n = try buffer.withUnsafeMutableBytes { try peer.receive(into: $0) }
            if let n, n > 0 { received += n }
        }
        XCTAssertGreaterThan(received, 16 * 1024, "it does send")
        XCTAssertLessThanOrEqual(received, 128 * 1024, "\(received) bytes in the first second at 64 KiB/s")
    }

    /// A file that shrinks while it is sent fails alone: the files after it are still sent, on a new connection (they
    /// were never tried, and "0 of 3 files confirmed" left that to be guessed).
    func testAFileThatShrinksFailsAloneAndTheFilesAfterItAreStillSent() throws {
        let source = try makeTemporaryDirectory(self)
        let big = try write(try randomData(8 << 20), source, "w.bin")
        let a = try write(Data("a".utf8), source, "a1.txt")
        let b = try write(Data("b".utf8), source, "b1.txt")
        let target = try makeTemporaryDirectory(self)
        let (_, realPort) = try startFileServer(target)
        // A proxy in front of the real server that holds the first connection's READY back until the file has shrunk.
        let listener = try Socket.listening(on: SocketAddress.resolve(host: "127.0.0.1", port: 0)[0])
        let sender = try RunningProcess(["send", big, a, b, "--to", "127.0.0.1:\(listener.localAddress!.port)"])
        let peer = try acceptOne(listener)
        try peer.waitFor(events: Int16(POLLIN), timeoutMilliseconds: 10_000)
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        _ = try buffer.withUnsafeMutableBytes { try peer.receive(into: $0) }
        XCTAssertEqual(truncate(big, 1 << 20), 0)
        try peer.sendAll("READY 0\n")
        // The sender gives up on w.bin and connects again for the rest: that connection goes to the real server.
        let second = try acceptOne(listener)
        let upstream = try Socket.connect(host: "127.0.0.1", port: realPort)
        let relay = Thread {
            var chunk = [UInt8](repeating: 0, count: 64 << 10)
            let pairs = [(second, upstream), (upstream, second)]
            var open = true
            while open {
                var fds = pairs.map { pollfd(fd: $0.0.descriptor, events: Int16(POLLIN), revents: 0) }
                guard poll(&fds, 2, 10_000) > 0 else { break }
                for (index, (from, to)) in pairs.enumerated() where fds[index].revents != 0 {
                    let n = chunk.withUnsafeMutableBytes { recv(from.descriptor, $0.baseAddress, $0.count, 0) }
                    if n <= 0 { open = false; break }
                    chunk.withUnsafeBytes { _ = try? to.sendAll(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
                }
            }
            upstream.shutdown(.both)
            second.shutdown(.both)
        }
        relay.start()
        XCTAssertEqual(sender.waitForExit(timeout: 20), 1, "not everything arrived")
        XCTAssertTrue(sender.stderr.contains("w.bin shrank while being sent"), sender.stderr)
        XCTAssertFalse(sender.stderr.contains("refused"), sender.stderr)
        XCTAssertTrue(sender.stderr.contains("2 of 3 files confirmed"), sender.stderr)
        XCTAssertEqual(entries(target).sorted(), ["a1.txt", "b1.txt"])
    }

    func testSendRawDeliversToANetcatListener() throws {
        guard let nc = which("nc") else { throw XCTSkip("nc (netcat-openbsd) is not installed") }
        let source = try makeTemporaryDirectory(self)
        let payload = try randomData(3 * 1024 * 1024)
        let path = try write(payload, source, "blob.bin")
        let port = try freePort()
        let listener = try RunningProcess(executable: nc, ["-l", "127.0.0.1", "\(port)"])
        defer { listener.waitForExit(timeout: 5) }
        XCTAssertTrue(waitUntilListening(port: port), "nc -l never listened on \(port)")
        let result = try runToCompletion(["send", "--raw", path, "--to", "127.0.0.1:\(port)"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(String(decoding: result.stdout, as: UTF8.self).contains("blob.bin: delivered"))
        XCTAssertEqual(listener.waitForExit(timeout: 10), 0, "nc -l ends when the sender closes")
        XCTAssertTrue(listener.stdoutData == payload, "nc received \(listener.stdoutData.count) of \(payload.count) bytes")
    }

    // MARK: One port for both kinds, and no silent mismatch

    func testTheDefaultFileServerSavesAPlainNetcatUploadToo() throws {
        guard let nc = which("nc") else { throw XCTSkip("nc (netcat-openbsd) is not installed") }
        let source = try makeTemporaryDirectory(self)
        let target = try makeTemporaryDirectory(self)
        let (_, port) = try startFileServer(target)
        let payload = try randomData(200_000) + Data("NCFT in the middle is fine".utf8)
        let result = try runToCompletion(executable: nc, ["-N", "127.0.0.1", "\(port)"], input: payload)
        let reply = String(decoding: result.stdout, as: UTF8.self)
        XCTAssertTrue(reply.hasPrefix("OK upload-"), reply)
        let name = reply.dropFirst(3).trimmingCharacters(in: .newlines)
        XCTAssertTrue(try Data(contentsOf: target.appendingPathComponent(name)) == payload)
        // A short raw upload that begins like the magic, and a framed one, on the same port.
        let short = try runToCompletion(executable: nc, ["-N", "127.0.0.1", "\(port)"], input: Data("NC".utf8))
        let shortName = String(decoding: short.stdout, as: UTF8.self).dropFirst(3).trimmingCharacters(in: .newlines)
        XCTAssertEqual(try Data(contentsOf: target.appendingPathComponent(shortName)), Data("NC".utf8))
        let framed = try runToCompletion(["send", try write(Data("framed".utf8), source, "framed.txt"), "--to", "127.0.0.1:\(port)"])
        XCTAssertEqual(framed.status, 0, framed.stderr)
        XCTAssertEqual(try String(contentsOf: target.appendingPathComponent("framed.txt"), encoding: .utf8), "framed")

        let (_, strictPort) = try startFileServer(try makeTemporaryDirectory(self), ["--framed-only"])
        let refused = try runToCompletion(executable: nc, ["-N", "127.0.0.1", "\(strictPort)"], input: Data("plain bytes\n".utf8))
        XCTAssertTrue(String(decoding: refused.stdout, as: UTF8.self).hasPrefix("ERR 400 "), "--framed-only keeps refusing raw uploads")
    }

    func testSendToARawPeerFailsFastWithAdviceAndLeavesNothing() throws {
        let source = try makeTemporaryDirectory(self)
        let target = try makeTemporaryDirectory(self)
        let (server, port) = try startFileServer(target, ["--raw"])
        let path = try write(Data("hello".utf8), source, "hello.txt")
        let started = Date()
        let result = try runToCompletion(["send", path, "--to", "127.0.0.1:\(port)"])
        XCTAssertEqual(result.status, 1)
        XCTAssertLessThan(Date().timeIntervalSince(started), 5, "within about 2 s, not the 60 s reply timeout")
        XCTAssertTrue(result.stderr.contains("it is not a netconsole file server (for netcat, socat or a raw file server use --raw), or it is stalled") && result.stderr.contains("use --raw"),
                      result.stderr)
        XCTAssertTrue(server.waitForStderr { $0.contains("closed") }, server.stderr)
        XCTAssertEqual(entries(target), [], "the raw server saved no file of header bytes")
    }


    // MARK: Clear errors

    func testMissingFileFolderAndRefusedConnectionAreClearErrors() throws {
        let source = try makeTemporaryDirectory(self)
        let target = try makeTemporaryDirectory(self)
        let (server, port) = try startFileServer(target)
        let good = try write(Data("ok".utf8), source, "good.txt")

        let missing = try runToCompletion(["send", good, source.appendingPathComponent("nope.txt").path, "--to", "127.0.0.1:\(port)"])
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.stderr.contains("nope.txt: no such file"), missing.stderr)
        // A folder is sent as its tree now (FolderSendCommandTests); what is neither a file nor a folder is still refused.
        let device = try runToCompletion(["send", good, "/dev/null", "--to", "127.0.0.1:\(port)"])
        XCTAssertEqual(device.status, 1)
        XCTAssertTrue(device.stderr.contains("/dev/null: not a regular file"), device.stderr)
        XCTAssertEqual(entries(target), [], "nothing is sent when a file is wrong")
        XCTAssertFalse(server.stderr.contains("connected (files)"), "no connection was even opened")

        if getuid() != 0 {
            let locked = try write(Data("secret".utf8), source, "locked.txt")
            chmod(locked, 0)
            let denied = try runToCompletion(["send", locked, "--to", "127.0.0.1:\(port)"])
            XCTAssertEqual(denied.status, 1)
            XCTAssertTrue(denied.stderr.contains("locked.txt: permission denied"), denied.stderr)
        }

        let closedPort = try freePort()
        let refused = try runToCompletion(["send", good, "--to", "127.0.0.1:\(closedPort)"])
        XCTAssertEqual(refused.status, 1)
        XCTAssertTrue(refused.stderr.contains("connection refused: 127.0.0.1:\(closedPort)"), refused.stderr)
    }

    func testSilentServerIsGivenUpOnAfterTheTimeout() throws {
        let source = try makeTemporaryDirectory(self)
        // The kernel completes the handshake for a listener nobody accepts on: connected, but never an answer.
        let silent = try Socket.listening(on: SocketAddress.resolve(host: "127.0.0.1", port: 0)[0])
        defer { silent.close() }
        let port = try XCTUnwrap(silent.localAddress?.port)
        let started = Date()
        let result = try runToCompletion(["send", try write(Data("x".utf8), source, "x.txt"), "--to", "127.0.0.1:\(port)", "--timeout", "0.5"])
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.stderr.contains("did not answer the file header within 0.5 s"), result.stderr)
        XCTAssertLessThan(Date().timeIntervalSince(started), 10)
    }

    func testWriteFailureIsRefusedAndTheServerGoesOn() throws {
        let target = try makeTemporaryDirectory(self)
        // A file size limit of 200 blocks of 512 bytes (dash's unit) makes write(2) fail past 100 KB, as a full disk would.
        let server = try RunningProcess(executable: "/bin/sh", ["-c", "ulimit -f 200 && exec \"$0\" \"$@\"", NetconsoleBinary.path,
                                                               "serve", "--files", target.path, "--port", "0", "--quiet"])
        defer { server.interrupt(); server.waitForExit() }
        let port = server.listeningPort(service: "files")
        let verdict = try upload([UInt8](repeating: 0x5A, count: 300_000), as: "too-big-for-disk.bin", port: port)
        XCTAssertTrue(verdict.hasPrefix("ERR 507 cannot write too-big-for-disk.bin"), verdict)
        XCTAssertEqual(entries(target), [], "the partial file is removed")
        XCTAssertEqual(try upload(Array("fits".utf8), as: "small.txt", port: port), "OK small.txt")
        XCTAssertTrue(server.process.isRunning, "the server survives the failed write")
    }

    func testStoppingTheServerMidUploadLeavesNoTemporaryFile() throws {
        let target = try makeTemporaryDirectory(self)
        let (server, port) = try startFileServer(target)
        let socket = try Socket.connect(host: "127.0.0.1", port: port)
        try socket.sendAll(FileTransferEncoder.header(name: "cut.bin", size: 10_000_000))
        XCTAssertEqual(try readLine(socket), "READY")
        try socket.sendAll([UInt8](repeating: 7, count: 100_000))
        XCTAssertTrue(server.waitForStderr { $0.contains("upload of 'cut.bin' started") }, server.stderr)
        XCTAssertEqual(entries(target), [], "the temporary file has no name (O_TMPFILE), so nothing can be left")
        server.interrupt()
        XCTAssertEqual(server.waitForExit(), 0, server.stderr)
        XCTAssertEqual(entries(target), [])
    }

    func testUnusableFolderIsAClearErrorAtStart() throws {
        let base = try makeTemporaryDirectory(self)
        let file = try write(Data(), base, "plain-file")
        let result = try runToCompletion(["serve", "--files", file, "--port", "0"])
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.stderr.contains("cannot use \(file) for uploads"), result.stderr)
        XCTAssertTrue(result.stderr.contains("not a folder"), result.stderr)
    }

    func testEchoAndFilesRunSideBySide() throws {
        let source = try makeTemporaryDirectory(self)
        let target = try makeTemporaryDirectory(self)
        let server = try RunningProcess(["serve", "--echo", "--files", target.path, "--port", "0", "--quiet"])
        defer { server.interrupt(); server.waitForExit() }
        let echoPort = server.listeningPort(service: "echo")
        let filesPort = server.listeningPort(service: "files")
        XCTAssertNotEqual(echoPort, filesPort)
        let echo = try runToCompletion(["echo", "127.0.0.1:\(echoPort)"], input: Data("ping\n".utf8))
        XCTAssertEqual(String(decoding: echo.stdout, as: UTF8.self), "ping\n")
        let sent = try runToCompletion(["send", try write(Data("file".utf8), source, "f.txt"), "--to", "127.0.0.1:\(filesPort)"])
        XCTAssertEqual(sent.status, 0, sent.stderr)
        XCTAssertEqual(entries(target), ["f.txt"])
    }
}
