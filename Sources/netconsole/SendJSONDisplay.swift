import NetEngine
import NetText

/// `send --json`: one JSON object per event on stdout (progress at most once a second per file), for scripts.
final class SendJSONDisplay {
    private let files: [String]
    private var progressAt = -Double.infinity

    init(files: [String]) {
        self.files = files
    }

    func show(_ event: FileSendEvent) {
        switch event {
        case let .connected(address):
            emit("connected", [("address", "\(address)")])
        case let .fileStarted(index, path, size):
            progressAt = -Double.infinity
            emit("file_started", [("index", "\(index)"), ("path", path), ("size", "\(size)")])
        case let .progress(index, sent, size):
            let now = MonotonicClock.now()
            guard sent == size || now - progressAt >= 1 else { return }
            progressAt = now
            emit("progress", [("index", "\(index)"), ("sent", "\(sent)"), ("size", "\(size)")])
        case let .fileConfirmed(index, savedAs, sha256):
            emit("file_confirmed", [("index", "\(index)"), ("path", files[index]), ("saved_as", savedAs), ("sha256", sha256)])
        case let .fileRefused(index, reason):
            emit("file_refused", [("index", "\(index)"), ("path", files[index]), ("reason", reason)])
        case let .failed(message):
            emit("failed", [("reason", message)])
        case let .finished(allConfirmed):
            emit("finished", [("all_confirmed", allConfirmed ? "true" : "false")])
        }
    }

    private func emit(_ event: String, _ fields: [(String, String)]) {
        StandardStreams.writeOutput(Array((EventJSON.line(event: event, fields) + "\n").utf8))
    }
}
