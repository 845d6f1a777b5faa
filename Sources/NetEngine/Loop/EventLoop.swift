#if canImport(Glibc)
import Glibc
#endif
import CLinux

/// A single-threaded readiness loop on epoll (level-triggered), with timers and a thread-safe task queue.
/// Everything registered with a loop is used from the loop's thread only.
/// `@unchecked Sendable`: `execute(_:)` and `stop()` are safe from any thread (they take a lock and wake the loop);
/// everything else belongs to the thread that runs the loop.
public final class EventLoop: @unchecked Sendable {
    private let epollDescriptor: Int32
    private let wakeDescriptor: Int32
    private var handlers: [EventHandler?] = []
    // Timers and the turn's cancellations: unchecked for exclusivity, touched on every turn by the loop's thread only.
    @exclusivity(unchecked) private var timers = TimerHeap()
    /// The time of the loop's current turn, read once after each wait: what connections stamp their activity with,
    /// instead of reading the clock on every read and write. Unchecked for exclusivity: read on the hot path.
    @exclusivity(unchecked) public private(set) var turnTime = MonotonicClock.now()
    @exclusivity(unchecked) private var cancelledThisTurn: Set<Int> = []
    /// The thread running `run()`, for the debug check that loop-owned objects are used on it.
    private var owner: pthread_t?
    private var nextTimerID = 1
    private var stopRequested = false
    private let taskLock = Lock()
    private var tasks: [() -> Void] = []
    private var events: UnsafeMutableBufferPointer<epoll_event>

    public init(maxEventsPerWait: Int = 256) throws {
        epollDescriptor = try retryingEINTR("epoll_create1") { epoll_create1(Int32(EPOLL_CLOEXEC)) }
        wakeDescriptor = try retryingEINTR("eventfd") { eventfd(0, Int32(EFD_NONBLOCK) | Int32(EFD_CLOEXEC)) }
        events = .allocate(capacity: maxEventsPerWait)
        var event = epoll_event()
        event.events = EPOLLIN.rawValue
        event.data.fd = wakeDescriptor
        _ = try retryingEINTR("epoll_ctl") { epoll_ctl(epollDescriptor, EPOLL_CTL_ADD, wakeDescriptor, &event) }
    }

    deinit {
        Glibc.close(epollDescriptor)
        Glibc.close(wakeDescriptor)
        events.deallocate()
    }

    // MARK: Descriptors

    public func register(_ descriptor: Int32, handler: EventHandler, read: Bool = true, write: Bool = false) throws {
        assertOnLoopThread()
        if Int(descriptor) >= handlers.count {
            handlers.append(contentsOf: repeatElement(nil, count: Int(descriptor) + 1 - handlers.count + 64))
        }
        var event = epoll_event()
        event.events = Self.mask(read: read, write: write)
        event.data.fd = descriptor
        _ = try retryingEINTR("epoll_ctl") { epoll_ctl(epollDescriptor, EPOLL_CTL_ADD, descriptor, &event) }
        handlers[Int(descriptor)] = handler
    }

    public func setInterest(_ descriptor: Int32, read: Bool, write: Bool) {
        assertOnLoopThread()
        var event = epoll_event()
        event.events = Self.mask(read: read, write: write)
        event.data.fd = descriptor
        _ = epoll_ctl(epollDescriptor, EPOLL_CTL_MOD, descriptor, &event)
    }

    /// Hands the events of the registered `descriptor` to `handler` from now on; its interest stays as it was.
    public func setHandler(_ handler: EventHandler, for descriptor: Int32) {
        assertOnLoopThread()
        guard descriptor >= 0, Int(descriptor) < handlers.count, handlers[Int(descriptor)] != nil else { return }
        handlers[Int(descriptor)] = handler
    }

    /// Forgets `descriptor`; call before closing it.
    public func unregister(_ descriptor: Int32) {
        assertOnLoopThread()
        guard descriptor >= 0, Int(descriptor) < handlers.count else { return }
        handlers[Int(descriptor)] = nil
        _ = epoll_ctl(epollDescriptor, EPOLL_CTL_DEL, descriptor, nil)
    }

    private static func mask(read: Bool, write: Bool) -> UInt32 {
        var mask: UInt32 = 0
        if read { mask |= EPOLLIN.rawValue | EPOLLRDHUP.rawValue }
        if write { mask |= EPOLLOUT.rawValue }
        return mask
    }

    // MARK: Timers

    public struct TimerToken: Hashable, Sendable { let id: Int }

    /// Runs `action` on the loop after `seconds`, and again every `seconds` when `repeating`.
    @discardableResult
    public func schedule(after seconds: Double, repeating: Bool = false, _ action: @escaping () -> Void) -> TimerToken {
        assertOnLoopThread()
        let id = nextTimerID
        nextTimerID += 1
        timers.insert(.init(id: id, deadline: MonotonicClock.now() + seconds, interval: repeating ? seconds : nil, action: action))
        return TimerToken(id: id)
    }

    public func cancel(_ token: TimerToken) {
        assertOnLoopThread()
        cancelledThisTurn.insert(token.id)
        timers.cancel(id: token.id)
    }

    private func runDueTimers() {
        guard !timers.isEmpty else { return }
        let due = timers.takeDue(at: turnTime)
        guard !due.isEmpty else { return }
        if !cancelledThisTurn.isEmpty { cancelledThisTurn.removeAll(keepingCapacity: true) }
        // A timer that an earlier action of this turn cancelled does not run.
        for timer in due where cancelledThisTurn.isEmpty || !cancelledThisTurn.contains(timer.id) { timer.action() }
        if !cancelledThisTurn.isEmpty { cancelledThisTurn.removeAll(keepingCapacity: true) }
    }

    private func waitTimeoutMilliseconds() -> Int32 {
        guard let earliest = timers.nextDeadline() else { return -1 }
        let delta = (earliest - MonotonicClock.now()) * 1000
        return delta <= 0 ? 0 : Int32(min(delta.rounded(.up), 60_000))
    }

    /// In debug builds, stops at once when a loop-owned object is used from another thread while the loop runs.
    @inline(__always)
    func assertOnLoopThread(_ file: StaticString = #fileID, line: UInt = #line) {
        #if DEBUG
        if let owner { assert(pthread_equal(owner, pthread_self()) != 0, "used off its event loop's thread", file: file, line: line) }
        #endif
    }

    // MARK: Cross-thread tasks

    /// Queues `task` to run on the loop's thread; safe to call from any thread.
    public func execute(_ task: @escaping () -> Void) {
        taskLock.withLock { tasks.append(task) }
        wake()
    }

    /// Ends `run()` after the current iteration; safe to call from any thread.
    public func stop() {
        execute { [unowned self] in self.stopRequested = true }
    }

    private func wake() {
        var one: UInt64 = 1
        _ = Glibc.write(wakeDescriptor, &one, 8)
    }

    private func runTasks() {
        var drained: UInt64 = 0
        _ = Glibc.read(wakeDescriptor, &drained, 8)
        let pending = taskLock.withLock { () -> [() -> Void] in
            let current = tasks
            tasks.removeAll()
            return current
        }
        for task in pending { task() }
    }

    // MARK: Running

    /// Waits for readiness and dispatches it until `stop()` is called.
    public func run() {
        stopRequested = false
        owner = pthread_self()
        defer { owner = nil }
        while !stopRequested {
            runOnce(timeoutMilliseconds: waitTimeoutMilliseconds())
        }
    }

    /// One wait and dispatch; `timeoutMilliseconds` -1 waits forever.
    public func runOnce(timeoutMilliseconds: Int32) {
        let count = epoll_wait(epollDescriptor, events.baseAddress, Int32(events.count), timeoutMilliseconds)
        turnTime = MonotonicClock.now()
        if count > 0 {
            for index in 0..<Int(count) {
                let event = events[index]
                let descriptor = event.data.fd
                if descriptor == wakeDescriptor {
                    runTasks()
                    continue
                }
                guard Int(descriptor) < handlers.count, let handler = handlers[Int(descriptor)] else { continue }
                let flags = event.events
                handler.handleEvent(
                    readable: flags & (EPOLLIN.rawValue | EPOLLRDHUP.rawValue | EPOLLHUP.rawValue | EPOLLERR.rawValue) != 0,
                    writable: flags & EPOLLOUT.rawValue != 0,
                    hangup: flags & (EPOLLHUP.rawValue | EPOLLERR.rawValue) != 0)
            }
        }
        runDueTimers()
    }
}
