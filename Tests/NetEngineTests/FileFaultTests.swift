import Foundation
import NetEngine
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// Faults around the file server: a full disk, a read-only folder, and a storm of rude connections beside honest
/// clients. After each, the server answers a fresh client and the folder holds only complete, verified files.
final class FileFaultTests: XCTestCase {
    override func setUp() { ignoreBrokenPipeSignal() }

    private func fileServer(in folder: String, fsync: Bool = false) throws -> ServerFixture {
        let store = UploadStore(options: FileServerOptions(directory: folder, maxSize: 1 << 30, fsync: fsync))
        let fixture = try ServerFixture(service: "files") { FileUploadHandler(store: store) }
        addTeardownBlock { fixture.shutdown() }
        return fixture
    }

    /// A small tmpfs of `size` mounted for this test (root only; skipped elsewhere).
    private func mountTinyFilesystem(size: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("netconsole-tinyfs-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        guard mount("tmpfs", path, "tmpfs", 0, "size=\(size)") == 0 else {
            try? FileManager.default.removeItem(atPath: path)
            throw XCTSkip("cannot mount a tmpfs here (needs root): \(String(cString: strerror(errno)))")
        }
        addTeardownBlock {
            umount2(path, Int32(MNT_DETACH))
            try? FileManager.default.removeItem(atPath: path)
        }
        return path
    }

    private func entries(_ folder: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).sorted()
    }

    func testFullDiskRefusesTheUploadRemovesItsPartAndTheServerGoesOn() throws {
        let folder = try mountTinyFilesystem(size: "1m")
        let server = try fileServer(in: folder)
        let big = randomBytes(count: 3 << 20, seed: 5)
        let reply = try upload(big, name: "too-big-for-the-disk.bin", to: server.port)
        XCTAssertTrue(reply.hasPrefix("ERR 507 not enough space"), reply)
        XCTAssertEqual(entries(folder), [], "refused before a byte is written")

        let small = randomBytes(count: 1000, seed: 6)
        XCTAssertEqual(try upload(small, name: "fits.bin", to: server.port), "OK fits.bin")
        XCTAssertEqual(entries(folder), ["fits.bin"])
        XCTAssertEqual([UInt8](try Data(contentsOf: URL(fileURLWithPath: folder + "/fits.bin"))), small)
    }

    func testDiskFillingUpMidUploadRefusesItAndRemovesItsPart() throws {
        let folder = try mountTinyFilesystem(size: "1m")
        let server = try fileServer(in: folder)
        // Each upload fits the free space on its own when its header arrives; together they do not.
        let first = randomBytes(count: 700_000, seed: 1)
        let slow = try Socket.connect(host: "127.0.0.1", port: server.port)
        try slow.sendAll(FileTransferEncoder.header(name: "first.bin", size: Int64(first.count)))
        XCTAssertEqual(try receiveLine(slow), "READY")
        try slow.sendAll(Array(first[..<100_000]))

        let second = randomBytes(count: 700_000, seed: 2)
        XCTAssertEqual(try upload(second, name: "second.bin", to: server.port), "OK second.bin")

        let verdict = try finishUpload(on: slow, content: first, from: 100_000)
        XCTAssertTrue(verdict.hasPrefix("ERR 507 "), verdict)
        XCTAssertTrue(verdict.lowercased().contains("space"), verdict)
        XCTAssertEqual(entries(folder), ["second.bin"], "the failed upload left nothing behind")
        XCTAssertTrue([UInt8](try Data(contentsOf: URL(fileURLWithPath: folder + "/second.bin"))) == second)
        XCTAssertEqual(try upload([7], name: "after.bin", to: server.port), "OK after.bin", "the server goes on")
    }

    /// A small ext4 file system on a loop device, mounted for this test (root and loop devices only; skipped
    /// elsewhere). Unlike tmpfs it has real writeback, so fsync mode's early writeback and delayed allocation run.
    private func mountSmallExt4(megabytes: Int) throws -> String {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("netconsole-ext4-\(UUID().uuidString)").path
        let image = base + ".img"
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        guard FileManager.default.createFile(atPath: image, contents: nil), truncate(image, off_t(megabytes) << 20) == 0,
              run("/usr/sbin/mkfs.ext4", ["-q", "-F", image]) == 0, run("/bin/mount", ["-o", "loop", image, base]) == 0 else {
            try? FileManager.default.removeItem(atPath: base)
            try? FileManager.default.removeItem(atPath: image)
            throw XCTSkip("cannot mount an ext4 image here (needs root, mkfs.ext4 and loop devices)")
        }
        addTeardownBlock {
            _ = self.run("/bin/umount", [base])
            try? FileManager.default.removeItem(atPath: base)
            try? FileManager.default.removeItem(atPath: image)
        }
        return base
    }

    private func run(_ executable: String, _ arguments: [String]) -> Int32 {
        guard FileManager.default.isExecutableFile(atPath: executable) else { return -1 }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return -1 }
        process.waitUntilExit()
        return process.terminationStatus
    }

    func testFsyncUploadsOnExt4AreWrittenBackAndOneThatRunsOutOfSpaceMidWayLeavesNothing() throws {
        let folder = try mountSmallExt4(megabytes: 64)
        let server = try fileServer(in: folder, fsync: true)
        // Larger than the early-writeback step, so it is started several times during each upload.
        let whole = randomBytes(count: 9 << 20, seed: 11)
        XCTAssertEqual(try upload(whole, name: "whole.bin", to: server.port), "OK whole.bin")
        XCTAssertTrue([UInt8](try Data(contentsOf: URL(fileURLWithPath: folder + "/whole.bin"))) == whole)

        // Two uploads that each fit when announced but not together: the slow one runs out of space mid-way,
        // after several early writebacks of its own.
        var info = statvfs()
        XCTAssertEqual(statvfs(folder, &info), 0)
        let free = Int(info.f_bavail) * Int(info.f_frsize)
        let size = free * 6 / 10
        XCTAssertGreaterThan(size, 16 << 20, "the image leaves room for a test that means something")
        let first = randomBytes(count: size, seed: 12)
        let slow = try Socket.connect(host: "127.0.0.1", port: server.port)
        try slow.sendAll(FileTransferEncoder.header(name: "first.bin", size: Int64(size)))
        XCTAssertEqual(try receiveLine(slow), "READY")
        try slow.sendAll(Array(first[..<(1 << 20)]))
        let second = randomBytes(count: size, seed: 13)
        XCTAssertEqual(try upload(second, name: "second.bin", to: server.port), "OK second.bin")

        let verdict = try finishUpload(on: slow, content: first, from: 1 << 20, timeout: 30)
        XCTAssertTrue(verdict.hasPrefix("ERR 507 "), verdict)
        XCTAssertTrue(verdict.lowercased().contains("space"), verdict)
        XCTAssertEqual(entries(folder).filter { $0 != "lost+found" }, ["second.bin", "whole.bin"], "the failed upload left nothing")
        XCTAssertTrue([UInt8](try Data(contentsOf: URL(fileURLWithPath: folder + "/second.bin"))) == second)
        XCTAssertEqual(try upload([7], name: "after.bin", to: server.port), "OK after.bin", "the server goes on")
    }

    func testReadOnlyFolderIsAClearRefusal() throws {
        let folder = try mountTinyFilesystem(size: "1m")
        let server = try fileServer(in: folder)
        // Root ignores permission bits, so make the folder read-only the way a real read-only disk is.
        guard mount("tmpfs", folder, "tmpfs", UInt(MS_REMOUNT | MS_RDONLY), "size=1m") == 0 else {
            throw XCTSkip("cannot remount read-only: \(String(cString: strerror(errno)))")
        }
        let reply = try upload([1, 2, 3], name: "nope.txt", to: server.port)
        XCTAssertTrue(reply.hasPrefix("ERR 507 "), reply)
        XCTAssertTrue(reply.lowercased().contains("read-only"), reply)
        XCTAssertEqual(entries(folder), [])
        XCTAssertTrue(try server.loopThread.sync { server.server.isListening })
    }

    func testThousandRudeConnectionsBesideTenHonestClientsLeaveOnlyCompleteFiles() throws {
        let folder = try makeFolder()
        let files = try fileServer(in: folder)
        let echo = try ServerFixture()
        defer { echo.shutdown() }
        let honestEcho = try (0..<5).map { _ in try EchoClient(connectingTo: echo.endpoint) }
        var generator = SeededGenerator(seed: 99)
        var expected: [String: [UInt8]] = [:]
        for round in 0..<1000 {
            let target = Bool.random(using: &generator) ? files : echo
            let rude = try target.connect()
            switch Int.random(in: 0..<4, using: &generator) {
            case 0:
                try rude.setResetOnClose()
            case 1:  // a header announcing more than is ever sent, then a reset
                try rude.sendAll(FileTransferEncoder.header(name: "rude-\(round).bin", size: 1 << 20))
                try rude.sendAll(randomBytes(count: Int.random(in: 0...70_000, using: &generator), seed: UInt64(round)))
                try rude.setResetOnClose()
            case 2:  // garbage
                try rude.sendAll(randomBytes(count: Int.random(in: 1...200, using: &generator), seed: UInt64(round) + 7))
            default:  // a complete header then EOF
                try rude.sendAll(FileTransferEncoder.header(name: "short-\(round).bin", size: 10))
                rude.shutdown(.write)
            }
            rude.close()
            if round % 100 == 0 {
                for (index, client) in honestEcho.enumerated() {
                    let message = randomBytes(count: 1 + round + index, seed: UInt64(round + index + 1))
                    XCTAssertTrue(try client.roundTrip(message, timeout: 5) == message, "echo client \(index), round \(round)")
                }
                for index in 0..<5 {
                    let name = "honest-\(round)-\(index).bin"
                    let content = randomBytes(count: 10_000 * (index + 1) + round, seed: UInt64(round * 7 + index))
                    XCTAssertEqual(try upload(content, name: name, to: files.port), "OK \(name)")
                    expected[name] = content
                }
            }
        }
        XCTAssertTrue(files.recorder.wait(timeout: 10) { _ in (try? files.loopThread.sync { files.server.connectionCount }) == 0 })
        XCTAssertEqual(entries(folder), expected.keys.sorted(), "only the honest, complete files are in the folder")
        for (name, content) in expected {
            XCTAssertTrue([UInt8](try Data(contentsOf: URL(fileURLWithPath: folder + "/" + name))) == content, name)
        }
        XCTAssertEqual(try upload([42], name: "fresh.bin", to: files.port), "OK fresh.bin", "a fresh client is still served")
    }

    private func makeFolder() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("netconsole-fault-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        return path
    }

    /// Uploads `content` as `name` with the framed protocol over a blocking socket; returns the server's last reply
    /// line (the refusal after the header, or the verdict after the trailer).
    private func upload(_ content: [UInt8], name: String, to port: UInt16) throws -> String {
        let socket = try Socket.connect(host: "127.0.0.1", port: port)
        defer { socket.close() }
        try socket.sendAll(FileTransferEncoder.header(name: name, size: Int64(content.count)))
        let first = try receiveLine(socket)
        guard first == "READY" else { return first }
        return try finishUpload(on: socket, content: content)
    }

    /// Sends `content` from `offset` on, then its trailer, and returns the server's verdict line. The bytes go from
    /// another thread: a server refusing mid-stream stops reading, and we must still hear its answer.
    private func finishUpload(on socket: Socket, content: [UInt8], from offset: Int = 0, timeout: Double = 20) throws -> String {
        let sent = DispatchSemaphore(value: 0)
        Thread {
            _ = try? socket.sendAll(Array(content[offset...]))
            _ = try? socket.sendAll(FileTransferEncoder.trailer(sha256: FileTransferEncoder.sha256(of: content)))
            sent.signal()
        }.start()
        defer {
            socket.shutdown(.both)
            sent.wait()
        }
        return try receiveLine(socket, timeout: timeout)
    }
}
