#if canImport(Glibc)
import Glibc
#endif
import NetEngine

/// Reads standard input on the event loop and hands each chunk on; `onEnd` at its end. A terminal or a pipe is
/// watched by the loop; a regular file (which epoll cannot watch, and which never blocks) is read a chunk per loop
/// turn, so the connection keeps being served meanwhile.
final class StdinPump: EventHandler {
    private let loop: EventLoop
    private let onChunk: ([UInt8]) -> Void
    private let onEnd: () -> Void
    private var watched = false
    private var ended = false

    init(loop: EventLoop, onChunk: @escaping ([UInt8]) -> Void, onEnd: @escaping () -> Void) {
        self.loop = loop
        self.onChunk = onChunk
        self.onEnd = onEnd
    }

    func start() {
        do {
            try loop.register(0, handler: self)
            watched = true
        } catch {
            readNextChunkLater()
        }
    }

    func handleEvent(readable: Bool, writable: Bool, hangup: Bool) {
        readChunk()
    }

    private func readNextChunkLater() {
        loop.execute { [self] in
            readChunk()
            if !ended { readNextChunkLater() }
        }
    }

    private func readChunk() {
        guard !ended else { return }
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        let count = read(0, &buffer, buffer.count)
        if count < 0 && (errno == EINTR || errno == EAGAIN) { return }
        if count <= 0 {
            ended = true
            if watched { loop.unregister(0) }
            onEnd()
            return
        }
        onChunk(Array(buffer[0..<count]))
    }
}
