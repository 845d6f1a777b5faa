import Foundation
import NetEngine
import XCTest

/// `Connection.sendFile`: a file's bytes go from the page cache to a plain socket with no copy through the process;
/// a full socket waits for `connectionDrained`, and wherever it cannot be done the caller is told to write instead.
final class ConnectionSendFileTests: XCTestCase {
    /// Sends the whole file when the connection starts, waiting for room whenever the socket is full.
    private final class FileFeeder: ConnectionHandler {
        let file: Int32
        let size: Int64
        var offset: Int64 = 0
        var fullSeen = 0
        var drained = 0
        var results: [FileRegionSend] = []
        var connection: Connection?

        init(file: Int32, size: Int64) {
            self.file = file
            self.size = size
        }

        func connectionStarted(_ connection: Connection) {
            self.connection = connection
            feed(connection)
        }

        func connectionDrained(_ connection: Connection) {
            drained += 1
            feed(connection)
        }

        func feed(_ connection: Connection) {
            while offset < size {
                let result = connection.sendFile(file, offset: &offset, count: Int(min(size - offset, 1 << 20)))
                results.append(result)
                guard case .sent = result else {
                    if result == .full { fullSeen += 1 }
                    return
                }
            }
            connection.shutdownWrite()
        }

        func connection(_ connection: Connection, received bytes: UnsafeRawBufferPointer) {}
    }

    private func temporaryFile(_ bytes: [UInt8]) throws -> (URL, Int32) {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("sendfile-\(UUID().uuidString)")
        try Data(bytes).write(to: url)
        let fd = open(url.path, O_RDONLY | O_CLOEXEC)
        XCTAssertGreaterThanOrEqual(fd, 0)
        return (url, fd)
    }

    func testTheFilesBytesArriveAndAFullSocketWaitsForRoom() throws {
        let bytes = [UInt8](try XCTUnwrap(FileHandle(forReadingAtPath: "/dev/urandom")).readData(ofLength: 16 << 20))
        let (url, fd) = try temporaryFile(bytes)
        defer { close(fd); try? FileManager.default.removeItem(at: url) }

        let listener = try Socket.listening(on: SocketAddress.resolve(host: "127.0.0.1", port: 0)[0])
        let port = listener.localAddress!.port
        let loopThread = try LoopThread()
        defer { loopThread.shutdown() }
        let feeder = FileFeeder(file: fd, size: Int64(bytes.count))
        let client = try loopThread.sync {
            let client = TCPClient(loop: loopThread.loop, endpoint: Endpoint(host: "127.0.0.1", port: port), handler: feeder) { reason in
                XCTFail("connect failed: \(reason)")
            }
            client.start()
            return client
        }
        try listener.waitFor(events: Int16(POLLIN), timeoutMilliseconds: 5000)
        let (peer, _) = try XCTUnwrap(try listener.accept())
        // Nobody reads for a while: 16 MiB cannot all fit in the socket buffers, so the sender meets a full socket.
        usleep(300_000)
        var received = Data()
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            try peer.waitFor(events: Int16(POLLIN), timeoutMilliseconds: 10_000)
            guard let n = try peer.receive(into: buffer) else { continue }
            if n == 0 { break }
            received.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
        }
        XCTAssertEqual(received.count, bytes.count)
        XCTAssertTrue(received == Data(bytes), "the bytes that arrived are the file's")
        let (fullSeen, drained, bytesOut) = try loopThread.sync { (feeder.fullSeen, feeder.drained, feeder.connection?.bytesOut ?? 0) }
        XCTAssertGreaterThan(fullSeen, 0, "the socket was full at least once")
        XCTAssertEqual(drained, fullSeen, "each full socket was followed by one call when there was room")
        XCTAssertEqual(bytesOut, bytes.count, "what sendfile sent is counted")
        try loopThread.sync { client.cancel() }
    }

    func testPastTheEndOfTheFileIsEndOfFileAndAWatchedConnectionWritesInstead() throws {
        let (url, fd) = try temporaryFile(Array(repeating: 1, count: 1000))
        defer { close(fd); try? FileManager.default.removeItem(at: url) }
        let listener = try Socket.listening(on: SocketAddress.resolve(host: "127.0.0.1", port: 0)[0])
        let loopThread = try LoopThread()
        defer { loopThread.shutdown() }
        final class Idle: ConnectionHandler {
            var connection: Connection?
            func connectionStarted(_ connection: Connection) { self.connection = connection }
            func connection(_ connection: Connection, received bytes: UnsafeRawBufferPointer) {}
        }
        let idle = Idle()
        let client = try loopThread.sync {
            let client = TCPClient(loop: loopThread.loop, endpoint: Endpoint(host: "127.0.0.1", port: listener.localAddress!.port), handler: idle) { _ in }
            client.start()
            return client
        }
        try listener.waitFor(events: Int16(POLLIN), timeoutMilliseconds: 5000)
        let accepted = try XCTUnwrap(try listener.accept())
        defer { _ = accepted }
        let deadline = Date().addingTimeInterval(5)
        while try loopThread.sync({ idle.connection == nil }), Date() < deadline { usleep(2000) }
        let results: [FileRegionSend] = try loopThread.sync {
            guard let connection = idle.connection else { return [] }
            var results: [FileRegionSend] = []
            var offset: Int64 = 1000
            results.append(connection.sendFile(fd, offset: &offset, count: 10))
            offset = 990
            results.append(connection.sendFile(fd, offset: &offset, count: 10))
            results.append(connection.sendFile(-1, offset: &offset, count: 10))
            connection.startCapture()
            offset = 0
            results.append(connection.sendFile(fd, offset: &offset, count: 10))
            return results
        }
        XCTAssertEqual(results, [.endOfFile, .sent(10), .unsupported, .unsupported])
        try loopThread.sync { client.cancel() }
    }

    func testAConnectionWithNoSocketUnderItWritesInstead() throws {
        final class Idle: ConnectionHandler {
            func connection(_ connection: Connection, received bytes: UnsafeRawBufferPointer) {}
        }
        let (url, fd) = try temporaryFile([1, 2, 3])
        defer { close(fd); try? FileManager.default.removeItem(at: url) }
        let embedded = try EmbeddedConnection(handler: Idle())
        var offset: Int64 = 0
        XCTAssertEqual(embedded.connection.sendFile(fd, offset: &offset, count: 3), .unsupported)
        XCTAssertEqual(offset, 0)
    }
}
