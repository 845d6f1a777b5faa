import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

final class BenchCommandTests: XCTestCase {
    /// The numbers of the "result key=value ..." line.
    private func resultFields(_ output: Data) -> [String: Double] {
        let text = String(decoding: output, as: UTF8.self)
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("result ") }) else { return [:] }
        var fields: [String: Double] = [:]
        for pair in line.split(separator: " ").dropFirst() {
            let parts = pair.split(separator: "=")
            if parts.count == 2, let value = Double(parts[1]) { fields[String(parts[0])] = value }
        }
        return fields
    }

    func testDrivesOurEchoServerWithEveryByteVerified() throws {
        let server = try RunningProcess(["serve", "--port", "0", "--quiet"])
        let port = server.listeningPort()
        defer { server.interrupt() }
        // Small requests pipelined on many connections, then requests larger than one read or one send.
        for (connections, size, pipeline) in [("20", "1K", "4"), ("3", "200K", "2")] {
            let result = try runToCompletion(["bench", "echo", "127.0.0.1:\(port)", "--connections", connections,
                                              "--size", size, "--pipeline", pipeline, "--duration", "0.4"])
            let fields = resultFields(result.stdout)
            XCTAssertEqual(result.status, 0, result.stderr)
            XCTAssertEqual(fields["mismatches"], 0, String(decoding: result.stdout, as: UTF8.self))
            XCTAssertEqual(fields["errors"], 0)
            XCTAssertGreaterThan(fields["requests"] ?? 0, 10)
            XCTAssertGreaterThan(fields["requests_per_s"] ?? 0, 0)
            XCTAssertGreaterThan(fields["p99_us"] ?? 0, 0)
            XCTAssertLessThanOrEqual(fields["p50_us"] ?? .infinity, fields["p99_us"] ?? 0)
            // One thread: its CPU use over the measured time is a real share of one core.
            XCTAssertGreaterThan(fields["cpu_pct"] ?? 0, 0)
            XCTAssertLessThanOrEqual(fields["cpu_pct"] ?? .infinity, 110)
        }
    }

    func testAServerThatChangesBytesGetsMismatchesCountedAndFails() throws {
        guard let python = which("python3") else { throw XCTSkip("python3 is not installed") }
        // Echoes everything but flips the last byte of each chunk it receives.
        let script = """
        import socket, sys, threading
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        print("echo server listening on 127.0.0.1:%d" % listener.getsockname()[1], flush=True)
        def serve(conn):
            with conn:
                while True:
                    data = conn.recv(65536)
                    if not data:
                        return
                    data = bytearray(data)
                    data[-1] ^= 0xFF
                    conn.sendall(data)
        while True:
            conn, _ = listener.accept()
            threading.Thread(target=serve, args=(conn,), daemon=True).start()
        """
        let peer = try RunningProcess(executable: python, ["-c", script])
        let port = peer.listeningPort()
        defer { peer.interrupt() }
        let result = try runToCompletion(["bench", "echo", "127.0.0.1:\(port)", "--connections", "2",
                                          "--size", "100", "--duration", "0.3"])
        let fields = resultFields(result.stdout)
        XCTAssertNotEqual(result.status, 0)
        XCTAssertGreaterThan(fields["mismatches"] ?? 0, 0, String(decoding: result.stdout, as: UTF8.self))
        XCTAssertTrue(result.stderr.contains("echoed byte ") && result.stderr.contains(", expected 0x"), result.stderr)
        XCTAssertTrue(result.stderr.contains("echoed bytes were wrong"), result.stderr)
    }

    func testAServerThatIsNotThereIsAClearError() throws {
        // Bind a port and close it again: nothing listens there afterwards.
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        let port = UInt16(bigEndian: address.sin_port)
        close(fd)
        let result = try runToCompletion(["bench", "echo", "127.0.0.1:\(port)", "--duration", "0.2"], timeout: 15)
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.stderr.contains("connection refused: 127.0.0.1:\(port)"), result.stderr)
    }
}
