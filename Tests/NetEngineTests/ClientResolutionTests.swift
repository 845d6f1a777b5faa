import Foundation
@testable import NetEngine
import XCTest

/// The non-blocking clients (the console's echo messages and file sends) resolve host names off their event loop:
/// a slow DNS server must not freeze the console or its servers, which share that loop.
final class ClientResolutionTests: XCTestCase {
    override func setUp() { ignoreBrokenPipeSignal() }

    func testANameIsResolvedOnAnotherThreadWhileTheLoopGoesOn() throws {
        let client = try LoopThread()
        defer { client.shutdown() }
        let expected = try SocketAddress.resolve(host: "127.0.0.1", port: 9)
        let slowResolver: ConnectAttempts.Resolver = { _, _ in
            usleep(800_000)
            return expected
        }
        let lock = NSLock()
        var ticks = 0
        var completedOnLoopThread = false
        var resolved: [SocketAddress] = []
        let done = DispatchSemaphore(value: 0)
        let returnedAfter = try client.sync { () -> Double in
            let loopThread = pthread_self()
            _ = client.loop.schedule(after: 0.02, repeating: true) {
                lock.lock(); ticks += 1; lock.unlock()
            }
            let started = MonotonicClock.now()
            ConnectAttempts.resolve(Endpoint(host: "slow.example", port: 9), on: client.loop, resolver: slowResolver) { result in
                lock.lock()
                completedOnLoopThread = pthread_equal(pthread_self(), loopThread) != 0
                if case let .success(attempts) = result { resolved = attempts.addresses }
                lock.unlock()
                done.signal()
            }
            return MonotonicClock.now() - started
        }
        XCTAssertLessThan(returnedAfter, 0.1, "resolve() must not wait for the resolver")
        XCTAssertEqual(done.wait(timeout: .now() + 5), .success)
        lock.lock()
        defer { lock.unlock() }
        XCTAssertTrue(completedOnLoopThread, "the result is handed over on the loop's thread")
        XCTAssertEqual(resolved, expected)
        XCTAssertGreaterThanOrEqual(ticks, 15, "the loop ran its timers while the name was being resolved")
    }

    func testNumericAddressesAreResolvedAtOnceWithoutAThread() throws {
        let client = try LoopThread()
        defer { client.shutdown() }
        let calledInline = try client.sync { () -> Bool in
            var called = false
            ConnectAttempts.resolve(Endpoint(host: "::1", port: 9), on: client.loop) { result in
                called = (try? result.get()) != nil
            }
            return called
        }
        XCTAssertTrue(calledInline)
    }

    func testAClientReachesAServerByNameAndReportsAnUnknownName() throws {
        let server = try ServerFixture()
        defer { server.shutdown() }
        // "localhost" may resolve to ::1 first, where nothing listens: the client goes on to 127.0.0.1.
        let reply = try runSession(host: "localhost", port: server.port, message: Array("über TCP\n".utf8))
        XCTAssertEqual(reply.bytes, Array("über TCP\n".utf8), "\(reply)")

        let unknown = try runSession(host: "no-such-host.invalid", port: server.port, message: [1])
        XCTAssertNil(unknown.bytes)
        XCTAssertTrue(unknown.failure?.contains("no-such-host.invalid") == true, unknown.failure ?? "")
    }

    /// Connects with `TCPClient`, sends `message` in a `SessionHandler` and waits for as many bytes back.
    private func runSession(host: String, port: UInt16, message: [UInt8]) throws -> (bytes: [UInt8]?, failure: String?) {
        let client = try LoopThread()
        defer { client.shutdown() }
        let done = DispatchSemaphore(value: 0)
        var received: [UInt8] = []
        var failure: String?
        let tcp = try client.sync {
            let handler = SessionHandler { event in
                switch event {
                case let .opened(connection):
                    connection.write(message)
                case let .received(bytes):
                    received += bytes
                    if received.count >= message.count { done.signal() }
                case .peerFinished, .closed:
                    done.signal()
                }
            }
            let tcp = TCPClient(loop: client.loop, endpoint: Endpoint(host: host, port: port), handler: handler) { reason in
                failure = reason
                done.signal()
            }
            tcp.start()
            return tcp
        }
        XCTAssertEqual(done.wait(timeout: .now() + 15), .success)
        try client.sync { tcp.cancel() }
        return try client.sync { failure == nil ? (received, nil) : (nil, failure) }
    }
}
