import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// socat as the peer of the raw file server and of the raw sender, byte for byte.
final class SocatInteropTests: XCTestCase {
    private func socat() throws -> String {
        guard let path = which("socat") else { throw XCTSkip("socat is not installed (Debian: socat)") }
        return path
    }

    private func payload() -> Data {
        var bytes = [UInt8](repeating: 0, count: 3_000_000)
        for index in bytes.indices { bytes[index] = UInt8(truncatingIfNeeded: index &* 31 &+ index >> 9) }
        return Data(bytes)
    }

    func testSocatUploadsToTheRawFileServer() throws {
        let socat = try socat()
        let folder = try makeTemporaryDirectory(self)
        let source = try makeTemporaryDirectory(self).appendingPathComponent("photo.raw")
        try payload().write(to: source)
        let server = try RunningProcess(["serve", "--files", folder.path, "--raw", "--port", "0"])
        let port = server.listeningPort(service: "files")
        defer { server.interrupt() }
        let result = try runToCompletion(executable: socat, ["-u", "FILE:\(source.path)", "TCP:127.0.0.1:\(port)"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(server.waitForStderr { $0.contains(" saved ") }, server.stderr)
        let saved = try FileManager.default.contentsOfDirectory(atPath: folder.path)
        XCTAssertEqual(saved.count, 1, "\(saved)")
        XCTAssertEqual(try Data(contentsOf: folder.appendingPathComponent(saved[0])), payload())
    }

    func testTheRawSenderUploadsToSocat() throws {
        let socat = try socat()
        let folder = try makeTemporaryDirectory(self)
        let source = folder.appendingPathComponent("notes.bin")
        let target = folder.appendingPathComponent("received.bin")
        try payload().write(to: source)
        let port = freeLoopbackPort()
        let receiver = try RunningProcess(executable: socat, ["-u", "TCP-LISTEN:\(port),bind=127.0.0.1,reuseaddr", "CREATE:\(target.path)"])
        defer { receiver.interrupt() }
        var result = try runToCompletion(["send", "--raw", source.path, "--to", "127.0.0.1:\(port)"])
        for _ in 0..<50 where result.status != 0 && result.stderr.contains("connection refused") {
            usleep(100_000)  // socat is still starting
            result = try runToCompletion(["send", "--raw", source.path, "--to", "127.0.0.1:\(port)"])
        }
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(receiver.waitForExit(timeout: 5), 0)
        XCTAssertEqual(try Data(contentsOf: target), payload())
    }

    private func freeLoopbackPort() -> UInt16 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer -> Int32 in
                _ = bind(fd, pointer, length)
                return getsockname(fd, pointer, &length)
            }
        }
        return UInt16(bigEndian: address.sin_port)
    }
}
