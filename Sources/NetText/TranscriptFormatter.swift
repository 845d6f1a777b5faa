#if canImport(Glibc)
import Glibc
#endif
import NetEngine

/// A connection's transcript as plain text (the format is in docs/TRANSCRIPT.md): a header, then each chunk of
/// payload in the order it crossed, with its time, direction, stream offset and length, as a hex + ASCII dump.
public enum TranscriptFormatter {
    public static let formatLine = "# netconsole transcript 1"

    public static func text(of snapshot: ConnectionSnapshot, savedAt: Double) -> String {
        var lines = [
            formatLine,
            "# connection \(snapshot.id) \(snapshot.service)",
            "# peer \(snapshot.peer)",
            "# local \(snapshot.local?.description ?? "-")",
            "# saved \(timestamp(savedAt))",
            "# bytes in \(snapshot.bytesIn) out \(snapshot.bytesOut)",
            "# kept in \(kept(snapshot.received)) out \(kept(snapshot.sent))",
        ]
        for chunk in snapshot.chunks {
            lines.append("")
            lines.append("\(timestamp(chunk.time)) \(chunk.received ? "in " : "out") offset \(chunk.offset) length \(chunk.bytes.count)")
            lines += HexDump.lines(chunk.bytes, startingAt: chunk.offset).map { "  " + $0 }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private static func kept(_ chunks: [PayloadChunk]) -> String {
        guard let first = chunks.first else { return "0" }
        return "\(chunks.reduce(0) { $0 + $1.bytes.count }) from offset \(first.offset)"
    }

    /// "2026-11-25T15:01:02.123456Z": UTC, microseconds.
    public static func timestamp(_ seconds: Double) -> String {
        var whole = time_t(seconds.rounded(.down))
        var micros = Int(((seconds - Double(whole)) * 1e6).rounded())
        if micros >= 1_000_000 {
            whole += 1
            micros -= 1_000_000
        }
        var parts = tm()
        gmtime_r(&whole, &parts)
        return "\(parts.tm_year + 1900)-\(pad(parts.tm_mon + 1))-\(pad(parts.tm_mday))T\(pad(parts.tm_hour)):\(pad(parts.tm_min))"
            + ":\(pad(parts.tm_sec)).\(String(repeating: "0", count: 6 - String(micros).count))\(micros)Z"
    }

    /// "15:01:02.123", local time, for a screen.
    public static func localClock(_ seconds: Double) -> String {
        var whole = time_t(seconds.rounded(.down))
        let millis = min(999, Int(((seconds - Double(whole)) * 1000).rounded(.down)))
        var parts = tm()
        localtime_r(&whole, &parts)
        let ms = String(millis)
        return "\(pad(parts.tm_hour)):\(pad(parts.tm_min)):\(pad(parts.tm_sec)).\(String(repeating: "0", count: 3 - ms.count))\(ms)"
    }

    private static func pad(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
}
