import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

final class ServerLimitsTests: XCTestCase {
    func testServerOutOfFileDescriptorsKeepsServingOnceTheyFreeUp() throws {
        // A server allowed 24 descriptors: the rest of the clients hit EMFILE on accept.
        let server = try RunningProcess(executable: "/bin/sh", ["-c", "ulimit -n 24 && exec \"$0\" serve --port 0 --no-byte-log", NetconsoleBinary.path])
        let port = server.listeningPort()
        defer { server.interrupt() }
        var sockets: [Int32] = []
        for _ in 0..<40 {
            sockets.append(try XCTUnwrap(connectToLoopback(port: port)))
        }
        XCTAssertTrue(server.waitForStderr(timeout: 5) { $0.contains("too many open files") }, server.stderr)
        XCTAssertTrue(server.process.isRunning)
        for fd in sockets { close(fd) }
        // Once descriptors are free again, a fresh client is served.
        var served = false
        let deadline = Date().addingTimeInterval(10)
        while !served && Date() < deadline {
            let result = try runToCompletion(["echo", "127.0.0.1:\(port)", "--timeout", "2"], input: Data("again\n".utf8))
            served = result.status == 0 && String(decoding: result.stdout, as: UTF8.self) == "again\n"
        }
        XCTAssertTrue(served, server.stderr)
    }

    func testMaxConnectionsFromTheCommandLine() throws {
        guard let nc = which("nc") else { throw XCTSkip("nc is not installed") }
        let server = try RunningProcess(["serve", "--port", "0", "--max-connections", "1"])
        let port = server.listeningPort()
        defer { server.interrupt() }
        let holder = try RunningProcess(executable: nc, ["127.0.0.1", "\(port)"])
        XCTAssertTrue(server.waitForStderr { $0.contains("connected (echo)") })
        let refused = try runToCompletion(executable: nc, ["127.0.0.1", "\(port)"], timeout: 5)
        XCTAssertEqual(String(decoding: refused.stdout, as: UTF8.self), "ERR 503 server busy: at its limit of 1 connection\n")
        XCTAssertTrue(server.stderr.contains("refused: server busy"), server.stderr)
        holder.closeStdin()
        _ = holder.waitForExit(timeout: 2)
    }
}

final class HeaderTimeoutCommandTests: XCTestCase {
    func testTricklingFileClientIsDroppedAtTheHeaderTimeout() throws {
        let folder = try makeTemporaryDirectory(self)
        let server = try RunningProcess(["serve", "--files", folder.path, "--port", "0", "--header-timeout", "0.5", "--no-byte-log"])
        let port = server.listeningPort(service: "files")
        defer { server.interrupt() }
        let fd = try XCTUnwrap(connectToLoopback(port: port))
        defer { close(fd) }
        // "NCFT" one byte every 200 ms: never idle, never a whole header.
        for byte in Array("NCFT".utf8) {
            var b = byte
            _ = send(fd, &b, 1, Int32(MSG_NOSIGNAL))
            usleep(200_000)
        }
        XCTAssertTrue(server.waitForStderr(timeout: 3) { $0.contains("no complete file header within") }, server.stderr)
        var buffer = [UInt8](repeating: 0, count: 128)
        let count = recv(fd, &buffer, buffer.count, 0)
        XCTAssertEqual(String(decoding: buffer.prefix(max(count, 0)), as: UTF8.self), "ERR 408 no complete file header within 0.5 s\n",
                       "the client is told why")
        XCTAssertEqual(recv(fd, &buffer, buffer.count, 0), 0, "the server closed the trickling connection")
    }
}

/// A plain blocking TCP connection to 127.0.0.1:`port` as a bare descriptor (nil if connect fails), for tests that
/// need exact control over what is sent and when.
func connectToLoopback(port: UInt16) -> Int32? {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = port.bigEndian
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let status = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    if status != 0 {
        close(fd)
        return nil
    }
    return fd
}
