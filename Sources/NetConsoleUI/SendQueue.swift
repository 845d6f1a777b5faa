import NetEngine

/// The client pane's send queue: what is marked in the picker, then the items sent one after another, each with
/// its own status. Pure view state; `ConsoleApp` sends the item `startNext` hands it and feeds back its events.
public struct SendQueue: Equatable, Sendable {
    /// A file or folder marked in the picker, not yet queued.
    public struct Mark: Equatable, Sendable {
        /// As shown: bytes that are not UTF-8 as \xNN.
        public var path: String
        /// The path's own bytes, which alone open a file whose name is not UTF-8; also what tells marks apart.
        public var rawPath: [UInt8]
        public var isFolder: Bool
        public var size: Int64

        public init(path: String, rawPath: [UInt8], isFolder: Bool, size: Int64 = 0) {
            self.path = path
            self.rawPath = rawPath
            self.isFolder = isFolder
            self.size = size
        }

        /// The last component, escaped for the screen (a name is attacker bytes: escapes, bidi, invalid UTF-8).
        public var name: String {
            let last = rawPath.split(separator: 0x2F).last.map(Array.init) ?? rawPath
            return FileEntry.escaped(last).sanitizedForDisplay
        }
    }

    public enum Status: Equatable, Sendable {
        case queued
        case sending
        case saved(as: String)
        /// A folder that arrived in part (files skipped here or refused there), under this name.
        case incomplete(as: String)
        case refused(String)
        case failed(String)
        case cancelled

        public var isDone: Bool { self != .queued && self != .sending }
    }

    public struct Item: Equatable, Sendable {
        public var id: Int
        public var mark: Mark
        public var target: String
        public var status = Status.queued
        /// Bytes of the file being sent (a folder: of the file of it being sent) and its size.
        public var sent: Int64 = 0
        public var size: Int64?
        /// A folder's files: saved so far, and in all (known once it has been listed).
        public var filesDone = 0
        public var filesTotal: Int?
        public var filesRefused = 0
        /// A folder's entries the listing skipped (links, special files, unreadable folders).
        public var filesSkipped = 0
        /// The folder's top as the server saved it.
        public var savedTop: String?
        /// Where an interrupted upload of the file resumed: the server had this many bytes already.
        public var resumedAt: Int64?
        public var rate = RateMeter()
        public var startedAt: Double?
        public var endedAt: Double?

        public var name: String { mark.name }
    }

    /// Marked in the picker, in the order they were marked.
    public private(set) var marks: [Mark] = [] {
        didSet { markedPaths = Set(marks.map(\.rawPath)) }
    }
    /// The marks' paths, so each picker row asks in constant time even with a whole large folder marked.
    private var markedPaths: Set<[UInt8]> = []
    public private(set) var items: [Item] = []
    private var nextID = 1
    /// Finished items kept for the screen; older ones go first.
    public static let keptFinished = 50

    public init() {}

    // MARK: Marks

    public func isMarked(_ rawPath: [UInt8]) -> Bool { markedPaths.contains(rawPath) }

    /// Marks it, or unmarks it if it was marked; returns whether it is marked now.
    @discardableResult
    public mutating func toggle(_ mark: Mark) -> Bool {
        if isMarked(mark.rawPath), let index = marks.firstIndex(where: { $0.rawPath == mark.rawPath }) {
            marks.remove(at: index)
            return false
        }
        marks.append(mark)
        return true
    }

    /// Marks every one of `all`, or unmarks them all if each was marked already.
    public mutating func toggleAll(_ all: [Mark]) {
        if !all.isEmpty && all.allSatisfy({ isMarked($0.rawPath) }) {
            let paths = Set(all.map(\.rawPath))
            marks.removeAll { paths.contains($0.rawPath) }
        } else {
            // One assignment, so the index is rebuilt once, not per mark.
            var seen = markedPaths
            marks += all.filter { seen.insert($0.rawPath).inserted }
        }
    }

    public mutating func clearMarks() { marks = [] }

    // MARK: The queue

    /// The item being sent.
    public var current: Item? { items.first { $0.status == .sending } }
    public var isRunning: Bool { items.contains { !$0.status.isDone } }
    public var pendingCount: Int { items.filter { !$0.status.isDone }.count }

    /// The queued item whose path is `rawPath`, if it has not started.
    public func queuedItem(at rawPath: [UInt8]) -> Item? {
        items.first { $0.status == .queued && $0.mark.rawPath == rawPath }
    }

    /// Queues the marks for `target` (after what is queued already) and clears them; returns how many.
    @discardableResult
    public mutating func enqueueMarks(target: String) -> Int {
        let count = marks.count
        for mark in marks {
            items.append(Item(id: nextID, mark: mark, target: target))
            nextID += 1
        }
        marks = []
        trimFinished()
        return count
    }

    /// The next queued item, now sending, unless one is sending already.
    public mutating func startNext(now: Double) -> Item? {
        guard current == nil, let index = items.firstIndex(where: { $0.status == .queued }) else { return nil }
        items[index].status = .sending
        items[index].startedAt = now
        items[index].rate.record(0, at: now)
        return items[index]
    }

    /// Cancels one item; returns whether it was the one being sent (its connection must then be stopped).
    @discardableResult
    public mutating func cancel(id: Int, now: Double) -> Bool {
        guard let index = items.firstIndex(where: { $0.id == id }), !items[index].status.isDone else { return false }
        let wasSending = items[index].status == .sending
        items[index].status = .cancelled
        items[index].endedAt = now
        return wasSending
    }

    /// Cancels everything not done; returns whether an item was being sent.
    @discardableResult
    public mutating func cancelAll(now: Double) -> Bool {
        var wasSending = false
        for item in items where !item.status.isDone { wasSending = cancel(id: item.id, now: now) || wasSending }
        return wasSending
    }

    /// A folder was listed: how many files it will send.
    public mutating func listed(id: Int, files: Int, skipped: Int = 0) {
        update(id) {
            $0.filesTotal = files
            $0.filesSkipped = skipped
        }
    }

    /// Folds in an event of the item's sender. Returns the item's status when this event settled it.
    @discardableResult
    public mutating func apply(_ event: FileSendEvent, to id: Int, now: Double) -> Status? {
        guard let index = items.firstIndex(where: { $0.id == id }), items[index].status == .sending else { return nil }
        var item = items[index]
        defer { items[index] = item }
        switch event {
        case .connected:
            break
        case let .fileStarted(_, _, size):
            item.sent = 0
            item.size = size
            item.resumedAt = nil
        case let .resumed(_, offset, size):
            // Not counted in the rate: those bytes were not sent now.
            item.sent = offset
            item.size = size
            item.resumedAt = offset
        case let .progress(_, sent, size):
            item.rate.record(Int(max(0, sent - item.sent)), at: now)
            item.sent = sent
            item.size = size
        case let .fileConfirmed(_, savedAs, _):
            if let size = item.size { item.sent = size }
            if item.mark.isFolder {
                item.filesDone += 1
            } else {
                item.savedTop = savedAs
            }
        case let .folderConfirmed(_, savedAs):
            // The first folder of a tree is its top.
            if item.savedTop == nil { item.savedTop = savedAs }
        case let .fileRefused(_, reason):
            if item.mark.isFolder {
                item.filesRefused += 1
            } else {
                item.status = .refused(reason.sanitizedForDisplay)
            }
        case let .failed(reason):
            if item.status == .sending { item.status = .failed(reason.sanitizedForDisplay) }
        case let .finished(allConfirmed):
            if item.status == .sending {
                let shown = (item.savedTop ?? "").sanitizedForDisplay
                let savedAs = (shown.isEmpty ? item.name : shown) + (item.mark.isFolder ? "/" : "")
                if item.mark.isFolder && item.filesDone == 0 && item.filesRefused > 0 {
                    item.status = .refused("\(item.filesRefused) of \(item.filesTotal ?? item.filesRefused) files")
                } else if item.mark.isFolder && (item.filesRefused > 0 || item.filesSkipped > 0 || !allConfirmed) {
                    // As `send` ends it: a tree arrives whole or is said to be incomplete.
                    item.status = .incomplete(as: savedAs)
                } else {
                    item.status = .saved(as: savedAs)
                }
            }
        }
        if item.status.isDone && item.endedAt == nil {
            item.endedAt = now
            return item.status
        }
        return nil
    }

    /// What the item's row says after its name: "queued", "sending 45% 4.1 MiB/s", "3/10 files 4.1 MiB/s",
    /// "saved as report (1).txt", "refused: why", "failed: why", "cancelled".
    public static func statusText(_ item: Item, now: Double) -> String {
        switch item.status {
        case .queued: return "queued"
        case .sending:
            let rate = item.rate.bytesPerSecond(now: now).map(ConsoleState.formatRate) ?? "–/s"
            if item.mark.isFolder {
                let total = item.filesTotal.map { "/\($0)" } ?? ""
                return "sending \(item.filesDone)\(total) files \(rate)"
            }
            let percent = item.size.map { $0 > 0 ? "\(Int(item.sent * 100 / $0))%" : "100%" } ?? "0%"
            return (resumedText(item).map { $0 + ", " } ?? "") + "sending \(percent) \(rate)"
        case .saved(let name):
            if item.mark.isFolder { return "saved as \(name) (\(ConsoleState.plural(item.filesDone, "file")))" }
            return "saved as \(name)" + (resumedText(item, done: true).map { " (\($0))" } ?? "")
        case .incomplete(let name):
            let missing = [item.filesRefused > 0 ? "\(item.filesRefused) refused" : nil,
                           item.filesSkipped > 0 ? "\(item.filesSkipped) skipped" : nil].compactMap { $0 }
            return "incomplete: \(name) has \(ConsoleState.plural(item.filesDone, "file"))" + (missing.isEmpty ? "" : ", " + missing.joined(separator: ", "))
        case .refused(let why): return "refused: \(why)"
        case .failed(let why): return "failed: \(why)"
        case .cancelled: return "cancelled"
        }
    }

    /// "resuming at 48 %", as `send` says it, when the server had part of the file ("resumed at" once saved).
    private static func resumedText(_ item: Item, done: Bool = false) -> String? {
        guard let offset = item.resumedAt, let size = item.size else { return nil }
        return "\(done ? "resumed" : "resuming") at \(size > 0 ? offset * 100 / size : 0) %"
    }

    private mutating func update(_ id: Int, _ change: (inout Item) -> Void) {
        if let index = items.firstIndex(where: { $0.id == id }) { change(&items[index]) }
    }

    private mutating func trimFinished() {
        let finished = items.filter(\.status.isDone).count
        guard finished > Self.keptFinished else { return }
        var drop = finished - Self.keptFinished
        items.removeAll { item in
            guard drop > 0, item.status.isDone else { return false }
            drop -= 1
            return true
        }
    }
}
