import NetEngine
import NetText

/// The last word of a `send` that had folders in it: files and bytes that arrived, folders made, entries skipped
/// (links, devices) and entries that failed (refused, or never answered).
struct TreeSendSummary {
    /// What the events said arrived.
    struct Counter {
        var files = 0
        var folders = 0
        var bytes: Int64 = 0

        mutating func note(_ event: FileSendEvent, size: Int64, index: Int) {
            switch event {
            case .fileConfirmed:
                files += 1
                bytes += size
            case .folderConfirmed:
                folders += 1
            default:
                break
            }
        }
    }

    let items: [SendItem]
    let skipped: Int

    func counts(with counter: Counter) -> (files: Int, folders: Int, bytes: Int64, skipped: Int, failed: Int) {
        let expected = items.filter { item in
            if case .treeEnd = item.entry { return false } else { return true }
        }.count
        return (counter.files, counter.folders, counter.bytes, skipped, expected - counter.files - counter.folders)
    }

    func line(with counter: Counter) -> String {
        let counts = counts(with: counter)
        let whole = counts.skipped == 0 && counts.failed == 0
        return "\(whole ? "all arrived" : "incomplete"): \(Self.count(counts.files, "file")) (\(ByteCount.format(counts.bytes))), "
            + "\(Self.count(counts.folders, "folder")), \(counts.skipped) skipped, \(counts.failed) failed"
    }

    static func count(_ number: Int, _ noun: String) -> String { "\(number) \(noun)\(number == 1 ? "" : "s")" }
}
