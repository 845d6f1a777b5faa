#if canImport(Glibc)
import Glibc
#endif
import CLinux

/// One non-blocking connection on an event loop, over a `Transport` (a TCP socket, or an in-memory pipe in tests).
/// It reads into its owner's shared buffer, hands the bytes to its handler, and writes what the handler asks for;
/// while output is pending it stops reading, so a peer that does not read cannot make it buffer without bound.
public final class Connection: EventHandler {
    // The state touched on every read and write is `@exclusivity(unchecked)`: a class's stored `var` otherwise
    // costs a dynamic exclusivity check (a runtime call) per access, a third of the echo path's instructions.
    // Everything here is used from the loop's thread only.
    public let id: Int
    public let peer: SocketAddress
    /// This end's address (nil when the transport is not a socket).
    public var localAddress: SocketAddress? { (transport as? Socket)?.localAddress }
    public let service: String
    @exclusivity(unchecked) public private(set) var bytesIn = 0
    @exclusivity(unchecked) public private(set) var bytesOut = 0
    public let openedAt: Double
    @exclusivity(unchecked) public private(set) var lastActivity: Double
    @exclusivity(unchecked) public private(set) var isClosed = false
    /// When set, the connection is dropped with `reason` if still open at this monotonic time.
    private(set) var deadline: (at: Double, reason: String)?

    let transport: Transport
    /// The transport when it is a plain socket, called directly rather than through the protocol so that its send
    /// and receive inline into the hot path (a protocol call cost a third more instructions per echoed request).
    /// A plain strong reference, not an optional: calls on it then need no reference counting on the hot path.
    /// For another transport it is `Socket.placeholder`, never used (`isSocket` is false).
    private let socket: Socket
    private let isSocket: Bool
    private unowned let owner: ConnectionOwner
    /// The owner's loop, held so the hot path need not reach through `owner` (the loop outlives its connections).
    private unowned(unsafe) let ownLoop: EventLoop
    private let handler: ConnectionHandler
    /// The owner's read buffer, held here so the hot path need not reach through `owner`.
    private let readBuffer: ReadBuffer
    private let reportsBytes: Bool
    /// The owner's event sink, held here so events of work that finishes after the server stopped still arrive.
    private let sink: EventSink?
    @exclusivity(unchecked) private var pending = OutputBuffer()
    @exclusivity(unchecked) private var closeAfterFlush = false
    @exclusivity(unchecked) private var readingPaused = false
    /// Half-close asked for: the FIN goes out once pending output is sent.
    @exclusivity(unchecked) private var shutdownWriteAfterFlush = false
    /// `serve --dump`: payload bytes still to report each way, and those past the limit (0 limit: no dump at all).
    private let dumpLimit: Int
    @exclusivity(unchecked) private var dumpLeft: (received: Int, sent: Int) = (0, 0)
    @exclusivity(unchecked) private var dumpHidden: (received: Int, sent: Int) = (0, 0)
    /// The inspector's payload rings, while the connection is watched.
    private var capture: PayloadCapture?
    /// Whether payload goes anywhere (a dump or a capture): the hot path's only test for either.
    @exclusivity(unchecked) private var tapped = false
    @exclusivity(unchecked) public private(set) var isWriteShutDown = false
    /// Reading goes on while output waits. Off for servers (a peer that does not read must not make them buffer);
    /// on for a client that drives both directions, like the load generator: with requests in flight both ways, a
    /// client that stopped reading until its own output drained would deadlock against a server doing the same.
    @exclusivity(unchecked) public var readsWhileWriting = false
    /// The transport's opening exchange while it runs: it gets the loop's events until then, so that the
    /// connection's own event path has no check for it.
    private var handshake: TransportHandshake?
    /// A `sendFile` found the socket full: the handler hears `connectionDrained` when it is writable again.
    @exclusivity(unchecked) private var awaitingRoom = false
    /// A read is scheduled for bytes a transport holds decrypted, which no readiness event will announce.
    private var bufferedReadScheduled = false

    package init(id: Int, transport: Transport, peer: SocketAddress, owner: ConnectionOwner, handler: ConnectionHandler) {
        self.id = id
        self.transport = transport
        let plain = transport as? Socket
        socket = plain ?? Socket.placeholder
        isSocket = plain != nil
        self.peer = peer
        self.owner = owner
        ownLoop = owner.loop
        self.service = owner.service
        self.handler = handler
        readBuffer = owner.sharedReadBuffer
        reportsBytes = owner.reportsBytes
        sink = owner.sink
        dumpLimit = owner.payloadDumpLimit
        dumpLeft = (dumpLimit, dumpLimit)
        tapped = dumpLimit > 0
        openedAt = MonotonicClock.now()
        lastActivity = openedAt
    }

    var loop: EventLoop { ownLoop }

    package func start() {
        if !isSocket && transport.needsHandshake { return startHandshake() }
        handler.connectionStarted(self)
    }

    /// The TLS transport under this connection, if it has one.
    public var tls: TLSTransport? { isSocket ? nil : transport as? TLSTransport }

    // MARK: Handshake

    private func startHandshake() {
        let handshake = TransportHandshake(connection: self, transport: transport)
        self.handshake = handshake
        loop.setHandler(handshake, for: transport.descriptor)
        setDeadline(after: owner.limits.headerTimeout, reason: "no TLS handshake within \(formatSeconds(owner.limits.headerTimeout))")
        handshake.advance()
    }

    /// The opening exchange is done: the handler starts, and the loop's events come here again.
    func handshakeFinished() {
        guard !isClosed else { return }
        handshake = nil
        clearDeadline()
        loop.setHandler(self, for: transport.descriptor)
        updateInterest()
        handler.connectionStarted(self)
    }

    /// The opening exchange failed: said as an event, and the connection is closed with the reason.
    func handshakeFailed(_ reason: String) {
        guard !isClosed else { return }
        handshake = nil
        sink?(.tlsHandshakeFailed(id: id, peer: peer, reason: reason))
        fail(SocketError(code: EPROTO, message: reason))
    }

    func setHandshakeInterest(read: Bool, write: Bool) {
        guard !isClosed, transport.descriptor >= 0 else { return }
        loop.setInterest(transport.descriptor, read: read, write: write)
    }

    // MARK: Writing

    /// Sends `bytes` now as far as the kernel takes them and keeps the rest for when the socket is writable.
    public func write(_ bytes: UnsafeRawBufferPointer) {
        guard !isClosed, bytes.count > 0 else { return }
        if pending.isEmpty {
            do {
                let sent = try send(bytes)
                if tapped { tap(UnsafeRawBufferPointer(rebasing: bytes.prefix(sent)), received: false) }
                countSent(sent)
                if sent == bytes.count { return }
                pending.append(UnsafeRawBufferPointer(rebasing: bytes[sent...]))
            } catch let error as SocketError {
                fail(error)
                return
            } catch { return }
        } else {
            pending.append(bytes)
        }
        updateInterest()
    }

    public func write(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { write($0) }
    }

    public func write(_ text: String) {
        write(Array(text.utf8))
    }

    /// Stops taking input (the handler has said its last word) and closes once pending output is sent.
    public func closeWhenFlushed() {
        guard !isClosed else { return }
        closeAfterFlush = true
        if pending.isEmpty { close() } else { updateInterest() }
    }

    /// Sends a FIN once pending output is out, and keeps reading (how netcat ends a request): the peer sees the end
    /// of our stream and may still answer.
    public func shutdownWrite() {
        guard !isClosed, !isWriteShutDown else { return }
        if pending.isEmpty {
            isWriteShutDown = true
            transport.shutdownWrite()
        } else {
            shutdownWriteAfterFlush = true
        }
    }

    /// Pauses or resumes reading from the peer (for handlers with their own backpressure).
    public func setReadingPaused(_ paused: Bool) {
        readingPaused = paused
        updateInterest()
    }

    public var pendingOutputCount: Int { pending.count }

    /// Sends up to `count` bytes of the open file `file` from `offset` (advanced by what went) straight from the page
    /// cache (`sendfile`), when the transport is a plain socket, nothing waits in the output and nobody watches the
    /// payload; otherwise `.unsupported`, and the caller writes the bytes.
    public func sendFile(_ file: Int32, offset: inout Int64, count: Int) -> FileRegionSend {
        guard !isClosed else { return .full }
        guard isSocket, pending.isEmpty, !tapped else { return .unsupported }
        do {
            let result = try socket.sendFile(file, offset: &offset, count: count)
            switch result {
            case let .sent(n): countSent(n)
            case .full:
                awaitingRoom = true
                updateInterest()
            case .endOfFile, .unsupported: break
            }
            return result
        } catch let error as SocketError {
            fail(error)
            return .full
        } catch { return .full }
    }

    /// The limits of the server this connection belongs to (handlers read their timeouts here).
    public var limits: ServerLimits { owner.limits }

    /// Drops the connection with `reason` unless `clearDeadline()` comes first, e.g. a header that must arrive in
    /// time however slowly its bytes trickle in (idle timeouts cannot catch that).
    public func setDeadline(after seconds: Double, reason: String) {
        deadline = (MonotonicClock.now() + seconds, reason)
        owner.watchDeadlines()
    }

    public func clearDeadline() {
        deadline = nil
    }

    /// Reports `event` on the server's event stream.
    public func emit(_ event: NetEvent) {
        sink?(event)
    }

    // MARK: Closing

    public func close() {
        finish(error: nil)
    }

    /// Closes with an RST (SO_LINGER 0), for peers that must not get an orderly end.
    public func reset() {
        try? transport.setResetOnClose()
        finish(error: nil)
    }

    public func fail(_ error: SocketError) {
        finish(error: error)
    }

    /// The owner's periodic check: a deadline that has passed goes to the handler; a connection idle for longer than
    /// `idleTimeout` is dropped.
    func checkTimeouts(now: Double, idleTimeout: Double?) {
        guard !isClosed else { return }
        if let (at, _) = deadline, now >= at {
            deadlinePassed()
        } else if let idleTimeout, now - lastActivity > idleTimeout {
            fail(SocketError(code: ETIMEDOUT, message: "idle for more than \(formatSeconds(idleTimeout)), dropped"))
        }
    }

    /// Called by the server's sweep when the deadline has passed; the handler decides what the peer is told.
    func deadlinePassed() {
        guard let deadline, !isClosed else { return }
        self.deadline = nil
        if handshake != nil { return handshakeFailed(deadline.reason) }
        handler.connectionDeadlinePassed(self, reason: deadline.reason)
    }

    private func finish(error: SocketError?) {
        guard !isClosed else { return }
        isClosed = true
        handshake = nil
        if transport.descriptor >= 0 { loop.unregister(transport.descriptor) }
        transport.close()
        if dumpHidden.received > 0 || dumpHidden.sent > 0 {
            sink?(.payloadNotShown(id: id, received: dumpHidden.received, sent: dumpHidden.sent))
        }
        handler.connectionClosed(self, error: error)
        owner.connectionDidClose(self, error: error)
    }

    // MARK: Readiness

    private var wantsRead: Bool { !readingPaused && !closeAfterFlush && (pending.isEmpty || readsWhileWriting) }

    private func updateInterest() {
        guard !isClosed, transport.descriptor >= 0, handshake == nil else { return }
        loop.setInterest(transport.descriptor, read: wantsRead, write: !pending.isEmpty || awaitingRoom)
        if !isSocket && wantsRead { readBufferedInputSoon() }
    }

    /// Reads on the loop's next turn when the transport holds received bytes: resuming reading, or stopping after a
    /// few full reads, would otherwise wait for the socket, which may have nothing more to say.
    private func readBufferedInputSoon() {
        guard !bufferedReadScheduled, transport.hasBufferedInput else { return }
        bufferedReadScheduled = true
        ownLoop.schedule(after: 0) { [weak self] in
            guard let self else { return }
            self.bufferedReadScheduled = false
            if !self.isClosed && self.wantsRead && self.transport.hasBufferedInput { self.readAvailable() }
        }
    }

    public func handleEvent(readable: Bool, writable: Bool, hangup: Bool) {
        if writable && !pending.isEmpty { flush() } else if writable && awaitingRoom { roomAgain() }
        if isClosed { return }
        if readable && wantsRead { readAvailable() }
        else if hangup && !wantsRead && pending.isEmpty && !closeAfterFlush {
            // Paused by the handler, but the peer is gone: nothing more will ever be read or written.
            finish(error: nil)
        }
    }

    private func flush() {
        do {
            let sent = try pending.withReadableBytes { readable in
                let sent = try send(readable)
                if tapped { tap(UnsafeRawBufferPointer(rebasing: readable.prefix(sent)), received: false) }
                return sent
            }
            countSent(sent)
            pending.consume(sent)
        } catch let error as SocketError {
            fail(error)
            return
        } catch { return }
        if pending.isEmpty {
            if closeAfterFlush { close(); return }
            if shutdownWriteAfterFlush {
                shutdownWriteAfterFlush = false
                isWriteShutDown = true
                transport.shutdownWrite()
            }
            updateInterest()
            handler.connectionDrained(self)
        }
    }

    @inline(never)  // kept out of the echo path's code
    private func roomAgain() {
        awaitingRoom = false
        updateInterest()
        handler.connectionDrained(self)
    }

    /// Reads and hands over what has arrived. A read that fills the buffer suggests more is waiting, so it reads
    /// again, a few times at most so that other connections get their turn.
    private func readAvailable() {
        let buffer = readBuffer.bytes
        for _ in 0..<4 {
            let count: Int
            do {
                guard let received = try receive(into: buffer) else { return }
                count = received
            } catch let error as SocketError {
                fail(error)
                return
            } catch { return }
            lastActivity = ownLoop.turnTime
            if count == 0 {
                readingPaused = true
                updateInterest()
                handler.connectionReachedEnd(self)
                return
            }
            bytesIn += count
            if reportsBytes { sink?(.bytesReceived(id: id, count: count)) }
            if tapped { tap(UnsafeRawBufferPointer(rebasing: buffer[0..<count]), received: true) }
            handler.connection(self, received: UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
            guard count == buffer.count, !isClosed, wantsRead else { return }
        }
        if !isSocket { readBufferedInputSoon() }
    }

    // MARK: Inspecting

    /// Keeps the last `capacity` bytes each way from now on (the inspector's rings), until `stopCapture()`.
    public func startCapture(capacity: Int = PayloadRing.defaultCapacity) {
        guard capture == nil else { return }
        capture = PayloadCapture(capacity: capacity, receivedSoFar: bytesIn, sentSoFar: bytesOut)
        tapped = true
    }

    /// Forgets the rings and their memory.
    public func stopCapture() {
        capture = nil
        tapped = dumpLimit > 0
    }

    public var isCapturing: Bool { capture != nil }

    /// Memory the rings hold now (0 when not watched).
    public var captureBytes: Int { capture?.allocatedBytes ?? 0 }

    /// Everything about the connection now, with the payload its rings hold.
    public func snapshot() -> ConnectionSnapshot {
        let now = MonotonicClock.now()
        let wall = ConnectionSnapshot.wallClockOffset()
        func wallClock(_ chunks: [PayloadChunk]) -> [PayloadChunk] {
            chunks.map { var chunk = $0; chunk.time += wall; return chunk }
        }
        // The TCP socket under the transport (a plain socket, or the one TLS runs over); none in memory.
        let tcpSocket = isClosed ? nil : isSocket ? socket : (transport as? TLSTransport)?.socket
        return ConnectionSnapshot(id: id, service: service, peer: peer, local: tcpSocket?.localAddress, age: now - openedAt,
                                  takenAt: now, bytesIn: bytesIn, bytesOut: bytesOut, pendingOutput: pending.count, isClosed: isClosed,
                                  tcp: tcpSocket.flatMap { try? TCPInfo.read(descriptor: $0.descriptor) }, isCapturing: capture != nil,
                                  received: wallClock(capture?.received.chunks() ?? []), sent: wallClock(capture?.sent.chunks() ?? []))
    }

    /// Where payload goes when the connection is tapped: the dump, the rings, or both. Kept out of line so the
    /// untapped hot path stays as small as it was.
    @inline(never)
    private func tap(_ bytes: UnsafeRawBufferPointer, received: Bool) {
        if dumpLimit > 0 { dump(bytes, received: received) }
        capture?.append(bytes, received: received, time: ownLoop.turnTime)
    }

    /// Reports `bytes` as payload while the limit for their direction lasts; counts the rest.
    private func dump(_ bytes: UnsafeRawBufferPointer, received: Bool) {
        guard !bytes.isEmpty else { return }
        let left = received ? dumpLeft.received : dumpLeft.sent
        let shown = min(left, bytes.count)
        if shown > 0 { sink?(.payload(id: id, received: received, bytes: Array(bytes.prefix(shown)))) }
        if received {
            dumpLeft.received -= shown
            dumpHidden.received += bytes.count - shown
        } else {
            dumpLeft.sent -= shown
            dumpHidden.sent += bytes.count - shown
        }
    }

    @inline(__always)
    private func send(_ bytes: UnsafeRawBufferPointer) throws -> Int {
        if isSocket { return try socket.send(bytes) }
        return try transport.send(bytes)
    }

    @inline(__always)
    private func receive(into buffer: UnsafeMutableRawBufferPointer) throws -> Int? {
        if isSocket { return try socket.receive(into: buffer) }
        return try transport.receive(into: buffer)
    }

    private func countSent(_ count: Int) {
        guard count > 0 else { return }
        bytesOut += count
        lastActivity = ownLoop.turnTime
        if reportsBytes { sink?(.bytesSent(id: id, count: count)) }
    }
}
