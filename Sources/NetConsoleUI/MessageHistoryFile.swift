#if canImport(Glibc)
import Glibc
#endif

/// The message history kept across runs: one line per message in `$XDG_STATE_HOME/netconsole/history`
/// (`~/.local/state/netconsole/history`), readable only by its owner; a message's line breaks are stored as `\n`.
/// The recent targets are kept the same way, in `echo-targets` and `files-targets` beside it.
public struct MessageHistoryFile: Sendable {
    public let path: String
    public let limit: Int

    public init(path: String, limit: Int = 100) {
        self.path = path
        self.limit = limit
    }

    /// The file `name` in the state folder the environment names, or nil without one.
    public static func inStateFolder(_ name: String = "history", limit: Int = 100) -> MessageHistoryFile? {
        let state: String
        if let xdg = environment("XDG_STATE_HOME"), xdg.hasPrefix("/") {
            state = xdg
        } else if let home = environment("HOME"), home.hasPrefix("/") {
            state = home + "/.local/state"
        } else {
            return nil
        }
        return MessageHistoryFile(path: state + "/netconsole/" + name, limit: limit)
    }

    /// The newest `limit` messages, oldest first; none when the file is missing or unreadable.
    public func load() -> [String] { Array(allLines().suffix(limit)) }

    private func allLines() -> [String] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return [] }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = read(fd, &buffer, buffer.count)
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { break }
            bytes += buffer[0..<n]
        }
        return bytes.split(separator: UInt8(ascii: "\n")).map { Self.decode(String(decoding: $0, as: UTF8.self)) }
    }

    /// Adds a message; the folder is made (private) when missing. Failures are ignored: history is a convenience.
    public func append(_ message: String) {
        makeFolders()
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return }
        defer { close(fd) }
        var line = Array((Self.encode(message) + "\n").utf8)
        _ = write(fd, &line, line.count)
    }

    /// Keeps the file from growing without end: rewritten with the newest `limit` lines when it is much longer.
    public func trim() {
        let all = allLines()
        guard all.count > limit * 5 else { return }
        let lines = all.suffix(limit)
        let temporary = path + ".new"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return }
        var text = Array(lines.map { Self.encode($0) + "\n" }.joined().utf8)
        let written = write(fd, &text, text.count)
        close(fd)
        if written == text.count { rename(temporary, path) } else { unlink(temporary) }
    }

    static func encode(_ message: String) -> String {
        var out = ""
        for character in message {
            switch character {
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r\n": out += "\\n"
            case "\r": out += "\\n"
            default: out.append(character)
            }
        }
        return out
    }

    static func decode(_ line: String) -> String {
        var out = ""
        var escaped = false
        for character in line {
            if escaped {
                out.append(character == "n" ? "\n" : character)
                escaped = false
            } else if character == "\\" {
                escaped = true
            } else {
                out.append(character)
            }
        }
        return out
    }

    private func makeFolders() {
        var folder = ""
        for part in path.split(separator: "/").dropLast() {
            folder += "/" + part
            mkdir(folder, 0o700)
        }
    }

    private static func environment(_ name: String) -> String? {
        guard let value = getenv(name), value.pointee != 0 else { return nil }
        return String(cString: value)
    }
}
