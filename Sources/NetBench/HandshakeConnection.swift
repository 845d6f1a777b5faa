#if canImport(Glibc)
import Glibc
#endif
import NetEngine

/// One slot of the handshake generator: connects, completes a TLS handshake, has one byte echoed (so the server
/// has really served the connection), closes, and starts over.
final class HandshakeConnection: EventHandler {
    private unowned let generator: HandshakeLoadGenerator
    private var socket: Socket?
    private var tls: TLSTransport?
    private var startedAt: UInt64 = 0
    private var isClosed = true

    init(generator: HandshakeLoadGenerator) {
        self.generator = generator
    }

    func start() {
        do {
            let socket = try Socket.startConnect(to: generator.address)
            try generator.loop.register(socket.descriptor, handler: self, read: false, write: true)
            self.socket = socket
            isClosed = false
            tls = nil
            startedAt = BenchClock.nanoseconds()
        } catch {
            generator.failed("\(error)", connection: self)
        }
    }

    func close() {
        guard !isClosed, let socket else { return }
        isClosed = true
        generator.loop.unregister(socket.descriptor)
        if let tls { tls.close() } else { socket.close() }
    }

    func handleEvent(readable: Bool, writable: Bool, hangup: Bool) {
        guard !isClosed, let socket else { return }
        do {
            guard let tls else {
                try socket.finishConnect(to: generator.address)
                tls = try generator.tls.transport(over: socket, to: generator.endpoint)
                return try advance()
            }
            if tls.needsHandshake { return try advance() }
            var byte: UInt8 = 0
            guard let count = try withUnsafeMutableBytes(of: &byte, { try tls.receive(into: $0) }) else { return }
            guard count == 1, byte == 0x78 else { throw SocketError(code: EPROTO, message: "the server did not echo the byte") }
            close()
            generator.completed(nanoseconds: BenchClock.nanoseconds() - startedAt, connection: self)
        } catch {
            close()
            generator.failed("\(error)", connection: self)
        }
    }

    private func advance() throws {
        guard let tls, let socket else { return }
        switch try tls.advanceHandshake() {
        case .done:
            let sent = try withUnsafeBytes(of: UInt8(0x78)) { try tls.send($0) }
            guard sent == 1 else { throw SocketError(code: EAGAIN, message: "no room for one byte after the handshake") }
            generator.loop.setInterest(socket.descriptor, read: true, write: false)
        case .wantsRead: generator.loop.setInterest(socket.descriptor, read: true, write: false)
        case .wantsWrite: generator.loop.setInterest(socket.descriptor, read: false, write: true)
        }
    }
}
