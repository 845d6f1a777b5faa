#if canImport(Glibc)
import Glibc
#endif

/// A few threads for blocking work the loops must not wait for (fsync and publishing a file; host name lookups):
/// the loops hand the work over and get the result back on their own thread. Threads start when first needed, up
/// to `threadCount`; jobs beyond that wait in order.
final class WorkerPool: @unchecked Sendable {
    /// One thread: uploads are made durable one after another, as the disk would anyway.
    static let disk = WorkerPool(threadCount: 1)
    /// Name lookups: a few at once, so one slow DNS answer does not hold up every other.
    static let resolver = WorkerPool(threadCount: 4)
    /// Listing folders to send: a tree of a million entries takes seconds, which no loop may wait for.
    static let listing = WorkerPool(threadCount: 1)

    private let threadCount: Int
    private var mutex = pthread_mutex_t()
    private var condition = pthread_cond_t()
    private var queue: [() -> Void] = []
    private var started = 0
    private var idle = 0

    init(threadCount: Int) {
        self.threadCount = threadCount
        pthread_mutex_init(&mutex, nil)
        pthread_cond_init(&condition, nil)
    }

    /// Runs `work` on a worker thread, then `completion` with its result on `loop`'s thread.
    func run<T>(_ work: @escaping () -> T, thenOn loop: EventLoop, _ completion: @escaping (T) -> Void) {
        let job = {
            let result = work()
            loop.execute { completion(result) }
        }
        pthread_mutex_lock(&mutex)
        queue.append(job)
        if idle == 0 && started < threadCount {
            started += 1
            pthread_detach(startThread { [self] in serveJobs() })
        } else {
            pthread_cond_signal(&condition)
        }
        pthread_mutex_unlock(&mutex)
    }

    private func serveJobs() {
        while true {
            pthread_mutex_lock(&mutex)
            idle += 1
            while queue.isEmpty { pthread_cond_wait(&condition, &mutex) }
            idle -= 1
            let job = queue.removeFirst()
            pthread_mutex_unlock(&mutex)
            job()
        }
    }
}
