import Glibc

/// Browses folders to choose a file: typing filters the list, Enter opens a folder or picks a file.
public struct FilePicker: Equatable, Sendable {
    public private(set) var directory: String
    public private(set) var entries: [FileEntry] = []
    public private(set) var filter = ""
    public private(set) var selection = 0
    /// Why the folder could not be read, shown in place of the list.
    public private(set) var problem: String?
    /// The folder's modification time and inode when it was read, to read it again when it changes.
    private var modified: [Int] = []

    public init(directory: String) {
        self.directory = FolderPath.normalized(directory)
        reload()
    }

    /// The entries that match the filter: case-insensitive substring, ".." always kept; dot files only when the
    /// filter itself starts with a dot.
    public var visibleEntries: [FileEntry] {
        let needle = filter.lowercased()
        return entries.filter { entry in
            if entry.kind == .parent { return needle.isEmpty }
            if entry.name.hasPrefix(".") && !needle.hasPrefix(".") { return false }
            return needle.isEmpty || entry.name.lowercased().contains(needle)
        }
    }

    public var selectedEntry: FileEntry? {
        let visible = visibleEntries
        return visible.indices.contains(selection) ? visible[selection] : nil
    }

    public func path(of entry: FileEntry) -> String {
        FolderPath.normalized(FolderPath.appending(entry.name, to: directory))
    }

    /// The path's bytes as the kernel needs them: the folder, then the name's own bytes (which need not be UTF-8).
    public func rawPath(of entry: FileEntry) -> [UInt8] {
        Array(directory.utf8) + (directory.hasSuffix("/") ? [] : [0x2F]) + entry.rawName
    }

    public enum Outcome: Equatable {
        case none
        /// A file to send; `rawPath` opens it (its name may not be UTF-8), `path` is for showing.
        case picked(path: String)
        case pickedBytes(path: String, rawPath: [UInt8])
        /// Enter on something that cannot be sent (a FIFO, a socket, a broken link): why.
        case refused(String)
    }

    /// Applies a key. Returns `.picked` when Enter chose a file.
    public mutating func handle(_ key: Key, pageSize: Int = 10) -> Outcome {
        switch key {
        case .character(let c):
            filter.append(c)
            selection = 0
            skipParentWhenFiltering()
        case .backspace:
            if filter.isEmpty { goUp() }
            else {
                filter.removeLast()
                selection = 0
            }
        case .control("u"):
            filter = ""
            selection = 0
        case .up: moveSelection(by: -1)
        case .down: moveSelection(by: 1)
        case .pageUp: moveSelection(by: -max(1, pageSize))
        case .pageDown: moveSelection(by: max(1, pageSize))
        case .home: selection = 0
        case .end: selection = max(0, visibleEntries.count - 1)
        case .left: goUp()
        case .enter, .right:
            guard let entry = selectedEntry else { return .none }
            switch entry.kind {
            case .parent: goUp()
            case .directory:
                // The folder is kept as a String, which cannot hold such a name: say so instead of a misleading error.
                guard entry.isUTF8 else { return key == .enter ? .refused("\(entry.name): a folder whose name is not UTF-8 cannot be opened here") : .none }
                open(directory: path(of: entry))
            case .file:
                guard key == .enter else { return .none }
                return entry.isUTF8 ? .picked(path: path(of: entry)) : .pickedBytes(path: path(of: entry), rawPath: rawPath(of: entry))
            case .fifo, .socket, .device, .dangling:
                return key == .enter ? .refused("\(entry.name): \(entry.notSendable ?? "not a file")") : .none
            }
        default:
            break
        }
        return .none
    }

    /// Selects the entry at `index` of `visibleEntries` (a click).
    public mutating func select(_ index: Int) {
        let count = visibleEntries.count
        guard count > 0 else { return }
        selection = min(max(0, index), count - 1)
    }

    /// Opens the parent folder with the folder left selected, so going back in is one Enter.
    public mutating func goUp() {
        let left = directory
        open(directory: FolderPath.parent(of: directory))
        guard left != directory, let name = left.split(separator: "/").last.map(String.init) else { return }
        if let index = visibleEntries.firstIndex(where: { $0.kind == .directory && $0.name == name }) { selection = index }
    }

    public mutating func open(directory newDirectory: String) {
        directory = FolderPath.normalized(newDirectory.isEmpty ? "/" : newDirectory)
        filter = ""
        selection = 0
        reload()
    }

    /// Reads the folder again (folders first, then the rest, each by name); the selection stays on its name.
    public mutating func reload() {
        let selectedName = selectedEntry?.rawName
        let parent = directory == "/" ? [] : [FileEntry(name: "..", kind: .parent)]
        switch FolderListing.read(directory) {
        case .success(let items):
            let all = items.map { FileEntry(rawName: $0.rawName, kind: $0.kind, size: $0.size, isLink: $0.isLink) }
            let byName: (FileEntry, FileEntry) -> Bool = { $0.name.lowercased() < $1.name.lowercased() }
            entries = parent + all.filter { $0.kind == .directory }.sorted(by: byName) + all.filter { $0.kind != .directory }.sorted(by: byName)
            problem = nil
        case .failure(let error):
            entries = parent
            problem = "cannot read this folder: \(error.description)"
        }
        modified = Self.modificationTime(of: directory)
        if let selectedName, let index = visibleEntries.firstIndex(where: { $0.rawName == selectedName }) {
            selection = index
        } else {
            selection = min(selection, max(0, visibleEntries.count - 1))
        }
    }

    /// Reads the folder again if it changed since it was read (its modification time moved); returns whether it did.
    @discardableResult
    public mutating func reloadIfChanged() -> Bool {
        guard Self.modificationTime(of: directory) != modified else { return false }
        reload()
        return true
    }

    private static func modificationTime(of folder: String) -> [Int] {
        var info = stat()
        guard stat(folder, &info) == 0 else { return [] }
        return [info.st_mtim.tv_sec, info.st_mtim.tv_nsec, Int(info.st_ino)]
    }

    private mutating func moveSelection(by delta: Int) {
        let count = visibleEntries.count
        guard count > 0 else { selection = 0; return }
        selection = min(count - 1, max(0, selection + delta))
    }

    private mutating func skipParentWhenFiltering() {
        if selectedEntry?.kind == .parent && visibleEntries.count > 1 { selection = 1 }
    }
}
