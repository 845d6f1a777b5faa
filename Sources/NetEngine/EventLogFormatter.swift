/// One human line per engine event, shared by the headless log and the TUI's activity log.
public enum EventLogFormatter {
    public static func line(for event: NetEvent) -> String {
        switch event {
        case let .listening(service, address):
            return "\(service) server listening on \(address)"
        case let .stoppedListening(service, address):
            return "\(service) server on \(address) stopped"
        case let .connectionOpened(id, service, peer):
            return "#\(id) \(peer) connected (\(service))"
        case let .connectionClosed(id, peer, bytesIn, bytesOut, reason):
            let why = reason.map { ": \($0.sanitizedForDisplay)" } ?? ""
            return "#\(id) \(peer) closed, \(bytesIn) bytes in, \(bytesOut) bytes out\(why)"
        case let .connectionRefused(peer, reason):
            return "\(peer) refused: \(reason.sanitizedForDisplay)"
        case let .connectionDenied(service, peer, reason):
            return "\(peer) denied (\(service)): \(reason.sanitizedForDisplay)"
        case let .datagramsEchoed(service, peer, datagrams, bytes):
            return "\(peer) \(service): \(datagrams) datagram\(datagrams == 1 ? "" : "s") (\(bytes) bytes) echoed so far"
        case let .datagramsDropped(service, peer, count, reason):
            return "\(peer) \(service): \(count) datagram\(count == 1 ? "" : "s") dropped so far: \(reason.sanitizedForDisplay)"
        case let .bytesReceived(id, count):
            return "#\(id) received \(count) bytes"
        case let .bytesSent(id, count):
            return "#\(id) sent \(count) bytes"
        case let .uploadStarted(id, name, size):
            return "#\(id) upload of '\(name.sanitizedForDisplay)' started" + (size.map { " (\(ByteCount.format($0)))" } ?? "")
        case let .uploadProgress(id, received, size):
            return "#\(id) upload progress \(ByteCount.format(received))" + (size.map { " of \(ByteCount.format($0))" } ?? "")
        case let .fileSaved(id, path, size, sha256):
            return "#\(id) saved \(path.sanitizedForDisplay) (\(size) bytes, sha256 \(sha256))"
        case let .uploadRejected(id, reason):
            return "#\(id) upload rejected: \(reason.sanitizedForDisplay)"
        case let .error(message):
            return "error: \(message.sanitizedForDisplay)"
        }
    }
}

extension String {
    /// The text with control characters (escape sequences, newlines, NUL, DEL, C1) shown as visible escapes,
    /// so a peer's bytes can never drive the terminal.
    public var sanitizedForDisplay: String {
        var out = ""
        out.reserveCapacity(utf8.count)
        for scalar in unicodeScalars {
            switch scalar.value {
            case 0x20..<0x7F: out.unicodeScalars.append(scalar)
            case 0x09: out += "\\t"
            case 0x0A: out += "\\n"
            case 0x0D: out += "\\r"
            case 0..<0x20, 0x7F, 0x80..<0xA0, 0x2028, 0x2029, 0x202A...0x202E, 0x2066...0x2069:
                out += "\\u{\(String(scalar.value, radix: 16))}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}

/// Byte counts as people write them: "64K", "1.5 MiB", "1G".
public enum ByteCount {
    /// Parses "1048576", "64K", "64KiB", "10M", "1G" (binary multiples).
    public static func parse(_ text: String) -> Int64? {
        let trimmed = text.trimmingWhitespace().uppercased()
        let digits = trimmed.prefix { $0.isNumber || $0 == "." }
        guard let value = Double(digits), value >= 0 else { return nil }
        var unit = String(trimmed.dropFirst(digits.count)).trimmingWhitespace()
        if unit.hasSuffix("IB") { unit = String(unit.dropLast(2)) } else if unit.hasSuffix("B") { unit = String(unit.dropLast()) }
        let multiplier: Double
        switch unit {
        case "": multiplier = 1
        case "K": multiplier = 1024
        case "M": multiplier = 1024 * 1024
        case "G": multiplier = 1024 * 1024 * 1024
        case "T": multiplier = 1024 * 1024 * 1024 * 1024
        default: return nil
        }
        let result = value * multiplier
        guard result < Double(Int64.max) else { return nil }
        return Int64(result)
    }

    /// "512 B", "1.5 KiB", "3.2 MiB", "1.0 GiB".
    public static func format(_ count: Int64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(count)
        var index = 0
        while value >= 1024 && index < units.count - 1 {
            value /= 1024
            index += 1
        }
        if index == 0 { return "\(count) B" }
        let rounded = (value * 10).rounded() / 10
        return "\(rounded) \(units[index])"
    }

    public static func format(_ count: Int) -> String { format(Int64(count)) }
}
