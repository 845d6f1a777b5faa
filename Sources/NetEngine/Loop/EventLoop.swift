#if canImport(Glibc)
import Glibc
#endif
import CLinux

/// A single-threaded readiness loop on epoll (level-triggered), with timers and a thread-safe task queue.
/// Everything registered with a loop is used from the loop's thread only.
public final class EventLoop {
    private let epollDescriptor: Int32
    private let wakeDescriptor: Int32
    private var handlers: [EventHandler?] = []
    private var timers: [ScheduledTimer] = []
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
        var event = epoll_event()
        event.events = Self.mask(read: read, write: write)
        event.data.fd = descriptor
        _ = epoll_ctl(epollDescriptor, EPOLL_CTL_MOD, descriptor, &event)
    }

    /// Forgets `descriptor`; call before closing it.
    public func unregister(_ descriptor: Int32) {
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

    public struct TimerToken: Hashable { let id: Int }

    private struct ScheduledTimer {
        let id: Int
        var deadline: Double
        let interval: Double?
        let action: () -> Void
    }

    /// Runs `action` on the loop after `seconds`, and again every `seconds` when `repeating`.
    @discardableResult
    public func schedule(after seconds: Double, repeating: Bool = false, _ action: @escaping () -> Void) -> TimerToken {
        let id = nextTimerID
        nextTimerID += 1
        timers.append(ScheduledTimer(id: id, deadline: MonotonicClock.now() + seconds, interval: repeating ? seconds : nil, action: action))
        return TimerToken(id: id)
    }

    public func cancel(_ token: TimerToken) {
        timers.removeAll { $0.id == token.id }
    }

    private func runDueTimers() {
        guard !timers.isEmpty else { return }
        let now = MonotonicClock.now()
        let due = timers.filter { $0.deadline <= now }
        guard !due.isEmpty else { return }
        timers = timers.compactMap { timer in
            guard timer.deadline <= now else { return timer }
            guard let interval = timer.interval else { return nil }
            var next = timer
            next.deadline = max(now, timer.deadline + interval)
            return next
        }
        for timer in due { timer.action() }
    }

    private func waitTimeoutMilliseconds() -> Int32 {
        guard let earliest = timers.map(\.deadline).min() else { return -1 }
        let delta = (earliest - MonotonicClock.now()) * 1000
        return delta <= 0 ? 0 : Int32(min(delta.rounded(.up), 60_000))
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
        while !stopRequested {
            runOnce(timeoutMilliseconds: waitTimeoutMilliseconds())
        }
    }

    /// One wait and dispatch; `timeoutMilliseconds` -1 waits forever.
    public func runOnce(timeoutMilliseconds: Int32) {
        let count = epoll_wait(epollDescriptor, events.baseAddress, Int32(events.count), timeoutMilliseconds)
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
