import NetEngine

/// The inspector: one connection over the whole screen, opened from the connection list.
extension ConsoleState {
    /// Opens the inspector on the selected connection (the first listed when none is selected); a closed one has
    /// nothing left to inspect, so its line is shown whole instead.
    mutating func openInspector() -> ConsoleAction? {
        let listed = listedConnections
        guard let index = selectedConnectionIndex(in: listed) ?? (listed.isEmpty ? nil : 0) else { return nil }
        let row = listed[index]
        selectedConnectionID = row.id
        if row.closedAt != nil || row.udp != nil {
            // Nothing to inspect: a closed connection, or a UDP peer (no connection at all).
            viewer = LineViewer(title: row.udp.map { "UDP peer \($0.label)" } ?? "Connection #\(row.id)", text: describe(row))
            return nil
        }
        inspector = Inspector(connectionID: row.id)
        return .inspect(id: row.id)
    }

    /// F8 in the client pane: the selected session's TCP connection, if it is open.
    mutating func inspectSelectedSession() -> ConsoleAction? {
        guard let session = selectedSession else {
            messageHint = "no session yet: Enter on a target connects one"
            return nil
        }
        guard !session.isUDP, session.isOpen else {
            messageHint = session.isUDP ? "a UDP session has no connection to inspect" : "session #\(session.id) is not connected"
            return nil
        }
        return .inspectSession(id: session.id)
    }

    /// Opens the inspector on connection `id` (a session's, found by the console).
    public mutating func openInspector(connectionID id: Int, session: Int? = nil) {
        inspector = Inspector(connectionID: id, sessionID: session)
    }

    /// A session's connection is acted on from the inspector: what is sent there goes in the session's transcript and
    /// counts (with the session's line end), and a close or reset is the user's doing, not the peer's.
    public mutating func noteInspectorAction(_ action: ConsoleAction, clock: String, now: Double) -> ConsoleAction {
        guard let sessionID = inspector?.sessionID, let index = sessionList.index(of: sessionID) else { return action }
        switch action {
        case let .sendToConnection(id, bytes):
            // The prompt's line ends in LF; the session's own line end replaces it.
            let line = Array(bytes.dropLast()) + sessionList.sessions[index].lineEnding.bytes
            _ = recordSent(line, on: index, clock: clock, now: now)
            return .sendToConnection(id: id, bytes: line)
        case .closeConnection, .resetConnection:
            sessionList.sessions[index].closingByUser = true
        default:
            break
        }
        return action
    }

    /// A fresh snapshot of the inspected connection.
    public mutating func updateInspector(_ snapshot: ConnectionSnapshot) {
        guard inspector?.connectionID == snapshot.id else { return }
        inspector?.update(snapshot)
        if snapshot.isClosed { inspector?.isGone = true }
    }

    /// The server no longer has the inspected connection: what was seen last stays on screen.
    public mutating func inspectedConnectionGone(_ id: Int) {
        guard inspector?.connectionID == id, inspector?.isGone == false else { return }
        inspector?.isGone = true
        let reason = connections.first { $0.id == id }?.closeReason
        inspector?.say("connection closed" + (reason.map { ": \($0)" } ?? ""), bad: reason != nil)
    }

    /// The outcome of an action on the inspected connection, shown on its status line.
    public mutating func noteInspector(_ text: String, bad: Bool = false) {
        inspector?.say(text, bad: bad)
    }

    public var inspectorViewHeight: Int {
        get { inspector?.viewHeight ?? 0 }
        set {
            guard inspector != nil, inspector?.viewHeight != newValue else { return }
            inspector?.viewHeight = max(1, newValue)
            inspector?.clampScroll()
        }
    }

    public var inspectorViewWidth: Int {
        get { inspector?.viewWidth ?? 0 }
        set {
            guard inspector != nil, inspector?.viewWidth != newValue else { return }
            inspector?.viewWidth = newValue
            inspector?.clampScroll()
        }
    }

    mutating func handleInspectorKey(_ key: Key) -> ConsoleAction? {
        guard let current = inspector else { return nil }
        if let prompt = current.prompt { return handleInspectorPrompt(prompt, key) }
        let id = current.connectionID
        switch key {
        case .paste(let text):
            // A paste is text, never keys: it becomes a message to send, which Enter sends and Esc drops.
            guard !current.isGone else { return nil }
            inspector?.prompt = .message
            inspector?.editor = LineEditor(text: text)
            return nil
        case .wheel(_, _, let up):
            for _ in 0..<3 { inspector?.scroll(up ? .lineUp : .lineDown) }
            return nil
        default:
            break
        }
        guard let binding = KeyBindings.inspectorBinding(for: key) else { return nil }
        switch binding.command {
        case .leaveInspector:
            inspector = nil
            return .stopInspecting
        case .toggleHex: inspector?.toggleText()
        case .lineUp, .lineDown, .pageUp, .pageDown, .first, .last: inspector?.scroll(binding.command)
        case .typeToPeer:
            guard !current.isGone else { inspector?.say("the connection is closed: nothing can be sent", bad: true); return nil }
            inspector?.prompt = .message
            inspector?.editor = LineEditor()
        case .saveTranscript:
            guard current.snapshot != nil else { inspector?.say("nothing to save yet", bad: true); return nil }
            inspector?.prompt = .saveAs
            inspector?.editor = LineEditor(text: "netconsole-\(id).transcript")
        case .closeConnection:
            guard !current.isGone else { inspector?.say("the connection is already closed", bad: true); return nil }
            return ask("Close connection #\(id)?", closeLosses(current), .closeConnection(id: id))
        case .resetConnection:
            guard !current.isGone else { inspector?.say("the connection is already closed", bad: true); return nil }
            var detail = ["the peer gets an RST (connection reset by peer)"]
            if let snapshot = current.snapshot, snapshot.pendingOutput + (snapshot.tcp?.sendQueue ?? 0) > 0 {
                detail.append("\(snapshot.pendingOutput + (snapshot.tcp?.sendQueue ?? 0)) bytes not yet delivered are dropped")
            }
            if let row = connections.first(where: { $0.id == id }), let loss = Self.uploadLoss(row) { detail.append(loss) }
            confirmation = Confirmation(title: "Reset connection #\(id)?", detail: detail, action: .resetConnection(id: id))
        case .help:
            showHelp = true
            helpScroll = 0
        case .repaint: return .repaint
        case .suspend: return .suspend
        case .quit: return confirmQuit()
        case .cancelTransfer: return isTransferring ? .cancelTransfer : nil
        default: break
        }
        return nil
    }

    /// What a graceful close would still lose: bytes the server has not read (Linux then sends an RST), an upload.
    private func closeLosses(_ inspector: Inspector) -> [String] {
        var lines: [String] = []
        if let queued = inspector.snapshot?.tcp?.receiveQueue, queued > 0 {
            lines.append("\(queued) bytes received and not yet read are dropped (the peer then sees a reset)")
        }
        if let row = connections.first(where: { $0.id == inspector.connectionID }), let loss = Self.uploadLoss(row) { lines.append(loss) }
        return lines
    }

    private mutating func handleInspectorPrompt(_ prompt: Inspector.Prompt, _ key: Key) -> ConsoleAction? {
        guard let id = inspector?.connectionID else { return nil }
        switch key {
        case .enter:
            let text = inspector?.editor.text ?? ""
            inspector?.prompt = nil
            inspector?.editor = LineEditor()
            switch prompt {
            case .message:
                if inspector?.isGone == true { inspector?.say("the connection is closed: nothing sent", bad: true); return nil }
                return .sendToConnection(id: id, bytes: Array((text + "\n").utf8))
            case .saveAs:
                let path = String(text.drop { $0 == " " })
                guard !path.isEmpty else { inspector?.say("no file name: nothing saved", bad: true); return nil }
                return .saveTranscript(id: id, path: path)
            }
        case .escape:
            inspector?.prompt = nil
            inspector?.editor = LineEditor()
        case .control("c"), .function(10), .control("q"):
            inspector?.prompt = nil
            return confirmQuit()
        case .control("l"):
            return .repaint
        case .paste(let text):
            // A file name is one line; a message may hold several (sent as they are, with one \n at the end).
            inspector?.editor.handle(.paste(prompt == .saveAs ? String(text.prefix { $0 != "\n" && $0 != "\r" }) : text))
        case .tab, .backTab, .click, .wheel, .up, .down:
            break
        default:
            inspector?.editor.handle(key)
        }
        return nil
    }
}
