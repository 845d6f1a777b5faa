#if canImport(Glibc)
import Glibc
#endif
import Crypto

/// Sends files to a file server without ever blocking its event loop: header, wait for `READY`, the bytes in
/// 256 KiB blocks (hashed as they are read, sent as fast as the socket takes them), trailer, wait for `OK`/`ERR`;
/// then the next file on the same connection. Raw mode sends each file's bytes on a connection of its own and
/// closes its write side, like `nc -N`. Create, `start()` and `cancel()` on the loop's thread.
public final class FileSender: EventHandler {
    public let endpoint: Endpoint
    public let files: [String]
    public let raw: Bool
    /// Seconds to wait for a connection to be accepted.
    public var connectTimeout: Double = 10
    /// Seconds without a reply or progress after which the server is considered gone.
    public var replyTimeout: Double = 60
    /// Seconds a framed peer has to answer its first header: a netconsole file server answers at once, so silence
    /// means a raw server (netcat, socat, the lab's), which would otherwise save the header as a file after a minute.
    public var firstAnswerTimeout: Double = 2
    /// The shared secret every framed header carries (a version 2 header), for a server started with `--secret-file`.
    public var secret: SharedSecret?
    /// Names the headers give the files, by index, in place of their paths' last components: for a file opened
    /// through a path that does not carry its name (/proc/self/fd/N for a name that is not UTF-8).
    public var names: [String]?
    /// When set, every connection speaks TLS: nothing is sent before the handshake is done and the server trusted.
    public var tls: TLSClientConfiguration?
    /// The TLS layer of the current connection, if it speaks TLS.
    public var tlsTransport: TLSTransport? { socket as? TLSTransport }

    public static let blockSize = 256 * 1024
    /// Most bytes sent per readiness callback, so a big file leaves the loop time for everything else on it.
    static let bytesPerTurn = 4 * 1024 * 1024

    private enum Phase: Equatable {
        case idle, connecting, awaitingReady, streaming, awaitingResult, awaitingClose, done
    }

    private let loop: EventLoop
    private let onEvent: (FileSendEvent) -> Void
    private var phase = Phase.idle
    private var attempts: ConnectAttempts?
    private var connectedAddress: SocketAddress?
    /// The connection's transport: the socket itself, or TLS over it.
    private var socket: Transport?
    private var handshaking = false
    private var registered = false
    private var watchdog: EventLoop.TimerToken?
    private var deadline: (at: Double, message: String)?

    private var fileIndex = 0
    private var fileDescriptor: Int32 = -1
    private var fileSize: Int64 = 0
    private var fileRead: Int64 = 0
    private var fileSent: Int64 = 0
    private var hasher = SHA256()
    private var digestHex = ""
    /// The file as it was when its sending began, to notice a change before the server is told it is complete.
    private var fileIdentity = FileIdentity()
    /// The bytes of a file that reports a size of 0 but yields data (`/proc`, `/sys`), read once and sent as they were.
    private var snapshot: [UInt8]?
    /// The most a zero-size file is read into memory to send it.
    public static let snapshotLimit = 16 << 20
    private var progress = ProgressThrottle()
    private var allConfirmed = true

    private let block: UnsafeMutableRawBufferPointer
    private var blockStart = 0
    private var blockEnd = 0
    private var control: [UInt8] = []
    private var controlSent = 0
    private var replyBytes: [UInt8] = []
    /// Whether the peer has sent anything on this connection yet.
    private var peerHasAnswered = false
    private var rawReply: FileTransferReply?

    public init(loop: EventLoop, endpoint: Endpoint, files: [String], raw: Bool = false,
                onEvent: @escaping (FileSendEvent) -> Void) {
        self.loop = loop
        self.endpoint = endpoint
        self.files = files
        self.raw = raw
        self.onEvent = onEvent
        block = .allocate(byteCount: Self.blockSize, alignment: 16)
    }

    deinit {
        closeFile()
        block.deallocate()
    }

    /// Whether the session has ended (finished, failed or cancelled).
    public var isFinished: Bool { phase == .done }

    // MARK: Checking files

    /// The size of the regular, readable file at `path`, or an error that says what is wrong with it.
    public static func inspect(_ path: String) throws -> Int64 {
        var info = stat()
        if stat(path, &info) != 0 {
            throw FileSendError(message: "\(path): \(describe(errno))")
        }
        if info.st_mode & S_IFMT == S_IFDIR {
            throw FileSendError(message: "\(path): is a folder, not a file")
        }
        if info.st_mode & S_IFMT != S_IFREG {
            throw FileSendError(message: "\(path): not a regular file")
        }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw FileSendError(message: "\(path): \(describe(errno))") }
        close(fd)
        return Int64(info.st_size)
    }

    /// All of `fd`'s bytes, up to `limit`.
    private static func readWhole(_ fd: Int32, limit: Int) -> Result<[UInt8], FileSendError> {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n < 0 { return .failure(FileSendError(message: describe(errno))) }
            if n == 0 { return .success(bytes) }
            bytes.append(contentsOf: chunk[0..<n])
            if bytes.count > limit {
                return .failure(FileSendError(message: "reports a size of 0 but yields more than \(ByteCount.format(limit)); not sent"))
            }
        }
    }

    private static func describe(_ code: Int32) -> String {
        switch code {
        case ENOENT: return "no such file"
        case EACCES: return "permission denied"
        case ENOTDIR: return "a part of the path is not a folder"
        default: return String(cString: strerror(code)).lowercased()
        }
    }

    // MARK: Starting and ending

    /// Checks every file, then connects. A file that cannot be sent ends the session before any connection.
    public func start() {
        guard phase == .idle else { return }
        if files.isEmpty { return end(failure: "no files to send") }
        for path in files {
            do { _ = try Self.inspect(path) } catch { return end(failure: "\(error)") }
        }
        phase = .connecting
        watchdog = loop.schedule(after: 0.25, repeating: true) { [weak self] in self?.checkDeadline() }
        setDeadline(after: connectTimeout, "no address for \(endpoint.host) within \(formatSeconds(connectTimeout))")
        ConnectAttempts.resolve(endpoint, on: loop) { [weak self] result in
            guard let self, self.phase != .done else { return }
            switch result {
            case let .success(attempts):
                self.attempts = attempts
                self.connectNext()
            case let .failure(error):
                self.end(failure: "\(error)")
            }
        }
    }

    /// Stops at once: closes the connection and the file, reports `failed("cancelled")` and `finished`.
    public func cancel() {
        guard phase != .done else { return }
        end(failure: "cancelled")
    }

    private func end(failure: String?) {
        guard phase != .done else { return }
        if raw && failure != nil && phase == .streaming {
            // A raw server saves whatever ends with a FIN; a reset makes it discard the part it got.
            try? socket?.setResetOnClose()
        }
        phase = .done
        closeSocket()
        closeFile()
        if let watchdog { loop.cancel(watchdog) }
        watchdog = nil
        deadline = nil
        if let failure {
            allConfirmed = false
            onEvent(.failed(failure))
        }
        onEvent(.finished(allConfirmed: allConfirmed))
    }

    private func fail(_ message: String) {
        end(failure: message)
    }

    // MARK: Connecting

    private func connectNext() {
        guard let socket = attempts?.startNext(on: loop, handler: self), let address = attempts?.current else {
            return fail(attempts?.failure ?? "cannot connect to \(endpoint)")
        }
        self.socket = socket
        registered = true
        phase = .connecting
        setDeadline(after: connectTimeout, "connection to \(address) timed out after \(formatSeconds(connectTimeout))")
    }

    private func finishConnecting() {
        guard let socket = socket as? Socket, let address = attempts?.current else { return }
        do {
            try attempts?.finish(socket)
        } catch {
            attempts?.noteFailure("\(error)")
            closeSocket()
            return connectNext()
        }
        if let tls {
            do { self.socket = try tls.transport(over: socket, to: endpoint) } catch { return fail("\(error)") }
            handshaking = true
            setDeadline(after: connectTimeout, "no TLS handshake with \(address) within \(formatSeconds(connectTimeout)): the server does not speak TLS, or is too busy")
            return advanceHandshake()
        }
        connected(to: address)
    }

    private func advanceHandshake() {
        guard let socket, let address = attempts?.current else { return }
        do {
            switch try socket.advanceHandshake() {
            case .done:
                handshaking = false
                connected(to: address)
            case .wantsRead: loop.setInterest(socket.descriptor, read: true, write: false)
            case .wantsWrite: loop.setInterest(socket.descriptor, read: false, write: true)
            }
        } catch {
            fail("\(error)")
        }
    }

    private func connected(to address: SocketAddress) {
        connectedAddress = address
        onEvent(.connected(address))
        replyBytes.removeAll()
        peerHasAnswered = false
        rawReply = nil
        startFile()
    }

    private func closeSocket() {
        handshaking = false
        if let socket {
            if registered { loop.unregister(socket.descriptor) }
            socket.close()
        }
        socket = nil
        registered = false
    }

    // MARK: One file

    private func startFile() {
        guard phase != .done else { return }  // the owner may cancel from inside an event callback
        let path = files[fileIndex]
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        var info = stat()
        if fd < 0 || fstat(fd, &info) != 0 {
            let reason = Self.describe(errno)
            if fd >= 0 { close(fd) }
            onEvent(.fileRefused(index: fileIndex, reason: "\(path): \(reason)"))
            allConfirmed = false
            return nextFile()
        }
        fileDescriptor = fd
        fileSize = Int64(info.st_size)
        fileIdentity = FileIdentity(info)
        snapshot = nil
        if fileSize == 0 {
            switch Self.readWhole(fd, limit: Self.snapshotLimit) {
            case let .success(bytes):
                if !bytes.isEmpty {
                    snapshot = bytes
                    fileSize = Int64(bytes.count)
                }
            case let .failure(reason):
                return fail("\(path): \(reason)")
            }
        }
        fileRead = 0
        fileSent = 0
        hasher = SHA256()
        blockStart = 0
        blockEnd = 0
        progress = ProgressThrottle()
        onEvent(.fileStarted(index: fileIndex, path: path, size: fileSize))
        if raw {
            phase = .streaming
            setDeadline(after: replyTimeout, stallMessage)
        } else {
            let name = names.flatMap { $0.indices.contains(fileIndex) ? $0[fileIndex] : nil } ?? Self.baseName(path)
            queueControl(FileTransferEncoder.header(name: name, size: fileSize, secret: secret))
            phase = .awaitingReady
            if peerHasAnswered {
                setDeadline(after: replyTimeout, "no answer to the header of \(path) within \(formatSeconds(replyTimeout))")
            } else {
                let wait = min(replyTimeout, firstAnswerTimeout)
                setDeadline(after: wait, "\(connectedAddress?.description ?? "\(endpoint)") did not answer the file header within "
                            + "\(formatSeconds(wait)): it does not look like a netconsole file server; for netcat, socat or a raw "
                            + "file server use --raw")
            }
        }
        pump()
    }

    private var stallMessage: String {
        "the server took no data for \(formatSeconds(replyTimeout)) while sending \(files[fileIndex])"
    }

    private func nextFile() {
        guard phase != .done else { return }
        closeFile()
        fileIndex += 1
        if raw {
            closeSocket()
            if fileIndex < files.count {
                attempts?.rewind()
                return connectNext()
            }
            return end(failure: nil)
        }
        if fileIndex < files.count { return startFile() }
        socket?.shutdownWrite()
        end(failure: nil)
    }

    private func closeFile() {
        if fileDescriptor >= 0 { close(fileDescriptor) }
        fileDescriptor = -1
    }

    /// The last component of `path` as the kernel sees it: split on the `/` byte, never on `Character`s (a `/`
    /// followed by a combining mark is one `Character`).
    static func baseName(_ path: String) -> String {
        let bytes = Array(path.utf8)
        guard let last = bytes.split(separator: UInt8(ascii: "/")).last else { return path }
        return String(decoding: last, as: UTF8.self)
    }

    // MARK: Readiness

    public func handleEvent(readable: Bool, writable: Bool, hangup: Bool) {
        if handshaking { return advanceHandshake() }
        if phase == .connecting {
            if writable || hangup || readable { finishConnecting() }
            return
        }
        let current = socket
        if readable { readReplies() }
        // Handling a reply may have moved on to a new connection (raw mode), which has its own readiness.
        if writable && socket === current && phase != .done && phase != .connecting { pump() }
    }

    private func updateInterest() {
        guard let socket, registered, phase != .done, phase != .connecting else { return }
        loop.setInterest(socket.descriptor, read: true, write: hasOutput)
    }

    private var hasOutput: Bool {
        // While streaming there is always more: blocks, or the trailer once the last block is out (a turn whose
        // budget ran out exactly at the end of the file must still come back to send it).
        controlSent < control.count || phase == .streaming
    }

    private func queueControl(_ bytes: [UInt8]) {
        control = bytes
        controlSent = 0
    }

    /// Sends what is queued (header or trailer, then file blocks) until the socket is full or this turn's share is
    /// used, then waits for writability.
    private func pump() {
        guard let socket, phase != .done else { return }
        var budget = Self.bytesPerTurn
        do {
            while budget > 0 && phase != .done {
                if controlSent < control.count {
                    let sent = try control.withUnsafeBytes { try socket.send(UnsafeRawBufferPointer(rebasing: $0[controlSent...])) }
                    if sent == 0 { break }
                    controlSent += sent
                    continue
                }
                guard phase == .streaming else { break }
                if blockStart == blockEnd {
                    if fileRead == fileSize {
                        finishPayload()
                        if phase != .streaming && phase != .awaitingResult { return }
                        continue
                    }
                    guard try readBlock() else { return }
                }
                let sent = try socket.send(UnsafeRawBufferPointer(rebasing: block[blockStart..<blockEnd]))
                if sent == 0 { break }
                blockStart += sent
                fileSent += Int64(sent)
                budget -= sent
                setDeadline(after: replyTimeout, stallMessage)
                if progress.shouldReport(received: fileSent, total: fileSize) {
                    onEvent(.progress(index: fileIndex, sent: fileSent, size: fileSize))
                }
            }
        } catch let error as SocketError {
            return connectionLost(error.message)
        } catch {
            return fail("\(error)")
        }
        updateInterest()
    }

    /// Reads the next block of the file and hashes it. False when the session had to end.
    private func readBlock() throws -> Bool {
        let wanted = Int(min(Int64(Self.blockSize), fileSize - fileRead))
        if let snapshot {
            let start = Int(fileRead)
            snapshot.withUnsafeBytes { source in
                block.baseAddress!.copyMemory(from: source.baseAddress! + start, byteCount: wanted)
            }
            hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: block[0..<wanted]))
            fileRead += Int64(wanted)
            blockStart = 0
            blockEnd = wanted
            return true
        }
        while true {
            let n = read(fileDescriptor, block.baseAddress, wanted)
            if n < 0 && errno == EINTR { continue }
            if n < 0 {
                fail("cannot read \(files[fileIndex]): \(Self.describe(errno))")
                return false
            }
            if n == 0 {
                fail("\(files[fileIndex]) shrank while being sent: it ended after \(fileRead) of \(fileSize) bytes")
                return false
            }
            hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: block[0..<n]))
            fileRead += Int64(n)
            blockStart = 0
            blockEnd = n
            return true
        }
    }

    /// Every payload byte is out: send the trailer (framed) or close our side and wait for the peer to close (raw).
    /// A file that changed meanwhile is never reported complete: the connection is dropped before the trailer (raw:
    /// reset), so the server discards what it got.
    private func finishPayload() {
        if snapshot == nil, let change = fileIdentity.change(of: fileDescriptor, sentSize: fileSize) {
            if raw { try? socket?.setResetOnClose() }
            return fail("\(files[fileIndex]) changed while it was being sent (\(change)); nothing was saved, send it again")
        }
        let digest = Array(hasher.finalize())
        digestHex = hexString(digest)
        // The last send already reported completion; an empty file had no send to report it.
        if fileSize == 0 { onEvent(.progress(index: fileIndex, sent: 0, size: 0)) }
        if raw {
            socket?.shutdownWrite()
            phase = .awaitingClose
            setDeadline(after: replyTimeout, "\(connectedAddress?.description ?? "\(endpoint)") did not close the connection within \(formatSeconds(replyTimeout)) after \(files[fileIndex]) was sent")
            updateInterest()
        } else {
            queueControl(FileTransferEncoder.trailer(sha256: digest))
            phase = .awaitingResult
            setDeadline(after: replyTimeout, "no answer after \(files[fileIndex]) was sent within \(formatSeconds(replyTimeout))")
        }
    }

    // MARK: Replies

    private func readReplies() {
        guard let socket else { return }
        var chunk = [UInt8](repeating: 0, count: 4096)
        while phase != .done && self.socket === socket {
            let count: Int?
            do {
                count = try chunk.withUnsafeMutableBytes { try socket.receive(into: $0) }
            } catch let error as SocketError {
                return connectionLost(error.message)
            } catch { return }
            guard let count else { return }
            if count == 0 { return peerClosed() }
            peerHasAnswered = true
            replyBytes.append(contentsOf: chunk[0..<count])
            while phase != .done && self.socket === socket, let newline = replyBytes.firstIndex(of: 0x0A) {
                let line = String(decoding: replyBytes[..<newline], as: UTF8.self)
                replyBytes.removeSubrange(...newline)
                handle(line: line)
            }
            guard self.socket === socket else { return }
            if raw {
                if replyBytes.count > FileTransferProtocol.maxReplyLength { replyBytes.removeAll() }
            } else if replyBytes.count > FileTransferProtocol.maxReplyLength || !Self.mayStartReply(replyBytes) {
                let shown = String(decoding: replyBytes.prefix(40), as: UTF8.self).sanitizedForDisplay
                return fail("unexpected reply from the server: '\(shown)'; is it a netconsole file server (try --raw)?")
            }
        }
    }

    /// Codes after which the server closes the connection (bad request, no or wrong secret, incomplete stream, busy).
    static func endsConnection(_ code: Int) -> Bool {
        code == FileTransferStatus.badRequest || code == FileTransferStatus.unauthorized || code == FileTransferStatus.incomplete
            || code == FileTransferStatus.busy
    }

    /// Whether `bytes` can be the start of a reply line, so a peer speaking something else is caught at once
    /// instead of after the reply timeout.
    static func mayStartReply(_ bytes: [UInt8]) -> Bool {
        ["READY", "OK ", "ERR ", "WAIT "].contains { keyword in
            let word = Array(keyword.utf8)
            let common = min(word.count, bytes.count)
            return bytes.prefix(common).elementsEqual(word.prefix(common))
        }
    }

    private func handle(line: String) {
        let reply = FileTransferReply(line: line)
        if raw {
            // Whatever a raw peer says is only news if it is our server's verdict.
            if rawReply == nil, let reply, reply != .ready { rawReply = reply }
            if case let .error(code, message)? = reply {
                onEvent(.fileRefused(index: fileIndex, reason: "\(code) \(message)"))
                allConfirmed = false
                nextFile()
            }
            return
        }
        switch (phase, reply) {
        case let (.awaitingReady, .waiting(seconds, _)?):
            // Someone at the server decides (`--ask`): its own timeout ends the wait, with an answer, before ours.
            setDeadline(after: Double(seconds) + replyTimeout, "no answer to the header of \(files[fileIndex]) within "
                        + "\(formatSeconds(Double(seconds) + replyTimeout)) of the server asking")
        case (.awaitingReady, .ready?):
            phase = .streaming
            setDeadline(after: replyTimeout, stallMessage)
            pump()
        case (.awaitingResult, .saved(let name)?) where controlSent == control.count:
            onEvent(.fileConfirmed(index: fileIndex, savedAs: name, sha256: digestHex))
            nextFile()
        case (.awaitingReady, .error(let code, let message)?), (.awaitingResult, .error(let code, let message)?):
            onEvent(.fileRefused(index: fileIndex, reason: "\(code) \(message)"))
            allConfirmed = false
            if Self.endsConnection(code) { return fail("the server ended the session: \(code) \(message)") }
            nextFile()
        case (.streaming, .error(let code, let message)?):
            onEvent(.fileRefused(index: fileIndex, reason: "\(code) \(message)"))
            fail("the server stopped \(files[fileIndex]) part way")
        default:
            fail("unexpected reply from the server: '\(line.sanitizedForDisplay)'; is it a netconsole file server (try --raw)?")
        }
    }

    private func peerClosed() {
        if raw && phase == .awaitingClose {
            if case let .saved(name)? = rawReply {
                onEvent(.fileConfirmed(index: fileIndex, savedAs: name, sha256: digestHex))
            } else {
                onEvent(.fileConfirmed(index: fileIndex, savedAs: "", sha256: digestHex))
            }
            return nextFile()
        }
        connectionLost("the server closed the connection")
    }

    /// Ends the session for a dead connection; a last `ERR` line the server managed to send first is the better reason.
    private func connectionLost(_ message: String) {
        guard phase != .done else { return }
        salvageReply()
        if let line = replyBytes.split(separator: 0x0A).first,
           case let .error(code, reason)? = FileTransferReply(line: String(decoding: line, as: UTF8.self)) {
            onEvent(.fileRefused(index: fileIndex, reason: "\(code) \(reason)"))
            return fail("the server closed the connection: \(code) \(reason)")
        }
        let context = fileIndex < files.count && phase != .connecting ? " while sending \(files[fileIndex])" : ""
        let hint = !peerHasAnswered && tls == nil && phase != .connecting ? " (the server said nothing: if it speaks TLS, add --tls)" : ""
        fail("\(message)\(context)\(hint)")
    }

    /// Reads whatever the server sent before the connection broke, without waiting.
    private func salvageReply() {
        guard let socket else { return }
        var chunk = [UInt8](repeating: 0, count: 4096)
        while replyBytes.count <= FileTransferProtocol.maxReplyLength,
              let count = try? chunk.withUnsafeMutableBytes({ try socket.receive(into: $0) }), count > 0 {
            replyBytes.append(contentsOf: chunk[0..<count])
        }
    }

    // MARK: Deadlines

    private func setDeadline(after seconds: Double, _ message: String) {
        deadline = (MonotonicClock.now() + seconds, message)
    }

    private func checkDeadline() {
        guard let deadline, MonotonicClock.now() >= deadline.at, phase != .done else { return }
        if handshaking { return fail(deadline.message) }
        if phase == .connecting {
            attempts?.noteFailure(deadline.message)
            closeSocket()
            return connectNext()
        }
        if !raw && !peerHasAnswered && phase == .awaitingReady {
            // Reset, not FIN: a raw server then discards the header bytes instead of saving them as a file.
            try? socket?.setResetOnClose()
        }
        fail(deadline.message)
    }
}
