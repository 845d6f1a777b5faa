import Glibc

/// What `FolderListing.read` found in a folder: each name as the kernel has it and what it is.
struct FolderListing {
    struct Item {
        /// The name's bytes: a name need not be UTF-8, and only these bytes open the file.
        var rawName: [UInt8]
        var kind: FileEntry.Kind
        var isLink: Bool
        var size: Int64
    }

    /// Reads the folder's entries except "." and ".."; the reason (strerror) when the folder cannot be opened.
    /// Links are followed for the kind and size; a link to nothing is listed as `.dangling`.
    static func read(_ folder: String) -> Result<[Item], FolderError> {
        guard let stream = opendir(folder) else { return .failure(FolderError(code: errno)) }
        defer { closedir(stream) }
        let folderBytes = Array(folder.utf8)
        var items: [Item] = []
        while let entry = readdir(stream) {
            let rawName = withUnsafeBytes(of: entry.pointee.d_name) { Array($0.prefix(while: { $0 != 0 })) }
            if rawName == [0x2E] || rawName == [0x2E, 0x2E] { continue }
            let path = folderBytes + (folderBytes.last == 0x2F ? [] : [0x2F]) + rawName + [0]
            var info = stat()
            var isLink = false
            let found = path.withUnsafeBufferPointer { buffer -> Bool in
                let cPath = UnsafeRawPointer(buffer.baseAddress!).assumingMemoryBound(to: CChar.self)
                guard lstat(cPath, &info) == 0 else { return false }
                if (info.st_mode & S_IFMT) == S_IFLNK {
                    isLink = true
                    if stat(cPath, &info) != 0 { info.st_mode = 0 }
                }
                return true
            }
            // Gone between readdir and lstat: nothing to list.
            guard found else { continue }
            let kind: FileEntry.Kind
            switch info.st_mode & S_IFMT {
            case S_IFDIR: kind = .directory
            case S_IFREG: kind = .file
            case S_IFIFO: kind = .fifo
            case S_IFSOCK: kind = .socket
            case 0: kind = .dangling
            default: kind = .device
            }
            items.append(Item(rawName: rawName, kind: kind, isLink: isLink, size: kind == .file ? Int64(info.st_size) : 0))
        }
        return .success(items)
    }
}

/// Why a folder could not be read.
struct FolderError: Error, Equatable {
    var code: Int32

    var description: String { String(cString: strerror(code)) }
}
