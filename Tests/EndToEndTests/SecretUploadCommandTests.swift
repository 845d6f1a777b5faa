import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// `serve --files DIR --secret-file F` and `send --secret-file F`, as a user runs them.
final class SecretUploadCommandTests: XCTestCase {
    private var folder: URL!
    private var files: URL!

    override func setUpWithError() throws {
        folder = try makeTemporaryDirectory(self)
        files = try makeTemporaryDirectory(self)
    }

    private func file(_ name: String, _ contents: String) throws -> String {
        let url = files.appendingPathComponent(name)
        try Data(contents.utf8).write(to: url)
        return url.path
    }

    private func startServer(secret: String, _ extra: [String] = []) throws -> (RunningProcess, UInt16) {
        let server = try RunningProcess(["serve", "--files", folder.path, "--port", "0", "--no-fsync",
                                         "--secret-file", try file("server.secret", secret)] + extra)
        let port = server.listeningPort(service: "files")
        addTeardownBlock { server.interrupt() }
        return (server, port)
    }

    private func saved() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: folder.path)
    }

    func testTheRightSecretIsSaved() throws {
        let (_, port) = try startServer(secret: "  tea for two  \n# a comment line\n")
        let note = try file("note.txt", "hello\n")
        let result = try runToCompletion(["send", note, "--to", "127.0.0.1:\(port)", "--secret-file", try file("client.secret", "tea for two")])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(try saved(), ["note.txt"])
        XCTAssertEqual(try String(contentsOf: folder.appendingPathComponent("note.txt"), encoding: .utf8), "hello\n")
    }

    func testAWrongOrMissingSecretIsRefusedAndNothingIsStored() throws {
        let (server, port) = try startServer(secret: "tea for two")
        let note = try file("note.txt", "hello\n")
        let wrong = try runToCompletion(["send", note, "--to", "127.0.0.1:\(port)", "--secret-file", try file("wrong.secret", "tea for three")])
        XCTAssertEqual(wrong.status, 1)
        XCTAssertTrue(wrong.stderr.contains("netconsole: \(note) refused: 401 wrong secret"), wrong.stderr)
        let missing = try runToCompletion(["send", note, "--to", "127.0.0.1:\(port)"])
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.stderr.contains("401 this server needs the shared secret: send with --secret-file FILE"), missing.stderr)
        if let nc = which("nc") {
            _ = try runToCompletion(executable: nc, ["-N", "127.0.0.1", "\(port)"], input: Data("raw bytes\n".utf8))
            XCTAssertTrue(server.waitForStderr { $0.contains("401 raw uploads are refused") }, server.stderr)
        }
        XCTAssertTrue(server.waitForStderr { $0.contains("upload rejected: 401 wrong secret") }, server.stderr)
        XCTAssertFalse(server.stderr.contains("upload of"), "no upload even starts: \(server.stderr)")
        XCTAssertEqual(try saved(), [])
    }

    func testWithFramedOnlyARawUploadIsStillToldAboutTheSecret() throws {
        let nc = try XCTUnwrap(which("nc"), "nc (netcat-openbsd) is needed")
        let (server, port) = try startServer(secret: "tea for two", ["--framed-only"])
        _ = try runToCompletion(executable: nc, ["-N", "127.0.0.1", "\(port)"], input: Data("raw bytes\n".utf8))
        XCTAssertTrue(server.waitForStderr { $0.contains("upload rejected: 401 raw uploads are refused: this server needs the shared secret") }, server.stderr)
        XCTAssertFalse(server.stderr.contains("started with --raw"), "no advice that cannot work with a secret: \(server.stderr)")
        XCTAssertEqual(try saved(), [])
    }

    func testASecretOnANonLoopbackAddressNeedsInsecure() throws {
        let secret = try file("server.secret", "tea for two")
        let refused = try runToCompletion(["serve", "--files", folder.path, "--host", "0.0.0.0", "--port", "0", "--secret-file", secret])
        XCTAssertEqual(refused.status, 1)
        XCTAssertTrue(refused.stderr.hasPrefix("netconsole: --secret-file on 0.0.0.0, not a loopback address, would send the secret and every file in clear text: add --tls"), refused.stderr)
        XCTAssertTrue(refused.stderr.contains("or add --insecure"), refused.stderr)
        XCTAssertEqual(refused.stderr.split(separator: "\n").count, 1, refused.stderr)

        let server = try RunningProcess(["serve", "--files", folder.path, "--host", "0.0.0.0", "--port", "0", "--no-fsync",
                                         "--secret-file", secret, "--insecure"])
        let port = server.listeningPort(service: "files")
        defer { server.interrupt() }
        XCTAssertTrue(server.waitForStderr { $0.contains("--insecure: the secret and every file cross the network in clear text") }, server.stderr)
        let note = try file("note.txt", "hi")
        let result = try runToCompletion(["send", note, "--to", "127.0.0.1:\(port)", "--secret-file", secret])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(try saved(), ["note.txt"])
    }

    func testUnusableSecretFilesAndCombinationsAreOneClearLine() throws {
        let empty = try file("empty.secret", "\n")
        let note = try file("note.txt", "hi")
        let cases: [([String], Int32, String)] = [
            (["serve", "--files", folder.path, "--port", "0", "--secret-file", empty], 1,
             "netconsole: the secret file \(empty) is empty: its first line must hold the secret"),
            (["serve", "--files", folder.path, "--port", "0", "--secret-file", "/nonexistent/s"], 1,
             "netconsole: cannot read the secret file /nonexistent/s: no such file"),
            (["send", note, "--to", "127.0.0.1:9", "--secret-file", empty], 1,
             "netconsole: the secret file \(empty) is empty: its first line must hold the secret"),
            (["serve", "--files", folder.path, "--raw", "--secret-file", empty], 64, "--secret-file cannot guard --raw uploads"),
            (["serve", "--secret-file", empty], 64, "--secret-file needs --files DIR"),
            (["serve", "--files", folder.path, "--insecure"], 64, "--insecure only matters with --secret-file"),
            (["send", note, "--raw", "--to", "127.0.0.1:9", "--secret-file", empty], 64, "--secret-file needs the framed protocol"),
        ]
        for (arguments, status, expected) in cases {
            let result = try runToCompletion(arguments, timeout: 10)
            XCTAssertEqual(result.status, status, "\(arguments): \(result.stderr)")
            XCTAssertTrue(result.stderr.contains(expected), "\(arguments): \(result.stderr)")
        }
        XCTAssertEqual(try saved(), [])
    }
}
