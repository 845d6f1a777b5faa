import Foundation
import NetEngine
import XCTest

/// The one hosting path of `serve` and the console: the port rule, several loops on one listening socket, stop.
final class ServerGroupTests: XCTestCase {
    func testThePortAfterAPort() {
        XCTAssertEqual(ServerGroup.port(after: 12345), 12346)
        XCTAssertEqual(ServerGroup.port(after: 0), 0, "a free port after a free port")
        XCTAssertNil(ServerGroup.port(after: UInt16.max))
    }

    func testAServiceOnTwoLoopsServesAndStops() throws {
        // Servers are started before their loops run (as `serve` does): a loop's objects are its thread's once it runs.
        let loops = [try EventLoop(), try EventLoop()]
        let recorder = EventRecorder()
        let group = ServerGroup(loops: loops, host: "127.0.0.1", sink: recorder.sink)
        let address = try group.start(ServerGroup.Service(name: "echo", port: 0) { EchoHandler() })
        XCTAssertTrue(try group.start(ServerGroup.Service(name: "echo", port: 0) { EchoHandler() }) == address,
                      "starting a running service again changes nothing")
        let finished = DispatchSemaphore(value: 0)
        for loop in loops { Thread { loop.run(); finished.signal() }.start() }
        for index in 0..<6 {
            let socket = try Socket.connect(host: "127.0.0.1", port: address.port)
            try socket.sendAll(Array("hello \(index)\n".utf8))
            XCTAssertEqual(try receiveLine(socket), "hello \(index)")
        }
        for loop in loops { loop.stop() }
        for _ in loops { finished.wait() }
        group.stopAll()
        XCTAssertTrue(group.isEmpty)
        XCTAssertThrowsError(try Socket.connect(host: "127.0.0.1", port: address.port), "the listening socket is closed on every loop")
    }

    /// Records the largest read it was handed; the bytes are only valid during the call.
    private final class ReadSizeRecorder: ConnectionHandler, @unchecked Sendable {
        private let lock = Lock()
        private var seen = 0
        var largest: Int { lock.withLock { seen } }
        func connection(_ connection: Connection, received bytes: UnsafeRawBufferPointer) {
            lock.withLock { seen = max(seen, bytes.count) }
            if bytes.contains(UInt8(ascii: "!")) { connection.write("done\n") }
        }
    }

    func testAServiceMayReadInItsOwnSizeBesideTheGroups() throws {
        let loop = try EventLoop()
        let group = ServerGroup(loops: [loop], host: "127.0.0.1", readBufferSize: 64 * 1024, sink: nil)
        let small = ReadSizeRecorder(), large = ReadSizeRecorder()
        let smallAddress = try group.start(ServerGroup.Service(name: "small", port: 0, readBufferSize: 1000) { small })
        let largeAddress = try group.start(ServerGroup.Service(name: "large", port: 0) { large })
        let finished = DispatchSemaphore(value: 0)
        Thread { loop.run(); finished.signal() }.start()
        let payload = [UInt8](repeating: 0x61, count: 200_000) + Array("!".utf8)
        for address in [smallAddress, largeAddress] {
            let socket = try Socket.connect(host: "127.0.0.1", port: address.port)
            try socket.sendAll(payload)
            XCTAssertEqual(try receiveLine(socket), "done")
        }
        loop.stop()
        finished.wait()
        group.stopAll()
        XCTAssertLessThanOrEqual(small.largest, 1000)
        XCTAssertGreaterThan(large.largest, 1000, "the group's 64 KiB for a service that names none")
    }
}
