/// One line of the file picker.
public struct FileEntry: Equatable, Sendable {
    public enum Kind: Equatable, Sendable { case parent, directory, file }
    public var name: String
    public var kind: Kind
    public var size: Int64

    public init(name: String, kind: Kind, size: Int64 = 0) {
        self.name = name
        self.kind = kind
        self.size = size
    }
}

/// Browses folders to choose a file: typing filters the list, Enter opens a folder or picks a file.
public struct FilePicker: Equatable, Sendable {
    public private(set) var directory: String
    public private(set) var entries: [FileEntry] = []
    public private(set) var filter = ""
    public private(set) var selection = 0
    /// Why the folder could not be read, shown in place of the list.
    public private(set) var problem: String?

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

    public enum Outcome: Equatable { case none, picked(path: String) }

    /// Applies a key. Returns `.picked` when Enter chose a file.
    public mutating func handle(_ key: Key, pageSize: Int = 10) -> Outcome {
        switch key {
        case .character(let c):
            filter.append(c)
            selection = 0
            skipParentWhenFiltering()
        case .backspace:
            if filter.isEmpty { open(directory: FolderPath.parent(of: directory)) }
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
        case .left: open(directory: FolderPath.parent(of: directory))
        case .enter, .right:
            guard let entry = selectedEntry else { return .none }
            switch entry.kind {
            case .parent: open(directory: FolderPath.parent(of: directory))
            case .directory: open(directory: path(of: entry))
            case .file: return key == .enter ? .picked(path: path(of: entry)) : .none
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

    public mutating func open(directory newDirectory: String) {
        directory = FolderPath.normalized(newDirectory.isEmpty ? "/" : newDirectory)
        filter = ""
        selection = 0
        reload()
    }

    /// Reads the folder again (folders first, then files, each by name).
    public mutating func reload() {
        if let items = FolderListing.read(directory) {
            let folders = items.filter(\.isFolder).map { FileEntry(name: $0.name, kind: .directory) }
            let files = items.filter { !$0.isFolder }.map { FileEntry(name: $0.name, kind: .file, size: $0.size) }
            let byName: (FileEntry, FileEntry) -> Bool = { $0.name.lowercased() < $1.name.lowercased() }
            entries = (directory == "/" ? [] : [FileEntry(name: "..", kind: .parent)]) + folders.sorted(by: byName) + files.sorted(by: byName)
            problem = nil
        } else {
            entries = directory == "/" ? [] : [FileEntry(name: "..", kind: .parent)]
            problem = "cannot read this folder"
        }
        selection = min(selection, max(0, visibleEntries.count - 1))
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
