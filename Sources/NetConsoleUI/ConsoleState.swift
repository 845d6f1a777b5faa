import NetEngine

/// Where keys go. Tab walks through them in this order.
public enum ConsoleFocus: CaseIterable, Equatable, Sendable {
    case server, target, message, fileTarget, files

    public var isClientPane: Bool { self != .server }
}

/// Which of the console's servers run: the "mode" shown in the server pane.
public enum ServiceSelection: String, CaseIterable, Equatable, Sendable {
    case both = "echo + files"
    case echoOnly = "echo"
    case filesOnly = "files"

    public func includes(_ service: String) -> Bool {
        switch self {
        case .both: return true
        case .echoOnly: return service == ConsoleState.echoService
        case .filesOnly: return service == ConsoleState.filesService
        }
    }

    var next: ServiceSelection {
        let all = ServiceSelection.allCases
        return all[(all.firstIndex(of: self)! + 1) % all.count]
    }
}

/// What a key asks the console to do outside its view state.
public enum ConsoleAction: Equatable, Sendable {
    case quit
    case setListening(Bool)
    case selectServices(ServiceSelection)
    case sendEcho(target: String, message: String)
    case sendFile(target: String, path: String)
    case cancelTransfer
}

/// Everything the console shows, reduced from engine events, client results and key presses. Pure: no I/O
/// besides the file picker reading folders, so tests drive it directly.
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
    }

    /// The client pane's file transfer in flight or its last verdict.
    public struct TransferRow: Equatable {
        public var name: String
        public var sent: Int64 = 0
        public var size: Int64?
        public var verdict: String?
        public var succeeded: Bool?
        public var finished = false
    }

    /// Seconds a closed connection stays listed (greyed) so short ones can be seen at all.
    public static let closedLinger = 3.0

    // Server pane
    public var services = [ServiceStatus(name: ConsoleState.echoService), ServiceStatus(name: ConsoleState.filesService)]
    public var serviceSelection = ServiceSelection.both
    public private(set) var connections: [ConnectionRow] = []
    public private(set) var acceptedTotal = 0
    public private(set) var bytesInTotal = 0
    public private(set) var bytesOutTotal = 0
    public var log = ActivityLog(capacity: 1000)
    public private(set) var savedFiles: [SavedFileRow] = []
    public var saveDirectory: String

    // Client pane
    public var target = LineEditor()
    public var fileTarget = LineEditor()
    public var message = LineEditor()
    public var transcript = ActivityLog(capacity: 200)
    public var picker: FilePicker
    public private(set) var transfer: TransferRow?
    private var targetEdited = false
    private var fileTargetEdited = false

    public var focus = ConsoleFocus.server
    public var showHelp = false
    /// Rows the log and the picker had at the last render, for paging.
    public var logViewHeight = 8
    public var pickerViewHeight = 5

    public init(saveDirectory: String, pickerDirectory: String) {
        self.saveDirectory = saveDirectory
        picker = FilePicker(directory: pickerDirectory)
    }

    public var isListening: Bool { services.contains { $0.listening } }
    public var openConnectionCount: Int { connections.filter { $0.closedAt == nil }.count }
    public var isTransferring: Bool { transfer.map { !$0.finished } ?? false }

    // MARK: Engine events

    /// Folds one server event into the view. `now` is monotonic seconds, `clock` the wall time to show.
    public mutating func apply(_ event: NetEvent, now: Double, clock: String) {
        switch event {
        case let .listening(service, address):
            update(service) {
                $0.address = address.description
                $0.listening = true
            }
            suggestTarget(for: service, address: address)
        case let .stoppedListening(service, _):
            update(service) { $0.listening = false }
        case let .connectionOpened(id, service, peer):
            acceptedTotal += 1
            connections.append(ConnectionRow(id: id, service: service, peer: peer.description, openedAt: now))
        case let .connectionClosed(id, _, bytesIn, bytesOut, reason):
            if let index = connections.firstIndex(where: { $0.id == id }) {
                connections[index].bytesIn = bytesIn
                connections[index].bytesOut = bytesOut
                connections[index].closedAt = now
                connections[index].closeReason = reason?.sanitizedForDisplay
            }
        case let .bytesReceived(id, count):
            bytesInTotal += count
            updateConnection(id) { $0.bytesIn += count }
            return
        case let .bytesSent(id, count):
            bytesOutTotal += count
            updateConnection(id) { $0.bytesOut += count }
            return
        case let .uploadStarted(id, name, size):
            updateConnection(id) { $0.upload = UploadRow(name: name.sanitizedForDisplay, received: 0, size: size) }
        case let .uploadProgress(id, received, size):
            updateConnection(id) {
                $0.upload?.received = received
                $0.upload?.size = size
            }
            return
        case let .fileSaved(id, path, size, sha256):
            updateConnection(id) { $0.upload = nil }
            let name = path.split(separator: "/").last.map(String.init) ?? path
            savedFiles.append(SavedFileRow(name: name.sanitizedForDisplay, size: size, sha256: sha256.sanitizedForDisplay, time: clock))
            if savedFiles.count > 500 { savedFiles.removeFirst(savedFiles.count - 500) }
        case let .uploadRejected(id, _):
            updateConnection(id) { $0.upload = nil }
        case .connectionRefused, .connectionDenied, .datagramsEchoed, .datagramsDropped, .error:
            break
        }
        log.append(EventLogFormatter.line(for: event), time: clock, style: Self.logStyle(for: event))
    }

    /// Drops closed connections that have been shown long enough. Returns whether anything changed.
    @discardableResult
    public mutating func expireClosedConnections(now: Double) -> Bool {
        let before = connections.count
        connections.removeAll { $0.closedAt.map { now - $0 >= Self.closedLinger } ?? false }
        return connections.count != before
    }

    /// Adds a line of the console's own (not a server event) to the activity log.
    public mutating func note(_ text: String, clock: String, style: CellStyle = .muted) {
        log.append(text.sanitizedForDisplay, time: clock, style: style)
    }

    private static func logStyle(for event: NetEvent) -> CellStyle {
        switch event {
        case .error, .uploadRejected, .connectionRefused, .connectionDenied: return .bad
        case .fileSaved, .listening: return .good
        case .connectionClosed(_, _, _, _, let reason): return reason == nil ? .muted : .bad
        default: return .normal
        }
    }

    private mutating func update(_ service: String, _ change: (inout ServiceStatus) -> Void) {
        if let index = services.firstIndex(where: { $0.name == service }) {
            change(&services[index])
        } else {
            var status = ServiceStatus(name: service)
            change(&status)
            services.append(status)
        }
    }

    private mutating func updateConnection(_ id: Int, _ change: (inout ConnectionRow) -> Void) {
        // Newest connections are at the end and get the most events.
        if let index = connections.lastIndex(where: { $0.id == id }) { change(&connections[index]) }
    }

    /// Points the client at the console's own servers until the user types another target.
    private mutating func suggestTarget(for service: String, address: SocketAddress) {
        let host = ["0.0.0.0", "::", ""].contains(address.host) ? "127.0.0.1" : address.host
        let text = Endpoint(host: host, port: address.port).description
        if service == Self.echoService && !targetEdited { target.setText(text) }
        if service == Self.filesService && !fileTargetEdited { fileTarget.setText(text) }
    }

    // MARK: Client results

    public mutating func noteEchoSent(_ message: String, target: String, clock: String) {
        transcript.append("→ \(target)  \(message.sanitizedForDisplay)", time: clock, style: .muted)
    }

    public mutating func noteEchoReply(_ reply: String, roundTrip: Double, clock: String) {
        transcript.append("← \(reply.sanitizedForDisplay)  (\(Self.formatRoundTrip(roundTrip)))", time: clock, style: .good)
    }

    public mutating func noteEchoFailed(_ message: String, clock: String) {
        transcript.append("✗ \(message.sanitizedForDisplay)", time: clock, style: .bad)
    }

    public mutating func beginTransfer(name: String) {
        transfer = TransferRow(name: name.sanitizedForDisplay)
    }

    public mutating func apply(_ event: FileSendEvent, clock: String) {
        switch event {
        case .connected(let address):
            transcript.append("connected to \(address) to send \(transfer?.name ?? "a file")", time: clock, style: .muted)
        case let .fileStarted(_, path, size):
            let name = path.split(separator: "/").last.map(String.init) ?? path
            transfer = TransferRow(name: name.sanitizedForDisplay, size: size)
        case let .progress(_, sent, size):
            transfer?.sent = sent
            transfer?.size = size
        case let .fileConfirmed(_, savedAs, sha256):
            if let size = transfer?.size { transfer?.sent = size }
            let shown = savedAs.isEmpty ? (transfer?.name ?? "") : savedAs.sanitizedForDisplay
            transfer?.verdict = "saved as \(shown), sha256 \(String(sha256.sanitizedForDisplay.prefix(12)))"
            transfer?.succeeded = true
            transcript.append("✓ \(transfer?.name ?? "file") \(transfer?.verdict ?? "")", time: clock, style: .good)
        case let .fileRefused(_, reason):
            transfer?.verdict = "refused: \(reason.sanitizedForDisplay)"
            transfer?.succeeded = false
            transcript.append("✗ \(transfer?.name ?? "file") \(transfer?.verdict ?? "")", time: clock, style: .bad)
        case let .failed(message):
            if transfer == nil { transfer = TransferRow(name: "file") }
            transfer?.verdict = "failed: \(message.sanitizedForDisplay)"
            transfer?.succeeded = false
            transfer?.finished = true
            transcript.append("✗ \(transfer?.verdict ?? "")", time: clock, style: .bad)
        case .finished:
            transfer?.finished = true
        }
    }

    public mutating func noteTransferCancelled(clock: String) {
        guard isTransferring else { return }
        transfer?.verdict = "cancelled"
        transfer?.succeeded = false
        transfer?.finished = true
        transcript.append("✗ transfer cancelled", time: clock, style: .bad)
    }

    // MARK: Keys

    /// Applies a key press to the view; returns what the console must do, if anything.
    public mutating func handle(_ key: Key) -> ConsoleAction? {
        if showHelp {
            showHelp = false
            return key == .function(10) || key == .control("c") ? .quit : nil
        }
        switch key {
        case .function(1):
            showHelp = true
            return nil
        case .function(10), .control("c"), .control("q"):
            return .quit
        case .tab:
            moveFocus(by: 1)
            return nil
        case .backTab:
            moveFocus(by: -1)
            return nil
        case .resize:
            return nil
        default:
            break
        }
        if key == .escape && focus != .files {
            focus = .server
            return nil
        }
        switch focus {
        case .server: return handleServerKey(key)
        case .target:
            if key == .enter { focus = .message } else if target.handle(key) { targetEdited = true }
            return nil
        case .fileTarget:
            if key == .enter { focus = .files } else if fileTarget.handle(key) { fileTargetEdited = true }
            return nil
        case .message:
            if key == .enter {
                let line = message.commit()
                return line.isEmpty ? nil : .sendEcho(target: target.text, message: line)
            }
            message.handle(key)
            return nil
        case .files:
            return handleFilesKey(key)
        }
    }

    private mutating func moveFocus(by step: Int) {
        let all = ConsoleFocus.allCases
        let index = all.firstIndex(of: focus)!
        focus = all[(index + step + all.count) % all.count]
    }

    private mutating func handleServerKey(_ key: Key) -> ConsoleAction? {
        switch key {
        case .character("q"), .character("Q"): return .quit
        case .character("?"), .character("h"): showHelp = true
        case .character("s"), .character("S"): return .setListening(!isListening)
        case .character("m"), .character("M"):
            serviceSelection = serviceSelection.next
            return .selectServices(serviceSelection)
        case .character("c"): log.clear()
        case .up, .character("k"): log.scroll(by: 1, height: logViewHeight)
        case .down, .character("j"): log.scroll(by: -1, height: logViewHeight)
        case .pageUp: log.scroll(by: max(1, logViewHeight - 1), height: logViewHeight)
        case .pageDown: log.scroll(by: -max(1, logViewHeight - 1), height: logViewHeight)
        case .home: log.scrollToOldest(height: logViewHeight)
        case .end: log.scrollToNewest()
        case .enter: focus = .message
        default: break
        }
        return nil
    }

    private mutating func handleFilesKey(_ key: Key) -> ConsoleAction? {
        switch key {
        case .escape:
            if picker.filter.isEmpty { focus = .server } else { _ = picker.handle(.control("u")) }
            return nil
        case .control("x"):
            return isTransferring ? .cancelTransfer : nil
        case .control("r"):
            picker.reload()
            return nil
        default:
            if case .picked(let path) = picker.handle(key, pageSize: max(1, pickerViewHeight - 1)) {
                return .sendFile(target: fileTarget.text, path: path)
            }
            return nil
        }
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

    static func pad2(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
}
