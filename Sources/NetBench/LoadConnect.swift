#if canImport(Glibc)
import Glibc
#endif
import NetEngine

/// One of the generator's non-blocking connects, until the socket is connected (or fails): then the socket goes on
/// as a `Connection` with a `LoadHandler`.
final class LoadConnect: EventHandler {
    let index: Int
    let socket: Socket
    let address: SocketAddress
    private let loop: EventLoop
    private let onSettled: (LoadConnect, Result<Void, SocketError>) -> Void
    private(set) var isSettled = false

    init(index: Int, address: SocketAddress, loop: EventLoop,
         onSettled: @escaping (LoadConnect, Result<Void, SocketError>) -> Void) throws {
        self.index = index
        self.address = address
        self.loop = loop
        self.onSettled = onSettled
        socket = try Socket.startConnect(to: address)
        try loop.register(socket.descriptor, handler: self, read: false, write: true)
    }

    func handleEvent(readable: Bool, writable: Bool, hangup: Bool) {
        do {
            try socket.finishConnect(to: address)
            settle(.success(()))
        } catch let error as SocketError {
            settle(.failure(error))
        } catch {
            settle(.failure(SocketError(code: ECONNREFUSED, message: "\(error)")))
        }
    }

    /// Gives up on a connect that has not finished.
    func timeOut(after seconds: Double) {
        settle(.failure(SocketError(code: ETIMEDOUT, message: "could not connect within \(formatSeconds(seconds))")))
    }

    private func settle(_ result: Result<Void, SocketError>) {
        guard !isSettled else { return }
        isSettled = true
        loop.unregister(socket.descriptor)
        if case .failure = result { socket.close() }
        onSettled(self, result)
    }
}
