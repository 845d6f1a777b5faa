import Foundation
import NetEngine
import XCTest

final class SocketErrorTests: XCTestCase {
    func testPortInUseSaysSo() throws {
        let address = try SocketAddress.resolve(host: "127.0.0.1", port: 0)[0]
        let first = try Socket.listening(on: address)
        let taken = first.localAddress!
        XCTAssertThrowsError(try Socket.listening(on: taken)) { error in
            XCTAssertEqual((error as? SocketError)?.message, "address already in use: \(taken)")
            XCTAssertEqual((error as? SocketError)?.code, EADDRINUSE)
        }
    }

    func testConnectionRefusedSaysSo() throws {
        let address = try SocketAddress.resolve(host: "127.0.0.1", port: 0)[0]
        let port = try Socket.listening(on: address).localAddress!.port  // bound, then closed at once
        XCTAssertThrowsError(try Socket.connect(host: "127.0.0.1", port: port)) { error in
            XCTAssertEqual((error as? SocketError)?.message, "connection refused: 127.0.0.1:\(port)")
        }
    }

    func testUnresolvableHostSaysSo() {
        XCTAssertThrowsError(try SocketAddress.resolve(host: "no-such-host.invalid", port: 1)) { error in
            XCTAssertTrue((error as? AddressError)?.message.hasPrefix("cannot resolve host 'no-such-host.invalid'") == true, "\(error)")
        }
    }

    /// Each kind of failure has its own type, all one line a person can act on.
    func testFailuresAreTypedByWhereTheyCameFrom() throws {
        XCTAssertThrowsError(try Endpoint(parsing: "no-port")) { error in
            XCTAssertEqual(error as? AddressError, AddressError("bad address 'no-port': port must be a number from 0 to 65535"))
        }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("netconsole-plain-\(UUID().uuidString)")
        try Data().write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        XCTAssertThrowsError(try UploadStore.check(directory: file.path + "/inside")) { error in
            XCTAssertEqual((error as? StorageError)?.code, ENOTDIR, "\(error)")
            XCTAssertEqual((error as? NetError)?.message, "\(file.path) exists and is not a folder")
        }
        let listener = try Socket.listening(on: SocketAddress.resolve(host: "127.0.0.1", port: 0)[0])
        let client = try EchoClient(connectingTo: Endpoint(host: "127.0.0.1", port: listener.localAddress!.port))
        XCTAssertThrowsError(try client.roundTrip(Array("hi\n".utf8), timeout: 0.2)) { error in
            XCTAssertTrue((error as? TimeoutError)?.message.hasPrefix("no reply from 127.0.0.1:") == true, "\(error)")
        }
        XCTAssertThrowsError(try Socket.connect(host: "127.0.0.1", port: freeTCPPort())) { error in
            XCTAssertEqual((error as? SocketError)?.code, ECONNREFUSED, "system calls keep their errno")
        }
    }

    private func freeTCPPort() throws -> UInt16 {
        let socket = try Socket.listening(on: SocketAddress.resolve(host: "127.0.0.1", port: 0)[0])
        defer { socket.close() }
        return socket.localAddress!.port
    }

    func testIPv6LoopbackWorks() throws {
        guard let address = try? SocketAddress.resolve(host: "::1", port: 0)[0], let listener = try? Socket.listening(on: address) else {
            throw XCTSkip("no IPv6 loopback on this machine")
        }
        let bound = listener.localAddress!
        XCTAssertTrue(bound.description.hasPrefix("[::1]:"))
        let client = try Socket.connect(to: bound)
        try listener.setNonBlocking(true)
        try listener.waitFor(events: Int16(POLLIN), timeoutMilliseconds: 2000)
        let (server, peer) = try XCTUnwrap(try listener.accept())
        XCTAssertEqual(peer.host, "::1")
        try client.sendAll("v6")
        XCTAssertEqual(try receiveExactly(server, count: 2), Array("v6".utf8))
    }

    func testEndpointParsing() throws {
        XCTAssertEqual(try Endpoint(parsing: "127.0.0.1:12345"), Endpoint(host: "127.0.0.1", port: 12345))
        XCTAssertEqual(try Endpoint(parsing: "localhost:80"), Endpoint(host: "localhost", port: 80))
        XCTAssertEqual(try Endpoint(parsing: "[::1]:9000"), Endpoint(host: "::1", port: 9000))
        XCTAssertEqual(try Endpoint(parsing: ":7"), Endpoint(host: "127.0.0.1", port: 7))
        XCTAssertEqual(try Endpoint(parsing: "8080"), Endpoint(host: "127.0.0.1", port: 8080))
        XCTAssertThrowsError(try Endpoint(parsing: "host:99999"))
        XCTAssertThrowsError(try Endpoint(parsing: "::1:80"))
        XCTAssertThrowsError(try Endpoint(parsing: "[::1]80"))
    }

    func testDisplaySanitizingNeutralisesEscapes() {
        XCTAssertEqual("a\u{1B}[2Jb\n\0".sanitizedForDisplay, "a\\u{1b}[2Jb\\n\\u{0}")
        XCTAssertEqual("naïve файл 文件".sanitizedForDisplay, "naïve файл 文件")
        XCTAssertEqual("\u{9B}31m".sanitizedForDisplay, "\\u{9b}31m")
    }

    func testByteCountParsingAndFormatting() {
        XCTAssertEqual(ByteCount.parse("1G"), 1 << 30)
        XCTAssertEqual(ByteCount.parse("64KiB"), 65536)
        XCTAssertEqual(ByteCount.parse("10 MB"), 10 << 20)
        XCTAssertEqual(ByteCount.parse("123"), 123)
        XCTAssertNil(ByteCount.parse("lots"))
        XCTAssertNil(ByteCount.parse("5X"))
        XCTAssertEqual(ByteCount.format(512), "512 B")
        XCTAssertEqual(ByteCount.format(1536), "1.5 KiB")
    }
}
