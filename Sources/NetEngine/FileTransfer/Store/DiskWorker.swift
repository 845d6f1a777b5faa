#if canImport(Glibc)
import Glibc
#endif

/// One thread for the file-system calls that can take long (the final fsync of an upload, publishing it): loops hand
/// the work over and get the result back on their own thread, so a slow disk never freezes the servers (and the echo
/// server beside them) while a file is made durable.
final class DiskWorker {
    static let shared = DiskWorker()

    private var mutex = pthread_mutex_t()
    private var condition = pthread_cond_t()
    private var queue: [() -> Void] = []

    private init() {
        pthread_mutex_init(&mutex, nil)
        pthread_cond_init(&condition, nil)
        pthread_detach(startThread { [self] in run() })
    }

    /// Runs `work` on the worker thread, then `completion` with its result on `loop`'s thread.
    func run<T>(_ work: @escaping () -> T, thenOn loop: EventLoop, _ completion: @escaping (T) -> Void) {
        let job = {
            let result = work()
            loop.execute { completion(result) }
        }
        pthread_mutex_lock(&mutex)
        queue.append(job)
        pthread_cond_signal(&condition)
        pthread_mutex_unlock(&mutex)
    }

    private func run() {
        while true {
            pthread_mutex_lock(&mutex)
            while queue.isEmpty { pthread_cond_wait(&condition, &mutex) }
            let job = queue.removeFirst()
            pthread_mutex_unlock(&mutex)
            job()
        }
    }
}
