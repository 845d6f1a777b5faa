#if canImport(Glibc)
import Glibc
#endif
import CLinux

/// A pthread mutex; enough for the few cross-thread hand-offs the engine has. (Not named Mutex: that would shadow
/// the standard library's `Synchronization.Mutex`.)
package final class Lock: @unchecked Sendable {
    private var mutex = pthread_mutex_t()
    package init() { pthread_mutex_init(&mutex, nil) }
    deinit { pthread_mutex_destroy(&mutex) }
    @inline(__always)
    package func withLock<T>(_ body: () throws -> T) rethrows -> T {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return try body()
    }
}
