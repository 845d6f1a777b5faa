import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// `serve --udp`, `echo --udp` and `bench echo --udp` against netcat, socat and Python, both ways.
final class UDPEchoCommandTests: XCTestCase {
    private func tool(_ name: String, package: String) throws -> String {
        guard let path = which(name) else { throw XCTSkip("\(name) is not installed (Debian: \(package))") }
        return path
    }

    private func startServer(_ arguments: [String] = ["--udp"], service: String = "udp echo") throws -> (RunningProcess, UInt16) {
        let server = try RunningProcess(["serve", "--port", "0"] + arguments)
        let port = server.listeningPort(service: service)
        addTeardownBlock { server.interrupt() }
        return (server, port)
    }

    /// A Python UDP echo server on 127.0.0.1 that leaves unanswered every `dropEvery`-th datagram (0: none).
    private func startPythonServer(dropEvery: Int = 0) throws -> (RunningProcess, UInt16) {
        let python = try tool("python3", package: "python3")
        let script = """
        import socket, sys
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(('127.0.0.1', 0))
        print(s.getsockname()[1], flush=True)
        n = 0
        while True:
            data, peer = s.recvfrom(65536)
            n += 1
            if \(dropEvery) and n % \(dropEvery) == 0:
                continue
            s.sendto(data, peer)
        """
        let server = try RunningProcess(executable: python, ["-c", script])
        let text = server.waitForStdout { $0.hasSuffix("\n") }
        addTeardownBlock { server.interrupt() }
        return (server, try XCTUnwrap(UInt16(text.trimmingCharacters(in: .whitespacesAndNewlines))))
    }

    func testNetcatGetsItsDatagramBackAndTCPStillEchoesOnTheSamePort() throws {
        let nc = try tool("nc", package: "netcat-openbsd")
        let (server, port) = try startServer()
        XCTAssertTrue(server.stdout.contains("echo server listening on 127.0.0.1:\(port)\n"), "TCP on the same number: \(server.stdout)")
        let udp = try runToCompletion(executable: nc, ["-u", "-w", "1", "127.0.0.1", "\(port)"], input: Data("over udp\n".utf8))
        XCTAssertEqual(String(decoding: udp.stdout, as: UTF8.self), "over udp\n")
        let tcp = try runToCompletion(executable: nc, ["-N", "127.0.0.1", "\(port)"], input: Data("over tcp\n".utf8))
        XCTAssertEqual(String(decoding: tcp.stdout, as: UTF8.self), "over tcp\n")
        XCTAssertTrue(server.waitForStderr { $0.contains("udp echo: 1 datagram (9 bytes) echoed so far") }, server.stderr)
        server.interrupt()
        XCTAssertEqual(server.waitForExit(timeout: 5), 0, server.stderr)
        XCTAssertTrue(server.stderr.contains("udp echo server on 127.0.0.1:\(port) stopped"), server.stderr)
    }

    func testSocatAsClientAndAsServer() throws {
        let socat = try tool("socat", package: "socat")
        let (_, port) = try startServer(["--udp-only"])
        let asClient = try runToCompletion(executable: socat, ["-t", "1", "-", "UDP:127.0.0.1:\(port)"], input: Data("via socat\n".utf8))
        XCTAssertEqual(String(decoding: asClient.stdout, as: UTF8.self), "via socat\n")

        let listenPort = UInt16.random(in: 40_000...59_000)
        // No `fork`: its per-peer child outlives an interrupted parent and keeps Foundation waiting for it.
        let peer = try RunningProcess(executable: socat, ["UDP-LISTEN:\(listenPort),bind=127.0.0.1", "PIPE"])
        defer { peer.interrupt() }
        usleep(300_000)
        let result = try runToCompletion(["echo", "--udp", "127.0.0.1:\(listenPort)"], input: Data("one\ntwo\n".utf8))
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(String(decoding: result.stdout, as: UTF8.self), "one\ntwo\n")
        XCTAssertTrue(result.stderr.contains("2 sent, 2 echoed, 0 lost (0%)"), result.stderr)
    }

    func testPythonDatagramsUpToTheLimitAndAnOversizeOneOverIPv6() throws {
        let python = try tool("python3", package: "python3")
        let (server, port) = try startServer(["--udp-only", "--host", "::1"])
        let script = """
        import socket
        s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        s.settimeout(1)
        for size in (65508, 65507, 0, 1):
            data = bytes((i * 7) % 256 for i in range(size))
            s.sendto(data, ('::1', \(port)))
            try:
                back = s.recv(70000)
                print(size, 'echoed' if back == data else 'WRONG')
            except socket.timeout:
                print(size, 'no reply')
        """
        let result = try runToCompletion(executable: python, ["-c", script], timeout: 20)
        XCTAssertEqual(String(decoding: result.stdout, as: UTF8.self), "65508 no reply\n65507 echoed\n0 echoed\n1 echoed\n", result.stderr)
        XCTAssertTrue(server.waitForStderr { $0.contains("udp echo: 1 datagram dropped so far: a datagram of 65508 bytes is larger than 65507, not echoed") }, server.stderr)
    }

    func testEchoUDPCountsLostRepliesAndSaysSoAtTheEnd() throws {
        let (_, port) = try startPythonServer(dropEvery: 2)
        let result = try runToCompletion(["echo", "--udp", "--timeout", "300ms", "127.0.0.1:\(port)"], input: Data("a\nb\nc\nd\n".utf8))
        XCTAssertEqual(result.status, 1)
        XCTAssertEqual(String(decoding: result.stdout, as: UTF8.self), "a\nc\n")
        XCTAssertTrue(result.stderr.contains("netconsole: no echo of line 2 within 0.3 s: counted as lost"), result.stderr)
        XCTAssertTrue(result.stderr.contains("netconsole: udp echo 127.0.0.1:\(port): 4 sent, 2 echoed, 2 lost (50%)"), result.stderr)

        let closed = try runToCompletion(["echo", "--udp", "127.0.0.1:9"], input: Data("x\n".utf8))
        XCTAssertEqual(closed.status, 1)
        XCTAssertTrue(closed.stderr.contains("netconsole: nothing answers on UDP port 127.0.0.1:9 (port unreachable)"), closed.stderr)
    }

    func testBenchReportsLossAgainstALossyServerAndNoneAgainstOurs() throws {
        let (_, ours) = try startServer(["--udp-only"])
        let clean = try runToCompletion(["bench", "echo", "--udp", "127.0.0.1:\(ours)", "-c", "2", "--pipeline", "4", "-d", "1", "-s", "512"])
        XCTAssertEqual(clean.status, 0, clean.stderr)
        let cleanResult = try XCTUnwrap(String(decoding: clean.stdout, as: UTF8.self).split(separator: "\n").last.map(String.init))
        XCTAssertTrue(cleanResult.hasPrefix("result datagrams_per_s="), cleanResult)
        XCTAssertTrue(cleanResult.contains(" lost=0 loss_pct=0.00 "), cleanResult)
        XCTAssertTrue(cleanResult.contains(" mismatches=0 "), cleanResult)
        // With datagrams in flight, an echo of one sent in the same batch of replies still takes time.
        XCTAssertFalse(cleanResult.contains(" p50_us=0.0 "), cleanResult)

        let (_, lossy) = try startPythonServer(dropEvery: 4)
        let result = try runToCompletion(["bench", "echo", "--udp", "127.0.0.1:\(lossy)", "-c", "2", "--pipeline", "8", "-d", "1",
                                          "-s", "64", "--loss-timeout", "100ms"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let line = try XCTUnwrap(String(decoding: result.stdout, as: UTF8.self).split(separator: "\n").last.map(String.init))
        let fields = Dictionary(uniqueKeysWithValues: line.split(separator: " ").dropFirst().compactMap { field -> (String, Double)? in
            let parts = field.split(separator: "=")
            return parts.count == 2 ? (String(parts[0]), Double(parts[1]) ?? -1) : nil
        })
        let loss = try XCTUnwrap(fields["loss_pct"])
        XCTAssertTrue((20...30).contains(loss), "a quarter dropped: \(line)")
        XCTAssertEqual(fields["sent"], (fields["echoed"] ?? 0) + (fields["lost"] ?? 0), line)
    }

    /// A Python flood at full speed from one source: TCP echoes on the same loop stay fast, and the log has a
    /// bounded number of lines for that peer.
    func testAFloodNeitherStarvesTCPNorFloodsTheLog() throws {
        let python = try tool("python3", package: "python3")
        let (server, port) = try startServer()
        let flood = try RunningProcess(executable: python, ["-c", """
        import socket, time
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setblocking(False)
        end = time.time() + 2.5
        data = b'x' * 64
        while time.time() < end:
            try:
                s.sendto(data, ('127.0.0.1', \(port)))
            except BlockingIOError:
                pass
        """])
        defer { flood.interrupt() }
        XCTAssertTrue(server.waitForStderr { $0.contains("udp echo: 1 datagram (64 bytes) echoed so far") }, server.stderr)
        let socket = try XCTUnwrap(connectToLoopback(port: port))
        defer { close(socket) }
        var slowest = 0.0
        for index in 0..<20 {
            let message = Array("ping \(index)\n".utf8)
            let started = Date()
            XCTAssertEqual(send(socket, message, message.count, 0), message.count)
            var received: [UInt8] = []
            while received.count < message.count {
                var entry = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
                guard poll(&entry, 1, 2000) > 0 else { break }
                var chunk = [UInt8](repeating: 0, count: 64)
                let n = recv(socket, &chunk, chunk.count, 0)
                if n <= 0 { break }
                received += chunk[0..<n]
            }
            XCTAssertEqual(received, message)
            slowest = max(slowest, Date().timeIntervalSince(started))
            usleep(50_000)
        }
        XCTAssertLessThan(slowest, 0.5, "TCP echoes during the flood")
        XCTAssertEqual(flood.waitForExit(timeout: 10), 0)
        usleep(1_200_000)
        let lines = server.stderr.split(separator: "\n").filter { $0.contains(" udp echo: ") && $0.contains("echoed so far") }
        XCTAssertGreaterThan(lines.count, 0)
        XCTAssertLessThanOrEqual(lines.count, 6, "one line for the first datagram, then at most one a second: \(lines)")
    }

    func testUDPOptionsThatCannotWorkAreRefused() throws {
        let folder = try makeTemporaryDirectory(self)
        let cases: [([String], String)] = [
            (["serve", "--udp", "--udp-only"], "--udp (beside TCP) and --udp-only contradict each other"),
            (["serve", "--udp", "--files", folder.path], "--udp is for the echo server: with --files, add --echo"),
            (["serve", "--udp-only", "--mode", "once"], "--udp-only needs --mode concurrent"),
            (["bench", "echo", "--udp", "127.0.0.1:9", "-s", "70000"], "--size with --udp must be from 16 to 65507 bytes"),
        ]
        for (arguments, expected) in cases {
            let result = try runToCompletion(arguments, timeout: 10)
            XCTAssertEqual(result.status, 64, "\(arguments): \(result.stderr)")
            XCTAssertTrue(result.stderr.contains(expected), "\(arguments): \(result.stderr)")
        }
    }
}
