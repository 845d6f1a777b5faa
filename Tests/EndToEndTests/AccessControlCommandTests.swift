import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// `serve --allow/--deny` with netcat as the peer: 127.0.0.2 is a second IPv4 source (`nc -s`), ::1 a second family.
final class AccessControlCommandTests: XCTestCase {
    private func netcat() throws -> String {
        guard let nc = which("nc") else { throw XCTSkip("nc (netcat-openbsd) is not installed") }
        return nc
    }

    /// What netcat gets back for "hello\n" sent to `host`:`port`, from `source` when given.
    private func echo(_ nc: String, host: String, port: UInt16, from source: String? = nil) throws -> String {
        let sourceArguments = source.map { ["-s", $0] } ?? []
        let result = try runToCompletion(executable: nc, ["-N", "-w", "3"] + sourceArguments + [host, "\(port)"],
                                         input: Data("hello\n".utf8), timeout: 10)
        return String(decoding: result.stdout, as: UTF8.self)
    }

    func testOnlyTheAllowedSourceIsServedAndTheOtherIsLoggedAndClosed() throws {
        let nc = try netcat()
        let server = try RunningProcess(["serve", "--port", "0", "--allow", "127.0.0.1"])
        let port = server.listeningPort()
        defer { server.interrupt() }
        XCTAssertEqual(try echo(nc, host: "127.0.0.1", port: port, from: "127.0.0.2"), "")
        XCTAssertEqual(try echo(nc, host: "127.0.0.1", port: port, from: "127.0.0.1"), "hello\n")
        XCTAssertTrue(server.waitForStderr { $0.contains("127.0.0.2:") && $0.contains(" denied (echo): not in any --allow block") }, server.stderr)
        XCTAssertTrue(server.stderr.contains("admitting only peers in 127.0.0.1/32"), server.stderr)
        XCTAssertTrue(server.waitForStderr { $0.contains("closed, 6 bytes in") }, server.stderr)
        XCTAssertEqual(server.stderr.components(separatedBy: "connected (echo)").count - 1, 1, "only the allowed peer: \(server.stderr)")
    }

    func testDenyWinsOverAllowForTheFileServerAndNothingIsStored() throws {
        let nc = try netcat()
        let folder = try makeTemporaryDirectory(self)
        let server = try RunningProcess(["serve", "--files", folder.path, "--port", "0", "--no-fsync",
                                         "--allow", "127.0.0.0/8", "--deny", "127.0.0.2/32"])
        let port = server.listeningPort(service: "files")
        defer { server.interrupt() }
        _ = try echo(nc, host: "127.0.0.1", port: port, from: "127.0.0.2")
        XCTAssertTrue(server.waitForStderr { $0.contains(" denied (files): denied by --deny 127.0.0.2/32") }, server.stderr)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path), [])
        _ = try echo(nc, host: "127.0.0.1", port: port, from: "127.0.0.3")
        XCTAssertTrue(server.waitForStderr { $0.contains(" saved ") }, server.stderr)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path).count, 1)
    }

    func testIPv6PeersAreMatchedByTheirOwnBlocks() throws {
        let nc = try netcat()
        let allowingV4 = try RunningProcess(["serve", "--host", "::1", "--port", "0", "--allow", "127.0.0.0/8"])
        let refusing = allowingV4.listeningPort()
        defer { allowingV4.interrupt() }
        XCTAssertEqual(try echo(nc, host: "::1", port: refusing), "")
        XCTAssertTrue(allowingV4.waitForStderr { $0.contains("[::1]:") && $0.contains(" denied (echo): not in any --allow block") }, allowingV4.stderr)

        let allowingV6 = try RunningProcess(["serve", "--host", "::1", "--port", "0", "--allow", "::1/128", "--deny", "127.0.0.0/8"])
        let serving = allowingV6.listeningPort()
        defer { allowingV6.interrupt() }
        XCTAssertEqual(try echo(nc, host: "::1", port: serving), "hello\n")
    }

    func testBadBlocksAreOneClearLine() throws {
        let cases: [([String], String)] = [
            (["--allow", "10.0.0.1/8"], "'10.0.0.1/8' is not an address block: host bits are set; the block is 10.0.0.0/8"),
            (["--deny", "::1/129"], "'::1/129' is not an address block: the prefix length must be a number from 0 to 128"),
            (["--allow", "example.com"], "'example.com' is not an address block: 'example.com' is not an IPv4 or IPv6 address"),
        ]
        for (arguments, expected) in cases {
            let result = try runToCompletion(["serve", "--port", "0"] + arguments, timeout: 10)
            XCTAssertEqual(result.status, 64, "\(arguments): \(result.stderr)")
            XCTAssertTrue(result.stderr.contains(expected), "\(arguments): \(result.stderr)")
        }
    }
}
