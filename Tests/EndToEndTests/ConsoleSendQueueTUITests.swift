import Foundation
import NetEngine
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// The send queue in a real terminal: files and a folder marked and sent one after another, each with its status,
/// the item being sent cancelled on the wire, the folder as one row on the server side.
final class ConsoleSendQueueTUITests: XCTestCase {
    private var console: TmuxConsole!

    override func setUpWithError() throws {
        console = try TmuxConsole(self)
    }

    /// A file server that says READY, then reads slowly (64 KiB every 50 ms) and says when its peer went away.
    static let slowFileServer = """
    import socket, time
    server_socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server_socket.bind(('127.0.0.1', 0))
    server_socket.listen(1)
    print('listening on %s:%d' % server_socket.getsockname(), flush=True)
    conn, addr = server_socket.accept()
    conn.recv(8192)
    conn.sendall(b'READY\\n')
    total = 0
    while True:
        try:
            data = conn.recv(65536)
        except ConnectionResetError:
            data = b''
        if not data:
            print('peer closed after %d bytes' % total, flush=True)
            break
        total += len(data)
        time.sleep(0.05)
    time.sleep(60)
    """

    /// Filters the picker down to `name` and presses Space on it (the filter is then cleared).
    private func mark(_ name: String) throws {
        try console.keys("C-u")
        try console.type(name)
        console.waitForScreen("\(name) selected") { console.line(containing: "›", in: $0).contains(name) }
        try console.keys("Space")
        try console.keys("C-u")
    }

    func testThreeFilesAndAFolderAreSentOneAfterAnotherEachWithItsStatus() throws {
        let pick = console.pickDirectory
        for name in ["alpha.txt", "bravo.txt", "charlie.txt"] { try Data("\(name) contents\n".utf8).write(to: pick.appendingPathComponent(name)) }
        let tree = pick.appendingPathComponent("tree")
        try FileManager.default.createDirectory(at: tree.appendingPathComponent("sub"), withIntermediateDirectories: true)
        try Data("one\n".utf8).write(to: tree.appendingPathComponent("one.txt"))
        try Data("two\n".utf8).write(to: tree.appendingPathComponent("sub/two.txt"))
        try console.startAndWaitForServers(cols: 120, rows: 50)
        // Files to: already points at the console's own file server.
        try console.keys("Tab", "Enter")
        for name in ["alpha", "bravo", "charlie", "tree"] { try mark(name) }
        console.waitForScreen("four marked") { $0.contains("4 marked") && $0.contains("*tree/") }
        try console.type("charlie")
        try console.keys("Enter")
        let done = console.waitForScreen("each item's verdict") { screen in
            ["alpha.txt saved as alpha.txt", "bravo.txt saved as bravo.txt", "charlie.txt saved as charlie.txt", "tree saved as tree/ (2 files)"]
                .allSatisfy { screen.contains("✓ " + $0) }
        }
        XCTAssertFalse(done.contains("queued"), done)
        // The saved list has the folder as one row with its file count, and not its files one by one.
        XCTAssertTrue(console.line(containing: " tree/ ", in: done).contains("2 files"), done)
        XCTAssertFalse(done.contains(" one.txt "), done)
        let received = console.saveDirectory
        for name in ["alpha.txt", "bravo.txt", "charlie.txt"] {
            XCTAssertEqual(try String(contentsOf: received.appendingPathComponent(name), encoding: .utf8), "\(name) contents\n")
        }
        XCTAssertEqual(try String(contentsOf: received.appendingPathComponent("tree/one.txt"), encoding: .utf8), "one\n")
        XCTAssertEqual(try String(contentsOf: received.appendingPathComponent("tree/sub/two.txt"), encoding: .utf8), "two\n")
    }

    /// A folder whose name (and a file's inside) is not UTF-8 is listed and sent by its bytes: it was listed by a
    /// `String` path that names nothing, so it failed.
    func testAFolderNamedInBytesThatAreNotUTF8IsSentWhole() throws {
        let pick = console.pickDirectory
        let folder = Array(pick.path.utf8) + Array("/pics".utf8) + [0xFF]
        XCTAssertEqual(PathBytesForTests.mkdir(folder), 0)
        XCTAssertEqual(PathBytesForTests.write(folder + Array("/a".utf8) + [0xFE] + Array(".txt".utf8), "first\n"), 0)
        XCTAssertEqual(PathBytesForTests.write(folder + Array("/b.txt".utf8), "second\n"), 0)
        try Data("not sent\n".utf8).write(to: pick.appendingPathComponent("zulu.txt"))
        try console.startAndWaitForServers(cols: 120, rows: 40)
        try console.keys("Tab", "Enter")
        try mark("pics")
        console.waitForScreen("one marked") { $0.contains("1 marked") }
        // Enter on a file sends what is marked (on a folder it would open it).
        try console.type("zulu")
        try console.keys("Enter")
        let done = console.waitForScreen("the folder's verdict") { $0.contains("(2 files)") && $0.contains("✓ ") }
        XCTAssertFalse(done.contains("✗"), done)
        let received = console.saveDirectory.appendingPathComponent("pics\u{FFFD}")
        XCTAssertEqual(try String(contentsOf: received.appendingPathComponent("a\u{FFFD}.txt"), encoding: .utf8), "first\n")
        XCTAssertEqual(try String(contentsOf: received.appendingPathComponent("b.txt"), encoding: .utf8), "second\n")
    }

    func testControlXStopsTheLargeFileOnTheWireAndTheQueueGoesOn() throws {
        let big = console.pickDirectory.appendingPathComponent("big.bin")
        XCTAssertTrue(FileManager.default.createFile(atPath: big.path, contents: nil))
        XCTAssertEqual(truncate(big.path, 64 << 20), 0)
        try Data("small\n".utf8).write(to: console.pickDirectory.appendingPathComponent("small.txt"))
        let python = try XCTUnwrap(which("python3"), "python3 is needed")
        let server = try RunningProcess(executable: python, ["-c", Self.slowFileServer])
        addTeardownBlock { server.process.terminate() }
        let line = server.waitForStdout { $0.contains("listening on") }
        let slowPort = try XCTUnwrap(line.split(separator: ":").last.flatMap { UInt16($0.trimmingCharacters(in: .whitespacesAndNewlines)) })
        try console.startAndWaitForServers(cols: 120, rows: 50)
        let ownPort = try XCTUnwrap(console.port(of: "files", in: console.screen()))

        // big.bin to the slow server, then small.txt to the console's own: each item keeps the target it was queued for.
        try console.keys("Tab", "C-u")
        try console.type("127.0.0.1:\(slowPort)")
        try console.keys("Enter")
        try mark("big")
        try console.keys("C-u")
        try console.type("big")
        try console.keys("Enter")
        console.waitForScreen("big.bin sending") { console.line(containing: "→ big.bin", in: $0).contains("sending") }
        try console.keys("BTab", "C-u")
        try console.type("127.0.0.1:\(ownPort)")
        try console.keys("Enter")
        try mark("small")
        try console.keys("C-u")
        try console.type("small")
        try console.keys("Enter")
        let both = console.waitForScreen("small.txt queued behind big.bin") { console.line(containing: "· small.txt", in: $0).contains("queued") }
        XCTAssertTrue(console.line(containing: "^X", in: both).contains("^X cancel"), both)

        try console.keys("C-x")
        let after = console.waitForScreen("big.bin cancelled, small.txt saved") {
            console.line(containing: "✗ big.bin", in: $0).contains("cancelled") && $0.contains("✓ small.txt saved as small.txt")
        }
        XCTAssertFalse(console.line(containing: "quit", in: after).contains("^X"), "nothing left to cancel:\n\(after)")
        let closed = server.waitForStdout { $0.contains("peer closed") }
        let count = closed.range(of: #"after \d+ bytes"#, options: .regularExpression).map { closed[$0].split(separator: " ")[1] }
        let bytes = count.flatMap { Int($0) } ?? Int.max
        XCTAssertLessThan(bytes, 64 << 20, "the connection closed before the file was all sent: \(closed)")
        XCTAssertEqual(try String(contentsOf: console.saveDirectory.appendingPathComponent("small.txt"), encoding: .utf8), "small\n")
    }

    func testAnInterruptedUploadResumesFromTheQueueAndSaysWhere() throws {
        ignoreBrokenPipeSignal()
        let big = console.pickDirectory.appendingPathComponent("big.bin")
        XCTAssertTrue(FileManager.default.createFile(atPath: big.path, contents: nil))
        XCTAssertEqual(truncate(big.path, 32 << 20), 0)
        let target = try makeTemporaryDirectory(self)
        let server = try RunningProcess(["serve", "--files", target.path, "--port", "0", "--no-byte-log", "--no-fsync"])
        addTeardownBlock { server.interrupt(); server.waitForExit() }
        let port = server.listeningPort(service: "files")
        // A throttled send, killed once the server keeps a part of the file.
        let sender = try RunningProcess(["send", big.path, "--limit-rate", "8M", "--to", "127.0.0.1:\(port)"])
        let partFolder = target.appendingPathComponent(PartialUploads.folderName)
        let end = Date().addingTimeInterval(20)
        func kept() -> Int {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: partFolder.path)) ?? []
            return names.filter { $0.hasSuffix(".part") }.reduce(0) { total, name in
                total + (((try? FileManager.default.attributesOfItem(atPath: partFolder.appendingPathComponent(name).path)[.size]) as? Int) ?? 0)
            }
        }
        while kept() < 8 << 20 && Date() < end { usleep(20_000) }
        kill(sender.process.processIdentifier, SIGKILL)
        sender.waitForExit()
        XCTAssertTrue(server.waitForStderr { $0.contains("bytes kept to resume") }, server.stderr)

        try console.startAndWaitForServers(cols: 120, rows: 50)
        try console.keys("Tab", "C-u")
        try console.type("127.0.0.1:\(port)")
        try console.keys("Enter")
        try mark("big")
        try console.keys("C-u")
        try console.type("big")
        try console.keys("Enter")
        let done = console.waitForScreen("big.bin saved after resuming", timeout: 20) {
            $0.range(of: #"✓ big\.bin saved as big\.bin \(resumed at [1-9]\d? %\)"#, options: .regularExpression) != nil
        }
        XCTAssertFalse(done.contains("resumed at 0 %"), done)
        XCTAssertTrue(FileManager.default.contentsEqual(atPath: big.path, andPath: target.appendingPathComponent("big.bin").path))
    }

    func testUnderTLSTheQueueSpeaksTLSToo() throws {
        let config = console.pickDirectory.appendingPathComponent("config")
        for name in ["one.txt", "two.txt"] { try Data("\(name) over tls\n".utf8).write(to: console.pickDirectory.appendingPathComponent(name)) }
        try console.startAndWaitForServers(cols: 120, rows: 40, environment: ["XDG_CONFIG_HOME": config.path], arguments: ["--tls"])
        try console.keys("Tab", "Enter")
        try mark("one")
        try mark("two")
        try console.keys("C-u")
        try console.type("two")
        try console.keys("Enter")
        console.waitForScreen("both saved over TLS") { $0.contains("✓ one.txt saved as one.txt") && $0.contains("✓ two.txt saved as two.txt") }
        for name in ["one.txt", "two.txt"] {
            XCTAssertEqual(try String(contentsOf: console.saveDirectory.appendingPathComponent(name), encoding: .utf8), "\(name) over tls\n")
        }
    }

    func testAFolderArrivingIsOneRowInTheServerPaneThenOneSavedRow() throws {
        let source = try makeTemporaryDirectory(self)
        let tree = source.appendingPathComponent("album")
        try FileManager.default.createDirectory(at: tree, withIntermediateDirectories: true)
        for index in 1...4 {
            let file = tree.appendingPathComponent("photo-\(index).jpg")
            XCTAssertTrue(FileManager.default.createFile(atPath: file.path, contents: nil))
            XCTAssertEqual(truncate(file.path, 768 << 10), 0)
        }
        try console.startAndWaitForServers(cols: 120, rows: 40)
        let port = try XCTUnwrap(console.port(of: "files", in: console.screen()))
        // Throttled, so the tree is seen arriving.
        let sender = try RunningProcess(["send", tree.path, "--limit-rate", "1M", "--to", "127.0.0.1:\(port)"])
        // The sender announced the tree's four files at its start: the row says how many of them are done.
        let arriving = console.waitForScreen("the folder's row with files done of the total") {
            $0.range(of: #"files +[1-3]/4 files album/"#, options: .regularExpression) != nil
        }
        // The connection table's rows: number, peer, service.
        let rows = arriving.split(separator: "\n").filter { $0.range(of: #"^ \d+ +127\.0\.0\.1:\d+ +files "#, options: .regularExpression) != nil }
        XCTAssertEqual(rows.count, 1, arriving)
        XCTAssertFalse(rows.contains { $0.contains("upload ") }, "one row for the folder, not an upload row per file:\n\(arriving)")
        XCTAssertEqual(sender.waitForExit(), 0, sender.stderr)
        let saved = console.waitForScreen("the folder in the saved list") { console.line(containing: " album/ ", in: $0).contains("4 files") }
        XCTAssertFalse(saved.contains(" photo-1.jpg "), "its files are not listed one by one:\n\(saved)")
    }
}

/// Makes folders and files by the bytes of their paths (Foundation takes only `String` paths, always UTF-8).
enum PathBytesForTests {
    static func mkdir(_ path: [UInt8]) -> Int32 {
        (path + [0]).withUnsafeBufferPointer { Glibc.mkdir(UnsafeRawPointer($0.baseAddress!).assumingMemoryBound(to: CChar.self), 0o755) }
    }

    static func write(_ path: [UInt8], _ text: String) -> Int32 {
        let fd = (path + [0]).withUnsafeBufferPointer {
            Glibc.open(UnsafeRawPointer($0.baseAddress!).assumingMemoryBound(to: CChar.self), O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        }
        guard fd >= 0 else { return -1 }
        defer { Glibc.close(fd) }
        let bytes = Array(text.utf8)
        return Glibc.write(fd, bytes, bytes.count) == bytes.count ? 0 : -1
    }
}
