#if canImport(Glibc)
import Glibc
#endif

/// Runs `body` on a new POSIX thread and returns it (join it, or `pthread_detach` it). The engine has no
/// Foundation, so no `Thread`.
package func startThread(_ body: @escaping () -> Void) -> pthread_t {
    final class Box { let body: () -> Void; init(_ body: @escaping () -> Void) { self.body = body } }
    let box = Unmanaged.passRetained(Box(body)).toOpaque()
    var thread = pthread_t()
    pthread_create(&thread, nil, { raw in
        let box = Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue()
        box.body()
        return nil
    }, box)
    return thread
}
