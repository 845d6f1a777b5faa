import NetEngine

/// A folder tree arriving on an upload connection: one row for the whole tree, however many files it holds.
extension ConsoleState {
    public struct FolderArrivalRow: Equatable {
        /// The tree's top folder as sent (escaped for the screen).
        public var top: String
        public var files = 0
        public var bytes: Int64 = 0
        public var failed = 0
        /// The files its sender announced at the tree's start; nil when it said nothing (an older sender).
        public var total: Int64?

        public init(top: String, total: Int64? = nil) {
            self.top = top
            self.total = total
        }

        /// "3/10 files photos/" (the / says it is a folder), or "3 files photos/" without an announced total, what
        /// failed before the name: a narrow STATE column keeps the counts and cuts the name in the middle (the IN column
        /// has the bytes). The total is the sender's word: done is never shown above it.
        public var text: String { lead + name }

        /// The counts, which a narrow column keeps whole: "3/10 files 1 failed ".
        var lead: String {
            let done = total.map { "\(min(Int64(files), $0))/\($0)" } ?? "\(files)"
            return "\(done) file\((total ?? Int64(files)) == 1 ? "" : "s")" + (failed > 0 ? " \(failed) failed" : "") + " "
        }

        /// The folder, which a narrow column cuts: "photos/".
        var name: String { "\(top)/" }
    }

    /// What closing `row` would lose, said once: a folder arriving is left incomplete (its files so far are saved),
    /// an upload on its own is lost.
    static func uploadLoss(_ row: ConnectionRow, more: Int = 0) -> String? {
        let others = more > 0 ? " and \(more) more" : ""
        if let folder = row.folder {
            return "folder \(folder.name.truncated(toWidth: 30)) (\(folder.lead)so far)\(others) will be left incomplete"
        }
        // A resumable upload (what `netconsole send` makes) is kept for its sender to resume; any other is lost.
        return row.upload.map { "upload of \($0.name.truncated(toWidth: 30))\(others) stops (kept to resume if its sender can)" }
    }

    /// The top folder of a tree entry's name ("top/sub/file"), or nil for a file on its own. Split on the `/`
    /// byte, never on `Character`s (a `/` followed by a combining mark is one `Character`).
    static func treeTop(of name: String) -> String? {
        let bytes = Array(name.utf8)
        guard let slash = bytes.firstIndex(of: UInt8(ascii: "/")), slash > 0 else { return nil }
        return String(decoding: bytes[..<slash], as: UTF8.self)
    }

    /// A tree's top folder was made: the connection's folder row starts, with the total its sender announced.
    mutating func noteTreeStarted(_ id: Int, _ summary: FileServerMachine.TreeSummary) {
        updateConnection(id) { $0.folder = FolderArrivalRow(top: summary.top.sanitizedForDisplay, total: summary.announced?.files) }
    }

    /// An upload started: a tree's file starts (or continues) the connection's folder row.
    mutating func noteTreeUpload(_ id: Int, name: String) {
        guard let top = Self.treeTop(of: name) else { return }
        updateConnection(id) { row in
            if row.folder == nil { row.folder = FolderArrivalRow(top: top.sanitizedForDisplay) }
        }
    }

    /// A file was saved; true when it belongs to a tree and was counted in its folder row (not the saved list).
    mutating func noteTreeFileSaved(_ id: Int, size: Int64) -> Bool {
        guard let row = connections.last(where: { $0.id == id }), row.folder != nil, row.upload.map({ Self.treeTop(of: $0.name) != nil }) ?? false else { return false }
        updateConnection(id) {
            $0.folder?.files += 1
            $0.folder?.bytes += size
        }
        return true
    }

    mutating func noteTreeFileRejected(_ id: Int) {
        guard let row = connections.last(where: { $0.id == id }), row.folder != nil, row.upload.map({ Self.treeTop(of: $0.name) != nil }) ?? false else { return }
        updateConnection(id) { $0.folder?.failed += 1 }
    }

    /// The tree's end: its row goes, and the saved list gains the folder as the server saved it.
    mutating func noteTreeReceived(_ id: Int, _ summary: FileServerMachine.TreeSummary, clock: String) {
        updateConnection(id) { $0.folder = nil }
        addSaved(SavedFileRow(name: summary.top.sanitizedForDisplay + "/", size: summary.bytes, sha256: "", time: clock, files: summary.files))
    }
}
