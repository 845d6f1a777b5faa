import NetEngine

/// The client pane's sessions: persistent connections to any host:port, each with its own transcript. The shown
/// session's transcript is `transcript` itself, so the Replies pane's keys and drawing work on it unchanged; the
/// others keep theirs in their `Session` until they are shown.
extension ConsoleState {
    /// Lines a session's transcript keeps; older ones are dropped and counted.
    public static let sessionLogCapacity = 1000
    /// Bytes of a peer's line shown on one transcript line; a longer one goes on as many lines as it takes.
    public static let sessionLineBytes = 256
    /// Transcript lines one chunk from a peer may take; the rest is counted on one more line.
    public static let sessionChunkLines = 64

    public var selectedSession: Session? { sessionList.selected }

    /// A target as typed: HOST:PORT (TCP), or udp://HOST:PORT for a UDP session (tcp:// is taken too).
    public static func sessionTarget(_ text: String) throws -> (endpoint: Endpoint, udp: Bool) {
        let trimmed = String(text.drop { $0 == " " })
        for (scheme, udp) in [("udp://", true), ("tcp://", false)] where trimmed.lowercased().hasPrefix(scheme) {
            return (try Endpoint(parsing: String(trimmed.dropFirst(scheme.count))), udp)
        }
        return (try Endpoint(parsing: trimmed), false)
    }

    /// How a session to `endpoint` is named: its HOST:PORT, after udp:// for UDP.
    static func sessionKey(_ endpoint: Endpoint, udp: Bool) -> String { (udp ? "udp://" : "") + endpoint.description }

    /// Lines the shown transcript has dropped to stay bounded.
    public var droppedTranscriptLines: Int { transcript.appendedTotal - transcript.lines.count }

    /// The settings a message typed now is sent with.
    public var sendingLineEnding: LineEnding { selectedSession?.lineEnding ?? sessionList.defaultLineEnding }
    public var sendingHex: Bool { selectedSession?.hexInput ?? sessionList.defaultHexInput }

    /// The bytes the message field's text stands for now, or why it stands for none.
    public func sessionPayload(for text: String) throws(MessageSyntaxError) -> [UInt8] {
        try MessageEscapes.messageBytes(text, ending: sendingLineEnding, hex: sendingHex)
    }

    /// Enter on an empty message sends a bare line end (the empty line that ends an HTTP request) once a session
    /// to the target is open.
    var canSendEmptyLine: Bool {
        guard let session = selectedSession, !session.isClosed, !session.hexInput, session.lineEnding != .none else { return false }
        return (try? Self.sessionTarget(target.text)).map { Self.sessionKey($0.endpoint, udp: $0.udp) } == session.target
    }

    // MARK: Keys

    mutating func runSessionCommand(_ command: ConsoleCommand) -> ConsoleAction? {
        switch command {
        case .nextSession, .previousSession:
            guard !sessionList.isEmpty else {
                messageHint = "no sessions yet: Enter on a target connects one"
                return nil
            }
            let count = sessionList.sessions.count
            let current = sessionList.selectedIndex ?? 0
            selectSession((current + (command == .nextSession ? 1 : -1) + count) % count)
        case .cycleLineEnding:
            let next = sendingLineEnding.next
            sessionList.defaultLineEnding = next
            if let index = sessionList.selectedIndex { sessionList.sessions[index].lineEnding = next }
            messageHint = next == .none ? "messages go without a line end" : "each message ends with \(next == .lf ? "LF" : "CR LF")"
        case .toggleHexInput:
            let hex = !sendingHex
            sessionList.defaultHexInput = hex
            if let index = sessionList.selectedIndex { sessionList.sessions[index].hexInput = hex }
            messageHint = hex ? "hex input: type bytes like de ad be ef" : "text input: \\x41 \\r \\n \\t \\\\ escapes"
        case .reconnect, .finishSending, .disconnect:
            guard selectedSession != nil else {
                messageHint = "no session yet: Enter on a target connects one"
                return nil
            }
            return .session(command == .reconnect ? .reconnect : command == .finishSending ? .finishSending : .disconnect)
        case .resend:
            guard let index = transcript.selected ?? (transcript.lines.isEmpty ? nil : transcript.lines.count - 1) else { return nil }
            return .session(.resend(index: index))
        default:
            break
        }
        return nil
    }

    mutating func selectSession(_ index: Int) {
        guard sessionList.sessions.indices.contains(index) else { return }
        keepShownLog()
        sessionList.selectedIndex = index
        transcript = sessionList.sessions[index].storedLog
        sessionList.sessions[index].storedLog = ActivityLog(capacity: 1)
        target.setText(sessionList.sessions[index].target)
        targetEdited = true
    }

    /// A click on the client title: the session listed under column `column` (from the title's start) is shown.
    mutating func selectSessionTab(atColumn column: Int) {
        let width = ConsoleLayout(cols: screenCols, rows: screenRows).clientTitle.width - ConsoleRenderer.clientTitleUsed
        let offset = column - ConsoleRenderer.clientTitleUsed
        let tabs = ConsoleRenderer.sessionTabLayout(self, width: width)
        if let hit = tabs.spans.first(where: { offset >= $0.start && offset < $0.start + $0.width }) { selectSession(hit.index) }
    }

    private mutating func keepShownLog() {
        if let shown = sessionList.selectedIndex { sessionList.sessions[shown].storedLog = transcript }
    }

    // MARK: Requests (keys that need the network)

    /// Carries out a session key's request; returns what the console must do on the network.
    public mutating func perform(_ request: SessionRequest, clock: String, now: Double) -> [SessionCommand] {
        if case .connect(let text) = request {
            do {
                let parsed = try Self.sessionTarget(text)
                return openSession(to: parsed.endpoint, udp: parsed.udp, clock: clock)?.commands ?? []
            } catch {
                transcript.append("✗ \(String(describing: error).sanitizedForDisplay)", time: clock, style: .bad)
                return []
            }
        }
        guard let index = sessionList.selectedIndex else { return [] }
        let session = sessionList.sessions[index]
        switch request {
        case .connect:
            return []
        case .reconnect:
            return reconnect(index, clock: clock)
        case .finishSending:
            guard !session.isUDP else {
                messageHint = "UDP has no FIN: F7 closes the socket"
                return []
            }
            guard session.isOpen, !session.finishedSending else {
                messageHint = session.isOpen ? "FIN already sent" : session.isClosed ? "not connected: F5 connects again" : "still connecting"
                return []
            }
            sessionList.sessions[index].finishedSending = true
            append("→ FIN: nothing more is sent; replies still arrive", to: index, time: clock, style: .muted)
            return [.finishSending(id: session.id)]
        case .disconnect:
            guard !session.isClosed else {
                messageHint = "already closed: F5 connects again"
                return []
            }
            sessionList.sessions[index].closingByUser = true
            return [.close(id: session.id)]
        case .resend(let shownIndex):
            let number = transcript.appendedTotal - transcript.lines.count + shownIndex
            guard let bytes = session.sentPayloads[number] else {
                messageHint = transcript.lines.indices.contains(shownIndex) && transcript.lines[shownIndex].text.hasPrefix("→ ")
                    ? "that message is no longer kept" : "select a → line in Replies to send it again"
                return []
            }
            guard !session.isClosed, !session.finishedSending else {
                messageHint = session.isClosed ? "the session is closed: F5 connects again" : "FIN sent: F5 connects again to send more"
                return []
            }
            return send(bytes, on: index, clock: clock, now: now)
        }
    }

    /// The message field's Enter: the message goes on the session to `target`, which is opened (or opened again)
    /// first when needed.
    public mutating func sendMessage(_ text: String, target: String, clock: String, now: Double) -> [SessionCommand] {
        let parsed: (endpoint: Endpoint, udp: Bool)
        do { parsed = try Self.sessionTarget(target) } catch {
            transcript.append("✗ \(String(describing: error).sanitizedForDisplay)", time: clock, style: .bad)
            return []
        }
        guard let (index, commands) = openSession(to: parsed.endpoint, udp: parsed.udp, clock: clock) else { return [] }
        let session = sessionList.sessions[index]
        if session.finishedSending {
            transcript.append("✗ FIN already sent on \(session.target): F5 connects again to send more", time: clock, style: .bad)
            return commands
        }
        let bytes: [UInt8]
        do { bytes = try MessageEscapes.messageBytes(text, ending: session.lineEnding, hex: session.hexInput) } catch {
            transcript.append("✗ \(error.message)", time: clock, style: .bad)
            return commands
        }
        guard !bytes.isEmpty else { return commands }
        return commands + send(bytes, on: index, clock: clock, now: now)
    }

    private mutating func send(_ bytes: [UInt8], on index: Int, clock: String, now: Double) -> [SessionCommand] {
        let session = sessionList.sessions[index]
        if session.isUDP { return sendDatagram(bytes, on: index, clock: clock, now: now) }
        return recordSent(bytes, on: index, clock: clock, now: now)
    }

    /// Shows and counts `bytes` as sent on the TCP session at `index` (by its message field, or from the inspector).
    mutating func recordSent(_ bytes: [UInt8], on index: Int, clock: String, now: Double) -> [SessionCommand] {
        let session = sessionList.sessions[index]
        let waits = session.echo.isEchoing
        let line = append("→ \(session.target)  \(Self.messageShown(bytes))", to: index, time: clock, style: .muted,
                          detail: waits ? Self.waitingMarker : nil)
        sessionList.sessions[index].keepSent(bytes, line: line)
        if session.status == .connecting { sessionList.sessions[index].sentWhileConnecting.append(line) }
        sessionList.sessions[index].bytesOut += bytes.count
        if let given = sessionList.sessions[index].echo.sent(bytes, line: line, at: now) { setDetail(nil, ofLine: given, in: index) }
        return [.send(id: session.id, bytes: bytes)]
    }

    /// The session shown for `endpoint`: the shown one if it goes there (connected again if it was closed), else
    /// one open there, else a new one. Nil when every session is open and there is no room for another.
    private mutating func openSession(to endpoint: Endpoint, udp: Bool, clock: String) -> (index: Int, commands: [SessionCommand])? {
        let key = Self.sessionKey(endpoint, udp: udp)
        if let shown = sessionList.selectedIndex, sessionList.sessions[shown].target == key {
            return (shown, sessionList.sessions[shown].isClosed ? reconnect(shown, clock: clock) : [])
        }
        if let open = sessionList.sessions.firstIndex(where: { $0.target == key && !$0.isClosed }) {
            selectSession(open)
            return (open, [])
        }
        keepShownLog()
        var log = ActivityLog(capacity: Self.sessionLogCapacity)
        // The first session keeps what the pane showed before it.
        if sessionList.isEmpty { for line in transcript.lines { log.append(line.text, time: line.time, style: line.style, detail: line.detail) } }
        let settings = (selectedSession?.lineEnding ?? sessionList.defaultLineEnding, selectedSession?.hexInput ?? sessionList.defaultHexInput)
        guard let index = sessionList.add(target: key, log: log) else {
            transcript.append("✗ \(SessionList.capacity) sessions are open: close one (F7) first", time: clock, style: .bad)
            return nil
        }
        sessionList.sessions[index].lineEnding = settings.0
        sessionList.sessions[index].hexInput = settings.1
        sessionList.sessions[index].isUDP = udp
        selectSession(index)
        append("connecting to \(key)…", to: index, time: clock, style: .muted)
        return (index, [.connect(id: sessionList.sessions[index].id, endpoint: endpoint, udp: udp)])
    }

    private mutating func reconnect(_ index: Int, clock: String) -> [SessionCommand] {
        let session = sessionList.sessions[index]
        guard let parsed = try? Self.sessionTarget(session.target) else { return [] }
        flushPartialCharacter(index, clock: clock)
        abandonEchoes(index)
        if !session.isClosed { append("closed by you", to: index, time: clock, style: .muted) }
        sessionList.sessions[index].status = .connecting
        sessionList.sessions[index].finishedSending = false
        sessionList.sessions[index].peerFinished = false
        sessionList.sessions[index].closingByUser = false
        sessionList.sessions[index].echo.reset()
        append("connecting to \(session.target) again…", to: index, time: clock, style: .muted)
        return [.connect(id: session.id, endpoint: parsed.endpoint, udp: parsed.udp)]
    }

    // MARK: What the network reports

    /// Whether `session` is connected to one of the console's own servers (its local address is a connection there).
    /// The server's side may have closed already (the listener was stopped): the session is still the console's own.
    func isToOwnServer(_ session: Session) -> Bool {
        guard let local = session.localAddress else { return false }
        return connections.contains { $0.peer == local }
    }

    /// Whether a server connection is one of the console's own open sessions (to its own servers).
    func isOwnSession(_ row: ConnectionRow) -> Bool {
        sessionList.sessions.contains { !$0.isClosed && $0.localAddress == row.peer }
    }

    public mutating func sessionOpened(_ id: Int, peer: String, localAddress: String? = nil, clock: String, now: Double) {
        guard let index = sessionList.index(of: id) else { return }
        sessionList.sessions[index].status = .open
        sessionList.sessions[index].sentWhileConnecting = []
        sessionList.sessions[index].localAddress = localAddress
        sessionList.sessions[index].echo.restartClocks(at: now)
        append("● connected to \(peer.sanitizedForDisplay)", to: index, time: clock, style: .muted)
    }

    public mutating func sessionReceived<Bytes: Collection>(_ id: Int, _ bytes: Bytes, clock: String, now: Double) where Bytes.Element == UInt8 {
        guard let index = sessionList.index(of: id), !bytes.isEmpty else { return }
        sessionList.sessions[index].bytesIn += bytes.count
        let outcome = sessionList.sessions[index].echo.received(bytes, at: now)
        for line in outcome.abandoned { setDetail(nil, ofLine: line, in: index) }
        for done in outcome.completed { setDetail(nil, ofLine: done.line, in: index) }
        if outcome.wasEcho {
            flushPartialCharacter(index, clock: clock)
            let roundTrip = outcome.completed.last.map { Self.formatRoundTrip($0.roundTrip) }
            append("← \(Self.messageShown(Array(bytes)))", to: index, time: clock, style: .good, detail: roundTrip)
            return
        }
        var chunk = sessionList.sessions[index].partialCharacter + Array(bytes)
        let cut = Self.unfinishedCharacterLength(chunk)
        sessionList.sessions[index].partialCharacter = Array(chunk.suffix(cut))
        chunk.removeLast(cut)
        if !chunk.isEmpty { appendChunk(chunk, size: bytes.count, to: index, clock: clock) }
    }

    /// Bytes at the end of `bytes` that start a UTF-8 character and are too few to end it.
    public static func unfinishedCharacterLength(_ bytes: [UInt8]) -> Int {
        guard !bytes.isEmpty else { return 0 }
        for length in 1...min(3, bytes.count) {
            let byte = bytes[bytes.count - length]
            if byte & 0xC0 == 0x80 { continue }
            let needed = (0xC2...0xDF).contains(byte) ? 2 : (0xE0...0xEF).contains(byte) ? 3 : (0xF0...0xF4).contains(byte) ? 4 : 1
            return needed > length ? length : 0
        }
        return 0
    }

    /// Shows what is left of a character cut short, as the bytes it is.
    private mutating func flushPartialCharacter(_ index: Int, clock: String) {
        let rest = sessionList.sessions[index].partialCharacter
        guard !rest.isEmpty else { return }
        sessionList.sessions[index].partialCharacter = []
        appendChunk(rest, size: rest.count, to: index, clock: clock)
    }

    public mutating func sessionPeerFinished(_ id: Int, clock: String) {
        guard let index = sessionList.index(of: id) else { return }
        flushPartialCharacter(index, clock: clock)
        sessionList.sessions[index].peerFinished = true
        append("← FIN: the peer sends nothing more", to: index, time: clock, style: .muted)
    }

    /// The connection ended: `error` says why when it was not in order (a reset, a timeout).
    public mutating func sessionClosed(_ id: Int, error: String?, clock: String) {
        guard let index = sessionList.index(of: id) else { return }
        let session = sessionList.sessions[index]
        let reason = error ?? (session.closingByUser ? "closed by you" : "closed by the peer")
        end(index, reason: reason, clock: clock)
        let totals = "\(ByteCount.format(Int64(session.bytesIn))) in, \(ByteCount.format(Int64(session.bytesOut))) out"
        append("✗ \(reason.sanitizedForDisplay) · \(totals)", to: index, time: clock, style: error == nil ? .muted : .bad)
    }

    public mutating func sessionConnectFailed(_ id: Int, reason: String, clock: String) {
        guard let index = sessionList.index(of: id) else { return }
        let reason = sessionList.sessions[index].closingByUser ? "cancelled by you" : reason
        end(index, reason: reason, clock: clock)
        append("✗ \(reason.sanitizedForDisplay)", to: index, time: clock, style: .bad)
        // What was typed while it connected never left: said on each line, and once in all.
        let unsent = sessionList.sessions[index].sentWhileConnecting
        sessionList.sessions[index].sentWhileConnecting = []
        for line in unsent { setDetail("not sent", ofLine: line, in: index) }
        if !unsent.isEmpty {
            append("✗ \(unsent.count == 1 ? "1 message was" : "\(unsent.count) messages were") not sent", to: index, time: clock, style: .bad)
        }
    }

    /// Echoes sent `timeout` seconds before `now` or earlier and still incomplete are given up: their waiting
    /// markers go, and a line says how much came back.
    public mutating func expireEchoes(now: Double, timeout: Double, clock: String) {
        for index in sessionList.sessions.indices {
            for pending in sessionList.sessions[index].echo.pending where now - pending.sentAt >= timeout {
                sessionList.sessions[index].echo.giveUp(line: pending.line)
                setDetail(nil, ofLine: pending.line, in: index)
                let session = sessionList.sessions[index]
                let what = session.status == .connecting ? "no connection" : "no complete echo (\(pending.matched) of \(pending.bytes.count) bytes)"
                append("… \(what) within \(formatSeconds(timeout))", to: index, time: clock, style: .muted)
            }
            let expired = sessionList.sessions[index].datagramsWaiting.filter { now - $0.sentAt >= timeout }
            guard !expired.isEmpty else { continue }
            sessionList.sessions[index].datagramsWaiting.removeAll { now - $0.sentAt >= timeout }
            sessionList.sessions[index].datagramsLost += expired.count
            for datagram in expired {
                setDetail(nil, ofLine: datagram.line, in: index)
                append("… lost: no echo of \(datagram.bytes.count) B within \(formatSeconds(timeout))", to: index, time: clock, style: .bad)
            }
        }
    }

    private mutating func end(_ index: Int, reason: String, clock: String) {
        flushPartialCharacter(index, clock: clock)
        abandonEchoes(index)
        sessionList.sessions[index].status = .closed(reason: reason.sanitizedForDisplay, at: clock)
    }

    private mutating func abandonEchoes(_ index: Int) {
        for pending in sessionList.sessions[index].echo.pending + sessionList.sessions[index].datagramsWaiting {
            setDetail(nil, ofLine: pending.line, in: index)
        }
        sessionList.sessions[index].echo.reset()
        sessionList.sessions[index].datagramsWaiting = []
    }

    // MARK: UDP

    private mutating func sendDatagram(_ bytes: [UInt8], on index: Int, clock: String, now: Double) -> [SessionCommand] {
        let session = sessionList.sessions[index]
        let line = append("→ \(session.target)  \(Self.messageShown(bytes))", to: index, time: clock, style: .muted, detail: Self.waitingMarker)
        sessionList.sessions[index].keepSent(bytes, line: line)
        sessionList.sessions[index].bytesOut += bytes.count
        sessionList.sessions[index].datagramsSent += 1
        sessionList.sessions[index].datagramsWaiting.append(EchoMatcher.Pending(line: line, bytes: bytes, sentAt: now))
        if sessionList.sessions[index].datagramsWaiting.count > EchoMatcher.maxPending {
            // Too many unanswered to keep waiting for: the oldest counts as lost now.
            let oldest = sessionList.sessions[index].datagramsWaiting.removeFirst()
            sessionList.sessions[index].datagramsLost += 1
            setDetail(nil, ofLine: oldest.line, in: index)
        }
        return [.send(id: session.id, bytes: bytes)]
    }

    /// One datagram from a UDP session's peer: the echo of one sent (its round trip), or anything else, shown.
    public mutating func sessionReceivedDatagram<Bytes: Collection>(_ id: Int, _ bytes: Bytes, truncated: Bool, clock: String, now: Double)
    where Bytes.Element == UInt8 {
        guard let index = sessionList.index(of: id) else { return }
        let datagram = Array(bytes)
        sessionList.sessions[index].bytesIn += datagram.count
        if !truncated, let match = sessionList.sessions[index].datagramsWaiting.firstIndex(where: { $0.bytes == datagram }) {
            let sent = sessionList.sessions[index].datagramsWaiting.remove(at: match)
            sessionList.sessions[index].datagramsEchoed += 1
            setDetail(nil, ofLine: sent.line, in: index)
            append("← \(Self.messageShown(datagram))", to: index, time: clock, style: .good, detail: Self.formatRoundTrip(now - sent.sentAt))
            return
        }
        appendChunk(datagram, size: datagram.count, to: index, clock: clock)
        if truncated { append("  … the datagram was larger than \(datagram.count) B: cut", to: index, time: "", style: .muted) }
    }

    /// Something went wrong that does not end the session (a UDP port unreachable, a datagram too large).
    public mutating func sessionProblem(_ id: Int, _ problem: String, clock: String) {
        guard let index = sessionList.index(of: id) else { return }
        append("✗ \(problem.sanitizedForDisplay)", to: index, time: clock, style: .bad)
    }

    // MARK: The transcript

    /// A chunk from a peer as lines, as a terminal would show it: the first with the direction, its time and size.
    private mutating func appendChunk(_ bytes: [UInt8], size byteCount: Int, to index: Int, clock: String) {
        var pieces: [ArraySlice<UInt8>] = []
        var start = 0
        var lineCount = 0
        while start < bytes.count, lineCount < Self.sessionChunkLines {
            let limit = min(bytes.count, start + Self.sessionLineBytes)
            var end = bytes[start..<limit].firstIndex(of: 0x0A).map { $0 + 1 } ?? limit
            // Not in the middle of a character.
            if end == limit, limit < bytes.count { while end > start + 1, bytes[end] & 0xC0 == 0x80 { end -= 1 } }
            var line = bytes[start..<end]
            if line.last == 0x0A { line = line.dropLast() }
            if line.last == 0x0D { line = line.dropLast() }
            pieces.append(line)
            start = end
            lineCount += 1
        }
        let size = "\(byteCount) B"
        for (number, piece) in pieces.enumerated() {
            let text = (number == 0 ? "← " : "  ") + MessageEscapes.displayText(piece)
            append(text, to: index, time: number == 0 ? clock : "", style: .normal, detail: number == 0 ? size : nil)
        }
        if start < bytes.count {
            append("  … \(bytes.count - start) more bytes in this chunk", to: index, time: "", style: .muted)
        }
    }

    /// A message or an echo on one line: its last line end dropped, the others as ⏎, the rest escaped.
    static func messageShown(_ bytes: [UInt8]) -> String {
        var body = bytes[...]
        if body.last == 0x0A { body = body.dropLast() }
        if body.last == 0x0D { body = body.dropLast() }
        var parts: [String] = []
        var start = body.startIndex
        // Bounded: a huge paste is shown by its start.
        let shown = body.prefix(4 * Self.sessionLineBytes)
        while let newline = shown[start...].firstIndex(of: 0x0A) {
            var line = shown[start..<newline]
            if line.last == 0x0D { line = line.dropLast() }
            parts.append(MessageEscapes.displayText(line))
            start = newline + 1
        }
        parts.append(MessageEscapes.displayText(shown[start...]))
        let more = body.count - shown.count
        return parts.joined(separator: "⏎") + (more > 0 ? " … \(more) more bytes" : "")
    }

    @discardableResult
    private mutating func append(_ text: String, to index: Int, time: String, style: CellStyle, detail: String? = nil) -> Int {
        if index == sessionList.selectedIndex {
            transcript.append(text, time: time, style: style, detail: detail)
            sessionList.sessions[index].forgetSent(before: transcript.appendedTotal - transcript.lines.count)
            return transcript.newestLineNumber
        }
        sessionList.sessions[index].storedLog.append(text, time: time, style: style, detail: detail)
        let log = sessionList.sessions[index].storedLog
        sessionList.sessions[index].forgetSent(before: log.appendedTotal - log.lines.count)
        return log.newestLineNumber
    }

    private mutating func setDetail(_ detail: String?, ofLine line: Int, in index: Int) {
        if index == sessionList.selectedIndex {
            transcript.setDetail(detail, ofLine: line)
        } else {
            sessionList.sessions[index].storedLog.setDetail(detail, ofLine: line)
        }
    }
}
