import Foundation
import NetEngine
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// `netconsole send DIR` into `netconsole serve --files`, as a user runs them.
final class FolderSendCommandTests: XCTestCase {
    override func setUp() { ignoreBrokenPipeSignal() }

    private func startFileServer(_ folder: URL) throws -> (RunningProcess, UInt16) {
        let server = try RunningProcess(["serve", "--files", folder.path, "--port", "0", "--no-byte-log", "--no-fsync"])
        addTeardownBlock { server.interrupt(); server.waitForExit() }
        return (server, server.listeningPort(service: "files"))
    }

    private func tree(_ root: URL) -> [String] {
        ((FileManager.default.enumerator(atPath: root.path)?.allObjects as? [String]) ?? []).sorted()
    }

    private func make(_ root: URL, _ files: [String: Data], folders: [String] = []) throws {
        for folder in folders {
            try FileManager.default.createDirectory(at: root.appendingPathComponent(folder), withIntermediateDirectories: true)
        }
        for (path, data) in files {
            let url = root.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try data.write(to: url)
        }
    }

    private func lines(_ data: Data) -> [String] {
        String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init)
    }

    func testAFolderTreeArrivesWholeUnderAFreshNameWithTheSummaryLastOnBothSides() throws {
        let source = try makeTemporaryDirectory(self)
        let target = try makeTemporaryDirectory(self)
        let big = Data((0..<(3 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 9) })
        let files: [String: Data] = [
            "photos/a.txt": Data("alpha\n".utf8), "photos/2024/b.bin": Data([0, 1, 2]), "photos/2024/deep/c.txt": Data(),
            "photos/2024/big.bin": big, "photos/é ü.txt": Data("names\n".utf8),
        ]
        try make(source, files, folders: ["photos/empty", "photos/2024/also empty"])
        try FileManager.default.createDirectory(at: target.appendingPathComponent("photos"), withIntermediateDirectories: false)
        let (server, port) = try startFileServer(target)

        let result = try runToCompletion(["send", source.appendingPathComponent("photos").path, "--to", "127.0.0.1:\(port)"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(lines(result.stdout).last, "all arrived: 5 files (3.0 MiB), 5 folders, 0 skipped, 0 failed")
        XCTAssertEqual(tree(target.appendingPathComponent("photos")), [], "the existing folder is left alone")
        let saved = target.appendingPathComponent("photos (1)")
        XCTAssertEqual(tree(saved), ["2024", "2024/also empty", "2024/b.bin", "2024/big.bin", "2024/deep", "2024/deep/c.txt",
                                     "a.txt", "empty", "é ü.txt"])
        for (path, data) in files {
            XCTAssertEqual(try Data(contentsOf: saved.appendingPathComponent(String(path.dropFirst("photos/".count)))), data, path)
        }
        XCTAssertTrue(waitUntil { server.stderr.contains("folder photos (1) arrived whole: 5 files, 5 folders") }, server.stderr)
        XCTAssertTrue(server.stderr.contains("folder photos (1) arriving: 5 files (3.0 MiB) announced"), server.stderr)
    }

    /// Folder and file names that are not UTF-8, the top folder's included, are listed and opened by their bytes
    /// (they were skipped as "no such file or directory"), and arrive under their decoded names.
    func testNamesThatAreNotUTF8ArriveWholeTheTopFoldersToo() throws {
        let folder = try makeTemporaryDirectory(self)
        let target = folder.appendingPathComponent("in")
        let (_, port) = try startFileServer(target)
        // Foundation passes arguments as Strings (always UTF-8), so python3 makes the tree and runs `send` with the
        // top folder's real bytes.
        let script = """
        import os, subprocess, sys
        top = sys.argv[2].encode() + b"/t\\xff\\xfe"
        os.makedirs(top + b"/inner\\xc3", exist_ok=True)
        os.makedirs(top + b"/ok", exist_ok=True)
        with open(top + b"/inner\\xc3/x\\x80.bin", "wb") as f: f.write(b"abc")
        with open(top + b"/ok/name\\xe9.txt", "wb") as f: f.write(b"latin-1")
        with open(top + b"/ok/good.txt", "wb") as f: f.write(b"good")
        result = subprocess.run([sys.argv[1].encode(), b"send", top, b"--to", b"127.0.0.1:" + sys.argv[3].encode()],
                                capture_output=True, timeout=20)
        sys.stdout.write(result.stdout.decode(errors="replace"))
        sys.stderr.write(result.stderr.decode(errors="replace"))
        sys.exit(result.returncode)
        """
        let result = try runToCompletion(executable: "/usr/bin/env", ["python3", "-c", script, NetconsoleBinary.path, folder.path, "\(port)"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let summary = lines(result.stdout).last ?? ""
        XCTAssertTrue(summary.hasPrefix("all arrived: 3 files"), summary)
        XCTAssertFalse(result.stderr.contains("skipped"), result.stderr)
        let top = "t\u{FFFD}\u{FFFD}"
        XCTAssertEqual(tree(target), [top, "\(top)/inner\u{FFFD}", "\(top)/inner\u{FFFD}/x\u{FFFD}.bin", "\(top)/ok",
                                      "\(top)/ok/good.txt", "\(top)/ok/name\u{FFFD}.txt"])
        XCTAssertEqual(try Data(contentsOf: target.appendingPathComponent("\(top)/inner\u{FFFD}/x\u{FFFD}.bin")), Data("abc".utf8))
        XCTAssertEqual(try Data(contentsOf: target.appendingPathComponent("\(top)/ok/name\u{FFFD}.txt")), Data("latin-1".utf8))
    }

    /// A server that takes the connection and never answers (stalled, or not a netconsole file server) fails a folder
    /// send as quickly as a single file (2 s), not after a full window of pipelined entries and 60 s.
    func testAServerThatNeverAnswersFailsAFolderAsQuicklyAsAFile() throws {
        let source = try makeTemporaryDirectory(self)
        var files: [String: Data] = [:]
        for index in 0..<100 { files["many/f\(index).txt"] = Data("\(index)\n".utf8) }
        try make(source, files)
        let listener = try Socket.listening(on: SocketAddress.resolve(host: "127.0.0.1", port: 0)[0])
        let started = Date()
        let sender = try RunningProcess(["send", source.appendingPathComponent("many").path, "--to", "127.0.0.1:\(listener.localAddress!.port)"])
        let peer = try acceptOne(listener)
        defer { _ = peer }
        let status = sender.waitForExit(timeout: 30)
        XCTAssertEqual(status, 1)
        XCTAssertLessThan(Date().timeIntervalSince(started), 10, "it waited for the long reply timeout")
        XCTAssertTrue(sender.stderr.contains("did not answer the file header within 2 s"), sender.stderr)
    }

    func testLinksAreSkippedAndReportedUnlessFollowed() throws {
        let source = try makeTemporaryDirectory(self)
        let outside = try makeTemporaryDirectory(self)
        let target = try makeTemporaryDirectory(self)
        try make(source, ["tree/real.txt": Data("real".utf8)])
        try make(outside, ["secret.txt": Data("outside".utf8)])
        try FileManager.default.createSymbolicLink(atPath: source.appendingPathComponent("tree/to-file").path,
                                                   withDestinationPath: outside.appendingPathComponent("secret.txt").path)
        try FileManager.default.createSymbolicLink(atPath: source.appendingPathComponent("tree/to-folder").path, withDestinationPath: outside.path)
        let (_, port) = try startFileServer(target)

        let skipped = try runToCompletion(["send", source.appendingPathComponent("tree").path, "--to", "127.0.0.1:\(port)"])
        XCTAssertEqual(skipped.status, 1, "a folder with something left out did not arrive whole")
        XCTAssertTrue(skipped.stderr.contains("to-file skipped: a link, not followed (--follow-links follows links)"), skipped.stderr)
        XCTAssertTrue(skipped.stderr.contains("to-folder skipped: a link"), skipped.stderr)
        XCTAssertEqual(lines(skipped.stdout).last, "incomplete: 1 file (4 B), 1 folder, 2 skipped, 0 failed")
        XCTAssertEqual(tree(target.appendingPathComponent("tree")), ["real.txt"])

        let followed = try runToCompletion(["send", source.appendingPathComponent("tree").path, "--follow-links", "--to", "127.0.0.1:\(port)"])
        XCTAssertEqual(followed.status, 0, followed.stderr)
        XCTAssertEqual(tree(target.appendingPathComponent("tree (1)")), ["real.txt", "to-file", "to-folder", "to-folder/secret.txt"])
        XCTAssertEqual(lines(followed.stdout).last, "all arrived: 3 files (18 B), 2 folders, 0 skipped, 0 failed")
    }

    func testRawRefusesAFolderAndJSONEndsWithTheSummary() throws {
        let source = try makeTemporaryDirectory(self)
        let target = try makeTemporaryDirectory(self)
        try make(source, ["d/x.txt": Data("x".utf8)])
        let (_, port) = try startFileServer(target)
        let raw = try runToCompletion(["send", "--raw", source.appendingPathComponent("d").path, "--to", "127.0.0.1:\(port)"])
        XCTAssertEqual(raw.status, 1)
        XCTAssertTrue(raw.stderr.contains("is a folder; --raw sends files one by one"), raw.stderr)

        let json = try runToCompletion(["send", "--json", source.appendingPathComponent("d").path, "--to", "127.0.0.1:\(port)"])
        XCTAssertEqual(json.status, 0, json.stderr)
        let last = try XCTUnwrap(lines(json.stdout).last)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any])
        XCTAssertEqual(object["event"] as? String, "summary")
        XCTAssertEqual(object["files"] as? String ?? (object["files"] as? NSNumber)?.stringValue, "1")
    }

    private func waitUntil(timeout: Double = 10, _ condition: () -> Bool) -> Bool {
        let end = Date().addingTimeInterval(timeout)
        while Date() < end {
            if condition() { return true }
            usleep(20_000)
        }
        return condition()
    }
}
