import Foundation
import NetEngine
import XCTest

/// An event loop running on its own thread, for tests that drive it with blocking clients from the test thread.
final class LoopThread {
    let loop: EventLoop
    private let finished = DispatchSemaphore(value: 0)

    init() throws {
        loop = try EventLoop()
        let loop = self.loop
        let finished = self.finished
        let thread = Thread {
            loop.run()
            finished.signal()
        }
        thread.start()
    }

    /// Runs `body` on the loop's thread and returns its result.
    func sync<T>(_ body: @escaping () throws -> T) throws -> T {
        let done = DispatchSemaphore(value: 0)
        var result: Result<T, Error>!
        loop.execute {
            result = Result { try body() }
            done.signal()
        }
        done.wait()
        return try result.get()
    }

    func shutdown() {
        loop.stop()
        finished.wait()
    }
}

/// Collects events from a loop thread for the test thread to read.
final class EventRecorder {
    private let lock = NSLock()
    private var recorded: [NetEvent] = []

    var sink: EventSink { { [self] event in lock.lock(); recorded.append(event); lock.unlock() } }

    var events: [NetEvent] { lock.lock(); defer { lock.unlock() }; return recorded }

    var openedCount: Int { events.filter { if case .connectionOpened = $0 { return true } else { return false } }.count }
    var closedCount: Int { events.filter { if case .connectionClosed = $0 { return true } else { return false } }.count }

    /// Waits until `predicate` holds for the recorded events.
    func wait(timeout: Double = 10, _ predicate: ([NetEvent]) -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if predicate(events) { return true }
            usleep(5_000)
        }
        return predicate(events)
    }
}

/// An echo (or other) server on 127.0.0.1 with an ephemeral port, on its own loop thread.
final class ServerFixture {
    let loopThread: LoopThread
    let server: TCPServer
    let recorder = EventRecorder()
    let port: UInt16

    init(mode: ServeMode = .concurrent, limits: ServerLimits = ServerLimits(), service: String = "echo",
         makeHandler: @escaping () -> ConnectionHandler = { EchoHandler() }) throws {
        loopThread = try LoopThread()
        let recorder = self.recorder
        let loop = loopThread.loop
        server = try loopThread.sync {
            let server = TCPServer(service: service, loop: loop, mode: mode, limits: limits, sink: recorder.sink, makeHandler: makeHandler)
            try server.start(at: SocketAddress.resolve(host: "127.0.0.1", port: 0)[0])
            return server
        }
        port = server.localAddress!.port
    }

    var endpoint: Endpoint { Endpoint(host: "127.0.0.1", port: port) }

    func connect() throws -> Socket { try Socket.connect(host: "127.0.0.1", port: port) }

    func shutdown() {
        let server = self.server
        _ = try? loopThread.sync { server.stop() }
        loopThread.shutdown()
    }
}

/// Deterministic pseudo-random bytes (xorshift), so a failure can be reproduced.
func randomBytes(count: Int, seed: UInt64) -> [UInt8] {
    var state = seed | 1
    var bytes = [UInt8](repeating: 0, count: count)
    for index in 0..<count {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        bytes[index] = UInt8(truncatingIfNeeded: state)
    }
    return bytes
}

/// Reads exactly `count` bytes (blocking), failing the test on early EOF.
func receiveExactly(_ socket: Socket, count: Int, timeout: Double = 10) throws -> [UInt8] {
    var result = [UInt8](repeating: 0, count: count)
    var received = 0
    while received < count {
        try socket.waitFor(events: Int16(POLLIN), timeoutMilliseconds: Int32(timeout * 1000))
        let n = try result.withUnsafeMutableBytes { try socket.receive(into: UnsafeMutableRawBufferPointer(rebasing: $0[received...])) }
        guard let n else { continue }
        if n == 0 { throw SocketError(code: EPIPE, message: "EOF after \(received) of \(count) bytes") }
        received += n
    }
    return result
}

/// Reads until EOF (blocking).
func receiveUntilEnd(_ socket: Socket, timeout: Double = 10) throws -> [UInt8] {
    var result: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        try socket.waitFor(events: Int16(POLLIN), timeoutMilliseconds: Int32(timeout * 1000))
        let n = try chunk.withUnsafeMutableBytes { try socket.receive(into: $0) }
        guard let n else { continue }
        if n == 0 { return result }
        result.append(contentsOf: chunk[0..<n])
    }
}

/// Reads one "\n"-terminated line (without the "\n"), byte by byte so nothing after it is consumed; at EOF returns
/// what came.
func receiveLine(_ socket: Socket, timeout: Double = 5) throws -> String {
    var line: [UInt8] = []
    var byte: [UInt8] = [0]
    while true {
        try socket.waitFor(events: Int16(POLLIN), timeoutMilliseconds: Int32(timeout * 1000))
        guard let n = try byte.withUnsafeMutableBytes({ try socket.receive(into: $0) }) else { continue }
        if n == 0 || byte[0] == 0x0A { return String(decoding: line, as: UTF8.self) }
        line.append(byte[0])
    }
}
