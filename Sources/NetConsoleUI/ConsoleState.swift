import NetEngine
import NetText

/// Everything the console shows, reduced from engine events, client results and key presses. Pure: no I/O
/// besides the file picker reading folders, so tests drive it directly. The server pane's events and lists are in
/// ConsoleState+ServerPane.swift, the client's results in ConsoleState+ClientPane.swift, its sessions in
/// ConsoleState+Sessions.swift; keys are here.
public struct ConsoleState {
    public static let echoService = "echo"
    public static let filesService = "files"

    public struct ServiceStatus: Equatable {
        public var name: String
        public var address: String?
        public var listening = false
    }

    public struct ConnectionRow: Equatable {
        public var id: Int
        public var service: String
        public var peer: String
        public var bytesIn = 0
        public var bytesOut = 0
        public var openedAt: Double
        public var closedAt: Double?
        public var closeReason: String?
        public var upload: UploadRow?
        /// A folder tree arriving (ConsoleState+FolderArrival.swift).
        public var folder: FolderArrivalRow?
        /// A UDP echo peer rather than a connection (ConsoleState+UDPPeers.swift).
        public var udp: UDPPeerRow?
        /// Bytes both ways, for the RATE column.
        public var rate = RateMeter()
    }

    public struct UploadRow: Equatable {
        public var name: String
        public var received: Int64
        public var size: Int64?
    }

    public struct SavedFileRow: Equatable {
        public var name: String
        public var size: Int64
        public var sha256: String
        public var time: String
        /// A folder's files (the saved list gains a tree as one row); nil for a file.
        public var files: Int? = nil
    }

    /// The client pane's file transfer in flight or its last verdict.
    public struct TransferRow: Equatable {
        public var name: String
        public var sent: Int64 = 0
        public var size: Int64?
        public var verdict: String?
        public var succeeded: Bool?
        public var finished = false
        /// Monotonic seconds, for the elapsed time, the rate and what is left.
        public var startedAt: Double = 0
        public var endedAt: Double?
        public var rate = RateMeter()

        /// What the progress says besides the bar: "12.3 MiB/29.0 MiB · 4.1 MiB/s · 0:03 · 0:04 left", or
        /// `compact` for a narrow pane, "12.3/29.0 MiB 4.1 MiB/s 0:03 ETA 0:04".
        public func figures(now: Double, compact: Bool = false) -> String {
            let end = endedAt ?? now
            var done = ConsoleState.formatBytes(Int(sent))
            if let size {
                let total = ConsoleState.formatBytes(Int(size))
                let unit = total.split(separator: " ").last ?? ""
                if compact, done.hasSuffix(" " + unit) { done.removeLast(unit.count + 1) }
                done += "/" + total
            }
            let rate = rate.bytesPerSecond(now: end)
            var parts = [done, rate.map(ConsoleState.formatRate) ?? "–/s", ConsoleState.formatClock(end - startedAt)]
            if endedAt == nil {
                let left = size.flatMap { size in rate.flatMap { $0 > 0 ? ConsoleState.formatClock(Double(size - sent) / $0) : nil } } ?? "–:––"
                parts.append(compact ? "ETA " + left : left + " left")
            }
            return parts.joined(separator: compact ? " " : " · ")
        }

        public init(name: String, size: Int64? = nil, startedAt: Double = 0) {
            self.name = name
            self.size = size
            self.startedAt = startedAt
        }
    }

    /// Files larger than this are sent only after a y.
    public static let largeFile: Int64 = 100 << 20

    /// Seconds a closed connection stays listed (greyed) so short ones can be seen at all.
    public static let closedLinger = 3.0

    // Server pane
    /// UDP peer rows made so far (their numbers, `u1`, `u2`, ...).
    var udpRowsMade = 0
    public var services = [ServiceStatus(name: ConsoleState.echoService), ServiceStatus(name: ConsoleState.filesService)]
    public var serviceSelection = ServiceSelection.both
    /// The servers' TLS certificate fingerprint ("SHA256:..."), when they speak TLS.
    public var tlsFingerprint: String?
    public internal(set) var connections: [ConnectionRow] = []
    public internal(set) var acceptedTotal = 0
    public internal(set) var bytesInTotal = 0
    public internal(set) var bytesOutTotal = 0
    public var log = ActivityLog(capacity: 1000)
    public internal(set) var savedFiles: [SavedFileRow] = []
    public var saveDirectory: String

    // Client pane
    public var target = LineEditor()
    public var fileTarget = LineEditor()
    public var message = LineEditor()
    public var transcript = ActivityLog(capacity: 200)
    /// Persistent connections from the client pane (ConsoleState+Sessions.swift).
    public internal(set) var sessionList = SessionList()
    public var picker: FilePicker
    public internal(set) var transfer: TransferRow?
    /// Marked files and folders, and the queue they are sent in (ConsoleState+SendQueue.swift).
    public internal(set) var sendQueue = SendQueue()
    /// Said in the empty message field after Enter sent nothing; gone at the next key.
    public internal(set) var messageHint: String?
    /// Ctrl-R's search through the message history, while it runs.
    public private(set) var historySearch: HistorySearch?
    var targetEdited = false
    var fileTargetEdited = false

    /// Typing at launch types a message: letters are commands only once the user moves to the server pane.
    public var focus = ConsoleFocus.message
    public var showHelp = false
    /// First line of the help shown; it scrolls.
    public internal(set) var helpScroll = 0
    public internal(set) var confirmation: Confirmation?
    public internal(set) var viewer: LineViewer?
    /// The connection being inspected, over the whole screen (ConsoleState+Inspector.swift).
    public internal(set) var inspector: Inspector?
    /// Uploads waiting for a y or n (`--ask`), the oldest asked first (ConsoleState+UploadAsks.swift).
    public internal(set) var uploadAsks: [UploadAsk] = []

    // The connection list: the selection is a connection, so it stays on it while rows come and go.
    public internal(set) var selectedConnectionID: Int?
    var selectedConnectionHint = 0
    /// First row shown; moved only as far as needed to keep the selection in view.
    public internal(set) var connectionScroll = 0
    public private(set) var connectionSort = ConnectionSort.number
    public private(set) var connectionFilter = LineEditor()
    public private(set) var editingConnectionFilter = false
    /// Index into `savedFiles` (oldest first) of the selected file, so it stays selected as new files arrive.
    public internal(set) var selectedSavedFile: Int?
    /// Rows the log and the picker had at the last render, for paging.
    public var logViewHeight = 8
    public var pickerViewHeight = 5
    public var connectionViewHeight = 4
    public var repliesViewHeight = 4
    public var savedViewHeight = 4
    /// The screen's size, to find what a mouse click or the wheel is over.
    public var screenCols = 80
    public var screenRows = 24
    /// The terminal is below the layout's minimum: only a message shows, so keys may quit and do nothing else.
    public var screenTooSmall = false

    public init(saveDirectory: String, pickerDirectory: String) {
        self.saveDirectory = saveDirectory
        picker = FilePicker(directory: pickerDirectory)
    }

    public var isListening: Bool { services.contains { $0.listening } }
    public var openConnectionCount: Int { connections.filter { $0.closedAt == nil }.count }
    public var isTransferring: Bool { transfer.map { !$0.finished } ?? false }

    // MARK: Keys

    /// Applies a key press to the view; returns what the console must do, if anything.
    public mutating func handle(_ key: Key) -> ConsoleAction? {
        if key != .resize { messageHint = nil }
        if confirmation == nil, !uploadAsks.isEmpty { return handleUploadAskKey(key) }
        if let pending = confirmation {
            switch key {
            case .character("y"), .character("Y"), .enter:
                confirmation = nil
                return perform(pending.action)
            case .character("n"), .character("N"), .escape:
                confirmation = nil
            case .control("l"):
                return .repaint
            default:
                break
            }
            return nil
        }
        if case .wheel = key, showHelp {
            return handleHelpKey(mouseWheelDirection(key))
        }
        if viewer != nil {
            if key == .control("l") { return .repaint }
            if case .wheel = key { return nil }
            if key != .resize { viewer = nil }
            return nil
        }
        if showHelp { return handleHelpKey(key) }
        if screenTooSmall {
            // The fields are hidden: a key typed now must not land in one unseen.
            switch key {
            case .character("q"), .character("Q"), .function(10), .control("c"), .control("q"): return confirmQuit()
            case .control("l"): return .repaint
            default: return nil
            }
        }
        if key == .resize { return nil }
        if inspector != nil { return handleInspectorKey(key) }
        if editingConnectionFilter { return handleFilterKey(key) }
        if historySearch != nil { return handleSearchKey(key) }
        if case .paste(let text) = key { return handlePaste(text) }
        switch key {
        case let .click(row, col):
            mouse(row: row, col: col, wheel: nil)
            return nil
        case let .wheel(row, col, up):
            mouse(row: row, col: col, wheel: up)
            return nil
        default:
            break
        }
        if let binding = KeyBindings.binding(for: key, focus: focus) { return run(binding.command, key) }
        switch focus {
        case .target: if target.handle(key) { targetEdited = true }
        case .fileTarget: if fileTarget.handle(key) { fileTargetEdited = true }
        case .message: message.handle(key)
        case .files:
            if case .character = key { _ = picker.handle(key) }
            if key == .control("u") { _ = picker.handle(key) }
        case .server, .log, .saved, .replies: break
        }
        return nil
    }

    private func mouseWheelDirection(_ key: Key) -> Key {
        if case .wheel(_, _, let up) = key { return up ? .up : .down }
        return key
    }

    /// A click focuses the part under it and selects the row clicked; the wheel moves that part's selection.
    private mutating func mouse(row: Int, col: Int, wheel up: Bool?) {
        let layout = ConsoleLayout(cols: screenCols, rows: screenRows)
        func contains(_ rect: Rect) -> Bool { rect.intersects(Rect(x: col, y: row, width: 1, height: 1)) }
        let offset: Int
        switch true {
        case contains(layout.connections):
            focus = .server
            offset = row - layout.connections.y - 1
        case contains(layout.log):
            focus = .log
            offset = row - layout.log.y - 1
        case contains(layout.savedFiles):
            focus = .saved
            offset = row - layout.savedFiles.y - 1
        case contains(layout.transcript):
            focus = .replies
            offset = row - layout.transcript.y - 1
        case contains(layout.picker):
            focus = .files
            offset = row - layout.picker.y - 1
        case contains(layout.targetRow):
            focus = col < layout.targetRow.x + layout.targetRow.width / 2 ? .target : .fileTarget
            return
        case contains(layout.messageRow):
            focus = .message
            return
        case contains(layout.clientTitle):
            selectSessionTab(atColumn: col - layout.clientTitle.x)
            return
        default:
            return
        }
        if let up {
            for _ in 0..<3 {
                if focus == .files { _ = picker.handle(up ? .up : .down) } else { move(up ? .lineUp : .lineDown) }
            }
            return
        }
        guard offset >= 0 else { return }
        select(row: offset)
    }

    /// Selects the `offset`th row shown in the focused list, the way the renderer lays that list out.
    private mutating func select(row offset: Int) {
        switch focus {
        case .server:
            let listed = listedConnections
            let window = ConsoleRenderer.connectionWindow(self, count: listed.count, selected: selectedConnectionIndex(in: listed),
                                                          height: connectionViewHeight)
            let index = window.first + offset
            guard index < listed.count else { return }
            selectedConnectionID = listed[index].id
            selectedConnectionHint = index
            connectionScroll = window.first
        case .log:
            let index = log.firstVisibleIndex(height: logViewHeight) + offset
            if index < log.lines.count { log.select(index, height: logViewHeight) }
        case .replies:
            let index = transcript.firstVisibleIndex(height: repliesViewHeight) + offset
            if index < transcript.lines.count { transcript.select(index, height: repliesViewHeight) }
        case .saved:
            let shown = selectedSavedFile.map { savedFiles.count - 1 - $0 } ?? 0
            let index = ConsoleRenderer.centeredFirst(selected: shown, count: savedFiles.count, height: savedViewHeight) + offset
            if index < savedFiles.count { selectedSavedFile = savedFiles.count - 1 - index }
        case .files:
            if let index = ConsoleRenderer.pickerEntry(atRow: offset, in: self), index < picker.visibleEntries.count { picker.select(index) }
        default:
            break
        }
    }

    private mutating func handleHelpKey(_ key: Key) -> ConsoleAction? {
        let lines = KeyBindings.helpLines(for: focus, inspecting: inspector != nil, width: ConsoleRenderer.boxTextWidth(cols: screenCols)).count
        // A page moves by all but one of the box's lines, and the last page is as far as it goes (past it, Up would
        // seem to do nothing for a page of presses).
        let shown = ConsoleRenderer.boxTextRows(rows: screenRows)
        let page = max(1, shown - 1)
        let last = max(0, lines - shown)
        switch key {
        case .up, .character("k"): helpScroll = max(0, min(helpScroll, last) - 1)
        case .down, .character("j"): helpScroll = min(last, helpScroll + 1)
        case .pageUp: helpScroll = max(0, min(helpScroll, last) - page)
        case .pageDown: helpScroll = min(last, helpScroll + page)
        case .home: helpScroll = 0
        case .resize: break
        default:
            showHelp = false
            return key == .function(10) || key == .control("c") ? confirmQuit() : nil
        }
        return nil
    }

    private mutating func handleFilterKey(_ key: Key) -> ConsoleAction? {
        switch key {
        case .enter, .tab, .down, .up:
            editingConnectionFilter = false
        case .escape:
            connectionFilter.setText("")
            editingConnectionFilter = false
        case .control("c"), .function(10):
            editingConnectionFilter = false
            return confirmQuit()
        case .paste(let text):
            connectionFilter.handle(.paste(text.split(separator: "\n").first.map(String.init) ?? ""))
        default:
            connectionFilter.handle(key)
        }
        connectionScroll = 0
        return nil
    }

    /// Keys while Ctrl-R searches: text refines the query; Enter, or any other key, takes the message found into
    /// the field (Enter never sends it); Esc or ^G puts the field back as it was.
    private mutating func handleSearchKey(_ key: Key) -> ConsoleAction? {
        guard var search = historySearch else { return nil }
        let history = message.history
        switch key {
        case .character(let c): search.type(String(c), history: history)
        case .paste(let text): search.type(String(text.prefix { $0 != "\n" && $0 != "\r" }), history: history)
        case .backspace: search.deleteBack(history: history)
        case .control("r"): search.older(history: history)
        case .escape, .control("g"):
            historySearch = nil
            message.setText(search.original)
            return nil
        case .control("c"), .function(10), .control("q"):
            historySearch = nil
            message.setText(search.original)
            return confirmQuit()
        case .click, .wheel:
            return nil
        default:
            historySearch = nil
            message.setText(search.match.map { history[$0] } ?? search.original)
            // Any other key does what it does anywhere, on the message found (Tab moves on, ← edits it).
            return key == .enter ? nil : handle(key)
        }
        historySearch = search
        return nil
    }

    private mutating func handlePaste(_ text: String) -> ConsoleAction? {
        switch focus {
        case .target:
            target.handle(.paste(text))
            targetEdited = true
        case .fileTarget:
            fileTarget.handle(.paste(text))
            fileTargetEdited = true
        case .files:
            // Only the first line filters; a line break would otherwise pick a file.
            for character in text.prefix(while: { $0 != "\n" && $0 != "\t" }) { _ = picker.handle(.character(character)) }
        case .message, .server, .log, .saved, .replies:
            // A paste is text, never commands: outside a field it goes to the message field.
            focus = .message
            message.handle(.paste(text))
        }
        return nil
    }

    private mutating func run(_ command: ConsoleCommand, _ key: Key) -> ConsoleAction? {
        switch command {
        case .quit: return confirmQuit()
        case .help:
            showHelp = true
            helpScroll = 0
        case .repaint: return .repaint
        case .suspend: return .suspend
        case .nextField: moveFocus(by: 1)
        case .previousField: moveFocus(by: -1)
        case .toServerPane: focus = .server
        case .toggleListening:
            if !isListening { return .setListening(true) }
            return ask("Stop listening?", losses(openConnections(), includeTransfer: false), .setListening(false))
        case .switchMode:
            let next = serviceSelection.next
            let dropped = openConnections().filter { !next.includes($0.service) }
            return ask("Switch mode to \(next.rawValue)?", losses(dropped, includeTransfer: false), .selectServices(next))
        case .clearLog: log.clear()
        case .sortConnections: connectionSort = connectionSort.next
        case .filterConnections: editingConnectionFilter = true
        case .lineUp, .lineDown, .pageUp, .pageDown, .first, .last: move(command)
        case .showWhole: showCurrentLine()
        case .send:
            if message.text.isEmpty, canSendEmptyLine { return .sendEcho(target: target.text, message: "") }
            do { _ = try sessionPayload(for: message.text) } catch {
                messageHint = error.message
                return nil
            }
            let line = message.commit()
            if line.isEmpty {
                messageHint = target.text.isEmpty ? "nothing to send: fill in Connect to (Shift-Tab), then type a message"
                    : "nothing to send: type a message, Enter sends it to \(target.text.sanitizedForDisplay)"
                return nil
            }
            return .sendEcho(target: target.text, message: line)
        case .fieldDone:
            if focus == .target {
                focus = .message
                return target.text.isEmpty ? nil : .session(.connect(target: target.text))
            }
            focus = .files
        case .searchHistory: historySearch = HistorySearch(original: message.text, history: message.history)
        case .edit:
            switch focus {
            case .target: if target.handle(key) { targetEdited = true }
            case .fileTarget: if fileTarget.handle(key) { fileTargetEdited = true }
            default: message.handle(key)
            }
        case .pick:
            if key == .enter, !sendQueue.marks.isEmpty, picker.selectedEntry.map({ $0.kind != .directory && $0.kind != .parent }) ?? true {
                return sendMarks()
            }
            let size = picker.selectedEntry?.size ?? 0
            let action: ConsoleAction
            switch picker.handle(key, pageSize: max(1, pickerViewHeight - 1)) {
            case .none: return nil
            case .refused(let reason):
                transcript.append("✗ cannot send \(reason.sanitizedForDisplay)", time: "", style: .bad)
                return nil
            case .picked(let path): action = .sendFile(target: fileTarget.text, path: path)
            case let .pickedBytes(path, rawPath): action = .sendFile(target: fileTarget.text, path: path, rawPath: rawPath)
            }
            guard size > Self.largeFile else { return action }
            let name = (picker.selectedEntry?.name ?? "the file").sanitizedForDisplay.truncated(toWidth: 40)
            confirmation = Confirmation(title: "Send \(name)?", detail: [
                "\(ByteCount.format(size)) (\(size) bytes), over \(ByteCount.format(Self.largeFile)): it will take a while",
                "to \(fileTarget.text.sanitizedForDisplay.truncated(toWidth: 40)); ^X cancels it once it runs",
            ], action: action)
        case .filesBack:
            if picker.filter.isEmpty { focus = .server } else { _ = picker.handle(.control("u")) }
        case .cancelTransfer: return cancelCurrent()
        case .cancelQueue: return sendQueue.isRunning ? .cancelQueue : nil
        case .mark: return toggleMark(now: 0)
        case .markAll: toggleMarkAll()
        case .reloadFolder: picker.reload()
        case .nextSession, .previousSession, .cycleLineEnding, .toggleHexInput, .reconnect, .finishSending, .disconnect, .resend:
            return runSessionCommand(command)
        case .inspect: return openInspector()
        case .inspectSession: return inspectSelectedSession()
        case .leaveInspector, .toggleHex, .typeToPeer, .closeConnection, .resetConnection, .saveTranscript: break
        }
        return nil
    }

    private mutating func move(_ command: ConsoleCommand) {
        switch focus {
        case .server: moveConnectionSelection(command)
        case .log: Self.move(&log, command, height: logViewHeight)
        case .saved:
            guard !savedFiles.isEmpty else { return }
            // Shown newest first: up is newer, which is later in `savedFiles`.
            let shown = savedFiles.count - 1 - (selectedSavedFile ?? savedFiles.count)
            let page = max(1, savedViewHeight - 1)
            let target: Int
            switch command {
            case .lineUp: target = shown - 1
            case .lineDown: target = shown + 1
            case .pageUp: target = shown - page
            case .pageDown: target = shown + page
            case .first: target = 0
            default: target = savedFiles.count - 1
            }
            selectedSavedFile = savedFiles.count - 1 - min(max(0, target), savedFiles.count - 1)
        case .replies: Self.move(&transcript, command, height: repliesViewHeight)
        default: break
        }
    }

    private static func move(_ list: inout ActivityLog, _ command: ConsoleCommand, height: Int) {
        let page = max(1, height - 1)
        switch command {
        case .lineUp: list.moveSelection(by: -1, height: height)
        case .lineDown: list.moveSelection(by: 1, height: height)
        case .pageUp: list.moveSelection(by: -page, height: height)
        case .pageDown: list.moveSelection(by: page, height: height)
        case .first: list.select(0, height: height)
        default: list.scrollToNewest()
        }
    }

    private mutating func showCurrentLine() {
        switch focus {
        case .server:
            let listed = listedConnections
            if let index = selectedConnectionIndex(in: listed) ?? (listed.isEmpty ? nil : 0) {
                viewer = LineViewer(title: "Connection #\(listed[index].id)", text: describe(listed[index]))
            }
        case .saved:
            if let index = selectedSavedFile ?? (savedFiles.isEmpty ? nil : savedFiles.count - 1) {
                let file = savedFiles[index]
                viewer = LineViewer(title: "Saved \(file.time)", text: "\(file.name) · \(file.size) bytes (\(ByteCount.format(file.size)))"
                    + (file.files.map { " · a folder of \($0) files" } ?? " · sha256 \(file.sha256)") + " · in \(saveDirectory.sanitizedForDisplay)")
            }
        case .log:
            if let line = log.currentLine(height: logViewHeight) {
                viewer = LineViewer(title: line.time.isEmpty ? "Activity" : "Activity \(line.time)", text: line.text)
            }
        case .replies:
            if let line = transcript.currentLine(height: repliesViewHeight) {
                viewer = LineViewer(title: line.time.isEmpty ? "Reply" : "Reply \(line.time)", text: line.text + (line.detail.map { "  (\($0))" } ?? ""))
            }
        default: break
        }
    }

    /// Does the state's part of an action that was asked for or confirmed, and hands it on.
    mutating func perform(_ action: ConsoleAction) -> ConsoleAction? {
        if case .selectServices(let selection) = action { serviceSelection = selection }
        if case .queueMarks = action { return queueMarks() }
        return action
    }

    /// Open connections a quit or a stop would lose; the console's own sessions to its own servers are not the user's loss.
    private func openConnections() -> [ConnectionRow] { connections.filter { $0.closedAt == nil && !isOwnSession($0) } }

    static func plural(_ count: Int, _ noun: String) -> String { "\(count) \(noun)\(count == 1 ? "" : "s")" }

    /// What would be lost with these connections, one line each: the count, and the uploads in flight by name.
    private func losses(_ dropped: [ConnectionRow], includeTransfer: Bool) -> [String] {
        var lines: [String] = []
        if !dropped.isEmpty { lines.append("\(Self.plural(dropped.count, "open connection")) will be closed") }
        let uploading = dropped.filter { $0.upload != nil || $0.folder != nil }
        if let first = uploading.first, let loss = Self.uploadLoss(first, more: uploading.count - 1) { lines.append(loss) }
        if includeTransfer, isTransferring, let transfer {
            lines.append("sending \(transfer.name.truncated(toWidth: 30)) will stop")
        }
        if includeTransfer, sendQueue.isRunning {
            let sending = sendQueue.items.first { $0.status == .sending }
            if let sending, !(isTransferring && transfer != nil) {
                lines.append("sending \(sending.mark.name.truncated(toWidth: 30)) will stop")
            }
            let waiting = sendQueue.items.filter { $0.status == .queued }.count
            if waiting > 0 { lines.append("\(Self.plural(waiting, "queued item")) will not be sent") }
        }
        if includeTransfer {
            // Sessions to the console's own servers are its own business; one to any other server is the user's.
            let sessions = sessionList.sessions.filter { !$0.isClosed && !$0.isUDP && !isToOwnServer($0) }
            if !sessions.isEmpty { lines.append("\(Self.plural(sessions.count, "session")) to other servers will be closed") }
        }
        return lines
    }

    mutating func ask(_ title: String, _ detail: [String], _ action: ConsoleAction) -> ConsoleAction? {
        if detail.isEmpty { return perform(action) }
        confirmation = Confirmation(title: title, detail: detail, action: action)
        return nil
    }

    mutating func confirmQuit() -> ConsoleAction? {
        ask("Quit netconsole?", losses(openConnections(), includeTransfer: true), .quit)
    }

    private mutating func moveFocus(by step: Int) {
        let all = ConsoleFocus.allCases
        let index = all.firstIndex(of: focus)!
        focus = all[(index + step + all.count) % all.count]
    }

    // MARK: Formatting

    public static func formatRoundTrip(_ seconds: Double) -> String {
        let ms = seconds * 1000
        if ms < 10 { return "\(Double(Int((ms * 100).rounded())) / 100) ms" }
        if ms < 1000 { return "\(Double(Int((ms * 10).rounded())) / 10) ms" }
        return "\(Double(Int((seconds * 100).rounded())) / 100) s"
    }

    public static func formatAge(_ seconds: Double) -> String {
        let total = max(0, Int(seconds))
        if total < 60 { return "\(total)s" }
        if total < 3600 { return "\(total / 60)m\(pad2(total % 60))s" }
        return "\(total / 3600)h\(pad2(total / 60 % 60))m"
    }

    /// Byte counts in at most 8 columns, so the IN and OUT columns never cut them: "1023 B", "9.5 KiB",
    /// "99.5 MiB", "1018 MiB", "1.0 GiB".
    public static func formatBytes(_ count: Int) -> String {
        let (value, unit) = ByteCount.scaled(Int64(count))
        if unit == "B" { return "\(count) B" }
        let tenths = (value * 10).rounded()
        if tenths >= 1000 { return "\(Int(value.rounded())) \(unit)" }
        return "\(Int(tenths) / 10).\(Int(tenths) % 10) \(unit)"
    }

    /// A rate in at most 10 columns: "0 B/s", "512 B/s", "4.1 MiB/s", "1018 MiB/s".
    public static func formatRate(_ bytesPerSecond: Double) -> String {
        formatBytes(Int(bytesPerSecond.rounded())) + "/s"
    }

    /// Minutes and seconds ("0:07", "12:30"), hours past an hour ("1:02:03").
    public static func formatClock(_ seconds: Double) -> String {
        let total = max(0, Int(seconds.rounded()))
        if total < 3600 { return "\(total / 60):\(pad2(total % 60))" }
        return "\(total / 3600):\(pad2(total / 60 % 60)):\(pad2(total % 60))"
    }

    static func pad2(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
}
