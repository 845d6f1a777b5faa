#if canImport(Glibc)
import Glibc
#endif
import CLinux

// Written once before the handlers are installed, read only by the signal handler.
nonisolated(unsafe) private var signalPipeWriteEnd: Int32 = -1

/// Turns SIGINT, SIGTERM, SIGWINCH (and any others asked for) into calls on the event loop, through a self-pipe.
package final class SignalWatcher: EventHandler {
    private let readEnd: Int32
    private let loop: EventLoop
    private let onSignal: (Int32) -> Void

    package init(loop: EventLoop, signals: [Int32] = [SIGINT, SIGTERM], onSignal: @escaping (Int32) -> Void) throws {
        var ends: [Int32] = [0, 0]
        _ = try retryingEINTR("pipe2") { pipe2(&ends, O_NONBLOCK | O_CLOEXEC) }
        readEnd = ends[0]
        signalPipeWriteEnd = ends[1]
        self.loop = loop
        self.onSignal = onSignal
        ignoreBrokenPipeSignal()
        for number in signals {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { signo in
                let saved = errno
                var byte = UInt8(truncatingIfNeeded: signo)
                _ = write(signalPipeWriteEnd, &byte, 1)
                errno = saved
            }
            sigemptyset(&action.sa_mask)
            action.sa_flags = 0
            sigaction(number, &action, nil)
        }
        try loop.register(readEnd, handler: self)
    }

    package func handleEvent(readable: Bool, writable: Bool, hangup: Bool) {
        var buffer = [UInt8](repeating: 0, count: 64)
        let n = read(readEnd, &buffer, buffer.count)
        guard n > 0 else { return }
        for signo in buffer[0..<n] { onSignal(Int32(signo)) }
    }
}
