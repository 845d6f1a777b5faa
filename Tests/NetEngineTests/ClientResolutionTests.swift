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

    func testEchoSessionReachesAServerByNameAndReportsAnUnknownName() throws {
        let server = try ServerFixture()
        defer { server.shutdown() }
        // "localhost" may resolve to ::1 first, where nothing listens: the session goes on to 127.0.0.1.
        let reply = try runSession(host: "localhost", port: server.port, message: Array("über TCP\n".utf8))
        XCTAssertEqual(reply.bytes, Array("über TCP\n".utf8), "\(reply)")

        let unknown = try runSession(host: "no-such-host.invalid", port: server.port, message: [1])
        XCTAssertNil(unknown.bytes)
        XCTAssertTrue(unknown.failure?.contains("no-such-host.invalid") == true, unknown.failure ?? "")
    }

    private func runSession(host: String, port: UInt16, message: [UInt8]) throws -> (bytes: [UInt8]?, failure: String?) {
        let client = try LoopThread()
        defer { client.shutdown() }
        let done = DispatchSemaphore(value: 0)
        var outcome: EchoSession.Outcome?
        let session = try client.sync {
            let session = EchoSession(loop: client.loop, endpoint: Endpoint(host: host, port: port), message: message, timeout: 10) {
                outcome = $0
                done.signal()
            }
            session.start()
            return session
        }
        XCTAssertEqual(done.wait(timeout: .now() + 15), .success)
        _ = session
        switch try client.sync({ outcome }) {
        case let .reply(bytes, _, _)?: return (bytes, nil)
        case let .failed(reason)?: return (nil, reason)
        case nil: return (nil, "no outcome")
        }
    }
}
