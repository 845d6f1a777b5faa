import NetEngine

/// The client pane: file transfers as they happen, and what went wrong (the sessions are in ConsoleState+Sessions.swift).
extension ConsoleState {
    // MARK: Client results

    public static let waitingMarker = "waiting…"

    /// A message of several lines (pasted) on one line: its line breaks as ⏎, the rest escaped.
    static func lineBreaksShown(_ text: String) -> String {
        String(text.map { $0 == "\n" || $0 == "\r\n" ? "⏎" : $0 }).sanitizedForDisplay
    }

    public mutating func noteEchoFailed(_ message: String, clock: String) {
        transcript.append("✗ \(message.sanitizedForDisplay)", time: clock, style: .bad)
    }

    /// `name` is shown as it is (escape what is not text before); `now` is monotonic seconds.
    public mutating func beginTransfer(name: String, now: Double = 0) {
        transfer = TransferRow(name: name.sanitizedForDisplay, startedAt: now)
    }

    public mutating func apply(_ event: FileSendEvent, clock: String, now: Double = 0) {
        switch event {
        case .connected(let address):
            noteFileSend("connected to \(address) to send \(transfer?.name ?? "a file")", time: clock, style: .muted)
        case let .fileStarted(_, path, size):
            let name = transfer?.name ?? (path.split(separator: "/").last.map(String.init) ?? path).sanitizedForDisplay
            transfer = TransferRow(name: name, size: size, startedAt: transfer?.startedAt ?? now)
            transfer?.rate.record(0, at: now)
        case let .progress(_, sent, size):
            let previous = transfer?.sent ?? 0
            transfer?.rate.record(Int(max(0, sent - previous)), at: now)
            transfer?.sent = sent
            transfer?.size = size
        case let .fileConfirmed(_, savedAs, sha256):
            if let size = transfer?.size { transfer?.sent = size }
            transfer?.endedAt = now
            let shown = savedAs.isEmpty ? (transfer?.name ?? "") : savedAs.sanitizedForDisplay
            transfer?.verdict = "saved as \(shown), sha256 \(String(sha256.sanitizedForDisplay.prefix(12)))"
            transfer?.succeeded = true
            noteFileSend("✓ \(transfer?.name ?? "file") \(transfer?.verdict ?? "")", time: clock, style: .good)
        case .folderConfirmed:
            break
        case let .resumed(_, offset, size):
            transfer?.sent = offset
            noteFileSend("resuming \(transfer?.name ?? "the file") at \(size > 0 ? offset * 100 / size : 0) %", time: clock, style: .muted)
        case let .fileRefused(_, reason):
            transfer?.verdict = "refused: \(reason.sanitizedForDisplay)"
            transfer?.succeeded = false
            noteFileSend("✗ \(transfer?.name ?? "file") \(transfer?.verdict ?? "")", time: clock, style: .bad)
        case let .failed(message):
            if transfer == nil { transfer = TransferRow(name: "file") }
            transfer?.verdict = "failed: \(message.sanitizedForDisplay)"
            transfer?.succeeded = false
            transfer?.finished = true
            noteFileSend("✗ \(transfer?.verdict ?? "")", time: clock, style: .bad)
        case .finished:
            transfer?.finished = true
            if transfer?.endedAt == nil { transfer?.endedAt = now }
        }
    }

    /// A file send's line. Replies belongs to the session shown, so a send says its news in the Activity log, and in
    /// Replies too only while there is no session to mix it into.
    mutating func noteFileSend(_ text: String, time: String, style: CellStyle) {
        log.append(text, time: time, style: style)
        if sessionList.sessions.isEmpty { transcript.append(text, time: time, style: style) }
    }

    public mutating func noteTransferCancelled(clock: String, now: Double = 0) {
        guard isTransferring else { return }
        transfer?.endedAt = now
        transfer?.verdict = "cancelled"
        transfer?.succeeded = false
        transfer?.finished = true
        noteFileSend("✗ transfer cancelled", time: clock, style: .bad)
    }
}
