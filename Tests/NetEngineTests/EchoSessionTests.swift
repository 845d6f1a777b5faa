import Foundation
@testable import NetEngine
import XCTest

/// The console's non-blocking echo exchange against servers that answer with exactly, or more than, they got.
final class EchoSessionTests: XCTestCase {
    override func setUp() { ignoreBrokenPipeSignal() }

    /// A one-client server on a thread of its own: answers the first block it reads with that block and `extra`
    /// in one send, then waits for the client to close.
    private func startServer(extra: [UInt8]) throws -> (port: UInt16, finished: DispatchSemaphore) {
        let listener = try Socket.listening(on: try XCTUnwrap(SocketAddress.resolve(host: "127.0.0.1", port: 0).first))
        let port = try XCTUnwrap(listener.localAddress?.port)
        let finished = DispatchSemaphore(value: 0)
        Thread {
            defer { listener.close(); finished.signal() }
            guard let (client, _) = try? listener.accept() else { return }
            var block = [UInt8](repeating: 0, count: 1024)
            var answered = false
            while (try? client.waitFor(events: Int16(POLLIN), timeoutMilliseconds: 10_000)) != nil,
                  let n = try? block.withUnsafeMutableBytes({ try client.receive(into: $0) }), n > 0 {
                if !answered { try? client.sendAll(Array(block[0..<n]) + extra) }
                answered = true
            }
            client.close()
        }.start()
        return (port, finished)
    }

    private func exchange(_ message: [UInt8], port: UInt16) throws -> EchoSession.Outcome? {
        let client = try LoopThread()
        defer { client.shutdown() }
        let done = DispatchSemaphore(value: 0)
        var outcome: EchoSession.Outcome?
        let session = try client.sync {
            let session = EchoSession(loop: client.loop, endpoint: Endpoint(host: "127.0.0.1", port: port), message: message) {
                outcome = $0
                done.signal()
            }
            session.start()
            return session
        }
        XCTAssertEqual(done.wait(timeout: .now() + 10), .success)
        _ = session
        return try client.sync { outcome }
    }

    func testBytesBeyondTheEchoAreReturnedBesideIt() throws {
        let server = try startServer(extra: Array("MORE\u{1}".utf8))
        let outcome = try exchange(Array("ping\n".utf8), port: server.port)
        guard case let .reply(bytes, _, extra)? = outcome else { return XCTFail("\(String(describing: outcome))") }
        XCTAssertEqual(bytes, Array("ping\n".utf8))
        XCTAssertEqual(extra, Array("MORE\u{1}".utf8))
        XCTAssertEqual(server.finished.wait(timeout: .now() + 10), .success)
    }

    func testAnExactEchoHasNothingBeyondIt() throws {
        let server = try startServer(extra: [])
        let outcome = try exchange(Array("ping\n".utf8), port: server.port)
        guard case let .reply(bytes, _, extra)? = outcome else { return XCTFail("\(String(describing: outcome))") }
        XCTAssertEqual(bytes, Array("ping\n".utf8))
        XCTAssertEqual(extra, [])
        XCTAssertEqual(server.finished.wait(timeout: .now() + 10), .success)
    }
}
