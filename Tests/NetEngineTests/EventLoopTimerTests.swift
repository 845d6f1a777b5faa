import Foundation
@testable import NetEngine
import XCTest

/// The loop's timers: earliest first whatever the order they were scheduled in, cancelled ones never run (also when
/// an earlier timer of the same turn cancels them), repeating ones come back.
final class EventLoopTimerTests: XCTestCase {
    func testTimersFireInDeadlineOrderAndCancelledOnesNever() throws {
        let loopThread = try LoopThread()
        defer { loopThread.shutdown() }
        let lock = NSLock()
        var fired: [Int] = []
        let done = DispatchSemaphore(value: 0)
        try loopThread.sync {
            let loop = loopThread.loop
            var tokens: [Int: EventLoop.TimerToken] = [:]
            // 200 timers at shuffled delays 10...209 ms; every third is cancelled before it is due.
            for index in (0..<200).shuffled() {
                tokens[index] = loop.schedule(after: 0.010 + Double(index) / 1000) {
                    lock.lock(); fired.append(index); lock.unlock()
                    if index == 199 { done.signal() }
                }
            }
            for index in stride(from: 0, to: 200, by: 3) { loop.cancel(tokens[index]!) }
        }
        XCTAssertEqual(done.wait(timeout: .now() + 10), .success)
        lock.lock(); defer { lock.unlock() }
        XCTAssertEqual(fired, (0..<200).filter { $0 % 3 != 0 })
    }

    func testATimerCancelledByAnEarlierTimerOfTheSameTurnDoesNotRun() throws {
        let loopThread = try LoopThread()
        defer { loopThread.shutdown() }
        let lock = NSLock()
        var fired: [String] = []
        try loopThread.sync {
            let loop = loopThread.loop
            var victim: EventLoop.TimerToken?
            // Both are due by the time the loop wakes; the first cancels the second.
            loop.schedule(after: 0.020) { lock.lock(); fired.append("first"); lock.unlock(); loop.cancel(victim!) }
            victim = loop.schedule(after: 0.021) { lock.lock(); fired.append("victim"); lock.unlock() }
            loop.schedule(after: 0.100) { lock.lock(); fired.append("last"); lock.unlock() }
            usleep(40_000)  // keep the loop busy until both are due
        }
        usleep(300_000)
        lock.lock(); defer { lock.unlock() }
        XCTAssertEqual(fired, ["first", "last"])
    }

    func testRepeatingTimersComeBackUntilCancelled() throws {
        let loopThread = try LoopThread()
        defer { loopThread.shutdown() }
        let lock = NSLock()
        var count = 0
        let token = try loopThread.sync {
            loopThread.loop.schedule(after: 0.01, repeating: true) { lock.lock(); count += 1; lock.unlock() }
        }
        usleep(200_000)
        try loopThread.sync { loopThread.loop.cancel(token) }
        lock.lock(); let seen = count; lock.unlock()
        XCTAssertGreaterThanOrEqual(seen, 5)
        usleep(100_000)
        lock.lock(); defer { lock.unlock() }
        XCTAssertEqual(count, seen, "nothing after the cancel")
    }

    func testTheHeapOrdersAnyDeadlinesAndDropsCancelledOnes() {
        var heap = TimerHeap()
        var generator = SystemRandomNumberGenerator()
        var expected: [(Double, Int)] = []
        for id in 0..<1000 {
            let deadline = Double(generator.next() % 10_000) / 100
            heap.insert(.init(id: id, deadline: deadline, interval: nil, action: {}))
            if id % 7 == 0 { heap.cancel(id: id) } else { expected.append((deadline, id)) }
        }
        let due = heap.takeDue(at: 1_000)
        XCTAssertEqual(due.map(\.deadline), expected.map(\.0).sorted())
        XCTAssertEqual(Set(due.map(\.id)), Set(expected.map(\.1)))
        XCTAssertTrue(heap.isEmpty)
        XCTAssertNil(heap.nextDeadline())
    }
}
