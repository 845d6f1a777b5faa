/// One line of the file picker.
public struct FileEntry: Equatable, Sendable {
    public enum Kind: Equatable, Sendable { case parent, directory, file, fifo, socket, device, dangling }
    /// The name to show and filter by: bytes that are not UTF-8 are written \xff.
    public var name: String
    public var kind: Kind
    public var size: Int64
    /// A symbolic link; `kind` is what it points to.
    public var isLink: Bool
    /// The name's bytes as the folder has them, which alone open the file when they are not UTF-8.
    public var rawName: [UInt8]

    public init(name: String, kind: Kind, size: Int64 = 0, isLink: Bool = false, rawName: [UInt8]? = nil) {
        self.name = name
        self.kind = kind
        self.size = size
        self.isLink = isLink
        self.rawName = rawName ?? Array(name.utf8)
    }

    /// An entry for a name as read from a folder.
    init(rawName: [UInt8], kind: Kind, size: Int64, isLink: Bool) {
        self.init(name: Self.escaped(rawName), kind: kind, size: size, isLink: isLink, rawName: rawName)
    }

    public var isUTF8: Bool { String(validating: rawName, as: UTF8.self) != nil }

    /// The name as `ls -F` marks it: folders /, links @, FIFOs |, sockets =.
    public var markedName: String {
        if kind == .parent { return name + "/" }
        if isLink { return name + "@" + (kind == .directory ? "/" : "") }
        switch kind {
        case .directory: return name + "/"
        case .fifo: return name + "|"
        case .socket: return name + "="
        default: return name
        }
    }

    /// What the size column says.
    public var sizeText: String {
        switch kind {
        case .parent: return "up"
        case .directory: return "dir"
        case .file: return ConsoleState.formatBytes(Int(size))
        case .fifo: return "fifo"
        case .socket: return "socket"
        case .device: return "device"
        case .dangling: return "broken link"
        }
    }

    /// Why Enter cannot send it, for what is neither a folder nor a regular file.
    public var notSendable: String? {
        switch kind {
        case .fifo: return "a FIFO (named pipe), not a file"
        case .socket: return "a socket, not a file"
        case .device: return "a device, not a file"
        case .dangling: return "a link to something that does not exist"
        default: return nil
        }
    }

    /// UTF-8 as it is; every byte that is not part of a valid sequence as \xNN.
    static func escaped(_ bytes: [UInt8]) -> String {
        if let text = String(validating: bytes, as: UTF8.self) { return text }
        var out = ""
        var index = 0
        while index < bytes.count {
            let lead = bytes[index]
            let length = lead < 0x80 ? 1 : lead >> 5 == 0b110 ? 2 : lead >> 4 == 0b1110 ? 3 : lead >> 3 == 0b11110 ? 4 : 0
            if length > 0, index + length <= bytes.count, let text = String(validating: bytes[index..<(index + length)], as: UTF8.self) {
                out += text
                index += length
            } else {
                let hex = Array("0123456789abcdef")
                out += "\\x" + String(hex[Int(lead >> 4)]) + String(hex[Int(lead & 0xF)])
                index += 1
            }
        }
        return out
    }
}
