import NetEngine
import NetText

/// `send --json`: one JSON object per event on stdout (progress at most once a second per file), for scripts.
final class SendJSONDisplay {
    private let files: [String]
    private var progressAt = -Double.infinity
    private var counter = TreeSendSummary.Counter()
    private var sizes: [Int: Int64] = [:]

    init(files: [String]) {
        self.files = files
    }

    func show(_ event: FileSendEvent) {
        switch event {
        case let .connected(address):
            emit("connected", [("address", "\(address)")])
        case let .fileStarted(index, path, size):
            progressAt = -Double.infinity
            sizes[index] = size
            emit("file_started", [("index", "\(index)"), ("path", path), ("size", "\(size)")])
        case let .progress(index, sent, size):
            let now = MonotonicClock.now()
            guard sent == size || now - progressAt >= 1 else { return }
            progressAt = now
            emit("progress", [("index", "\(index)"), ("sent", "\(sent)"), ("size", "\(size)")])
        case let .resumed(index, offset, size):
            emit("resumed", [("index", "\(index)"), ("offset", "\(offset)"), ("size", "\(size)")])
        case let .folderConfirmed(index, savedAs):
            counter.note(event, size: 0, index: index)
            emit("folder_confirmed", [("index", "\(index)"), ("path", files[index]), ("saved_as", savedAs)])
        case let .fileConfirmed(index, savedAs, sha256):
            counter.note(event, size: sizes[index] ?? 0, index: index)
            emit("file_confirmed", [("index", "\(index)"), ("path", files[index]), ("saved_as", savedAs), ("sha256", sha256)])
        case let .fileRefused(index, reason):
            emit("file_refused", [("index", "\(index)"), ("path", files[index]), ("reason", reason)])
        case let .failed(message):
            emit("failed", [("reason", message)])
        case let .finished(allConfirmed):
            emit("finished", [("all_confirmed", allConfirmed ? "true" : "false")])
        }
    }

    func skipped(_ skipped: FolderWalk.Skipped) {
        emit("skipped", [("path", skipped.path), ("reason", skipped.reason)])
    }

    func summary(_ tree: TreeSendSummary) {
        let counts = tree.counts(with: counter)
        emit("summary", [("files", "\(counts.files)"), ("folders", "\(counts.folders)"), ("bytes", "\(counts.bytes)"),
                         ("skipped", "\(counts.skipped)"), ("failed", "\(counts.failed)")])
    }

    private func emit(_ event: String, _ fields: [(String, String)]) {
        StandardStreams.writeOutput(Array((EventJSON.line(event: event, fields) + "\n").utf8))
    }
}
