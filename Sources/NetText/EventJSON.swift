#if canImport(Glibc)
import Glibc
#endif
import NetEngine

/// One JSON object per engine event, for scripts and CI: `{"time":"…","event":"connection_opened","id":3,…}`.
/// Keys are snake_case, times UTC with milliseconds, text fields escaped per RFC 8259 (every control character as
/// \u00XX), so a peer's bytes can never break a line or a parser.
public enum EventJSON {
    public static func line(for event: NetEvent, at time: timespec = now()) -> String {
        var fields: [(String, Value)] = [("time", .text(timestamp(time)))]
        switch event {
        case let .listening(service, address):
            fields += [("event", .text("listening")), ("service", .text(service)), ("address", .text("\(address)"))]
        case let .stoppedListening(service, address):
            fields += [("event", .text("stopped_listening")), ("service", .text(service)), ("address", .text("\(address)"))]
        case let .connectionOpened(id, service, peer):
            fields += [("event", .text("connection_opened")), ("id", .number(Int64(id))), ("service", .text(service)),
                       ("peer", .text("\(peer)"))]
        case let .connectionClosed(id, peer, bytesIn, bytesOut, reason):
            fields += [("event", .text("connection_closed")), ("id", .number(Int64(id))), ("peer", .text("\(peer)")),
                       ("bytes_in", .number(Int64(bytesIn))), ("bytes_out", .number(Int64(bytesOut))),
                       ("reason", reason.map(Value.text) ?? .null)]
        case let .connectionRefused(peer, reason):
            fields += [("event", .text("connection_refused")), ("peer", .text("\(peer)")), ("reason", .text(reason))]
        case let .connectionDenied(service, peer, reason):
            fields += [("event", .text("connection_denied")), ("service", .text(service)), ("peer", .text("\(peer)")),
                       ("reason", .text(reason))]
        case let .tlsHandshakeFailed(id, peer, reason):
            fields += [("event", .text("tls_handshake_failed")), ("id", .number(Int64(id))), ("peer", .text("\(peer)")),
                       ("reason", .text(reason))]
        case let .datagramsEchoed(service, peer, datagrams, bytes):
            fields += [("event", .text("datagrams_echoed")), ("service", .text(service)), ("peer", .text("\(peer)")),
                       ("datagrams", .number(Int64(datagrams))), ("bytes", .number(Int64(bytes)))]
        case let .datagramsDropped(service, peer, count, reason):
            fields += [("event", .text("datagrams_dropped")), ("service", .text(service)), ("peer", .text("\(peer)")),
                       ("count", .number(Int64(count))), ("reason", .text(reason))]
        case let .bytesReceived(id, count):
            fields += [("event", .text("bytes_received")), ("id", .number(Int64(id))), ("count", .number(Int64(count)))]
        case let .payload(id, received, bytes):
            fields += [("event", .text("payload")), ("id", .number(Int64(id))), ("direction", .text(received ? "received" : "sent")),
                       ("hex", .text(hexString(bytes)))]
        case let .payloadNotShown(id, received, sent):
            fields += [("event", .text("payload_not_shown")), ("id", .number(Int64(id))), ("received", .number(Int64(received))),
                       ("sent", .number(Int64(sent)))]
        case let .bytesSent(id, count):
            fields += [("event", .text("bytes_sent")), ("id", .number(Int64(id))), ("count", .number(Int64(count)))]
        case let .uploadStarted(id, name, size):
            fields += [("event", .text("upload_started")), ("id", .number(Int64(id))), ("name", .text(name)),
                       ("size", size.map(Value.number) ?? .null)]
        case let .uploadProgress(id, received, size):
            fields += [("event", .text("upload_progress")), ("id", .number(Int64(id))), ("received", .number(received)),
                       ("size", size.map(Value.number) ?? .null)]
        case let .fileSaved(id, path, size, sha256):
            fields += [("event", .text("file_saved")), ("id", .number(Int64(id))), ("path", .text(path)),
                       ("size", .number(size)), ("sha256", .text(sha256))]
        case let .uploadRejected(id, reason):
            fields += [("event", .text("upload_rejected")), ("id", .number(Int64(id))), ("reason", .text(reason))]
        case let .treeStarted(id, tree):
            fields += [("event", .text("tree_started")), ("id", .number(Int64(id))), ("name", .text(tree.top))] + announced(tree)
        case let .treeReceived(id, tree):
            fields += [("event", .text("tree_received")), ("id", .number(Int64(id))), ("name", .text(tree.top)),
                       ("files", .number(Int64(tree.files))), ("folders", .number(Int64(tree.folders))), ("bytes", .number(tree.bytes)),
                       ("failed", .number(Int64(tree.failed))), ("skipped", .number(tree.skipped)),
                       ("interrupted", .bool(tree.interrupted))] + announced(tree)
        case let .error(message):
            fields += [("event", .text("error")), ("message", .text(message))]
        }
        return "{" + fields.map { "\"\($0.0)\":\($0.1.json)" }.joined(separator: ",") + "}"
    }

    /// A JSON object with `event` and text `fields`, for what is not an engine event (a note from the command).
    public static func line(event: String, _ fields: [(String, String)], at time: timespec = now()) -> String {
        let all = [("time", Value.text(timestamp(time))), ("event", .text(event))] + fields.map { ($0.0, Value.text($0.1)) }
        return "{" + all.map { "\"\($0.0)\":\($0.1.json)" }.joined(separator: ",") + "}"
    }

    public static func now() -> timespec {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return time
    }

    private enum Value {
        case text(String)
        case number(Int64)
        case bool(Bool)
        case null

        var json: String {
            switch self {
            case let .text(text): return EventJSON.quoted(text)
            case let .number(number): return String(number)
            case let .bool(value): return value ? "true" : "false"
            case .null: return "null"
            }
        }
    }

    /// The sender's announced total (null when it said none), kept apart from what arrived.
    private static func announced(_ tree: FileServerMachine.TreeSummary) -> [(String, Value)] {
        [("announced_files", tree.announced.map { .number($0.files) } ?? .null),
         ("announced_bytes", tree.announced.map { .number($0.bytes) } ?? .null)]
    }

    static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F || (0x80..<0xA0).contains(scalar.value)
                    || scalar.value == 0x2028 || scalar.value == 0x2029 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    /// "2026-11-25T13:50:01.123Z".
    private static func timestamp(_ time: timespec) -> String {
        var seconds = time.tv_sec
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ value: Int32, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        let millis = Int32(time.tv_nsec / 1_000_000)
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(pad(millis, 3))Z"
    }
}
