import NetEngine

/// The picker's marks and the send queue: Space marks, ^A marks all shown, Enter on a file sends the marks, ^X
/// cancels the item being sent, Space on a queued one takes it out, F9 cancels the whole queue.
extension ConsoleState {
    /// The selected picker entry as a mark, or why it cannot be one.
    private func markForSelection() -> Result<SendQueue.Mark, MarkRefusal> {
        guard let entry = picker.selectedEntry else { return .failure(MarkRefusal(reason: nil)) }
        return Self.mark(for: entry, in: picker)
    }

    private struct MarkRefusal: Error { var reason: String? }

    private static func mark(for entry: FileEntry, in picker: FilePicker) -> Result<SendQueue.Mark, MarkRefusal> {
        switch entry.kind {
        case .parent:
            return .failure(MarkRefusal(reason: nil))
        case .file:
            return .success(SendQueue.Mark(path: picker.path(of: entry), rawPath: picker.rawPath(of: entry), isFolder: false, size: entry.size))
        case .directory:
            return .success(SendQueue.Mark(path: picker.path(of: entry), rawPath: picker.rawPath(of: entry), isFolder: true))
        case .fifo, .socket, .device, .dangling:
            return .failure(MarkRefusal(reason: "\(entry.name): \(entry.notSendable ?? "not a file")"))
        }
    }

    /// Space in the picker: marks or unmarks the selected file or folder, then moves down; on an item still queued,
    /// takes it out of the queue.
    mutating func toggleMark(now: Double) -> ConsoleAction? {
        switch markForSelection() {
        case .failure(let refusal):
            if let reason = refusal.reason { transcript.append("✗ cannot send \(reason.sanitizedForDisplay)", time: "", style: .bad) }
            return nil
        case .success(let mark):
            if let queued = sendQueue.queuedItem(at: mark.rawPath) {
                sendQueue.cancel(id: queued.id, now: now)
                noteFileSend("✗ \(queued.name) cancelled (taken out of the queue)", time: "", style: .muted)
                return nil
            }
            sendQueue.toggle(mark)
            _ = picker.handle(.down)
            return nil
        }
    }

    /// ^A in the picker: marks every file and folder shown (the filter applies), or unmarks them if all were marked.
    mutating func toggleMarkAll() {
        let all = picker.visibleEntries.compactMap { entry -> SendQueue.Mark? in
            guard case .success(let mark) = Self.mark(for: entry, in: picker) else { return nil }
            return mark
        }
        sendQueue.toggleAll(all)
    }

    /// Queues the marks for the Files to target, asking first when a file among them is large (as for one file).
    mutating func sendMarks() -> ConsoleAction? {
        guard !fileTarget.text.isEmpty else {
            transcript.append("✗ nothing to send to: fill in Files to", time: "", style: .bad)
            return nil
        }
        let large = sendQueue.marks.filter { !$0.isFolder && $0.size > Self.largeFile }
        guard let first = large.first else { return queueMarks() }
        let more = large.count > 1 ? " and \(large.count - 1) more over \(ByteCount.format(Self.largeFile))" : ""
        confirmation = Confirmation(title: "Send \(sendQueue.marks.count) marked item\(sendQueue.marks.count == 1 ? "" : "s")?", detail: [
            "\(first.name.truncated(toWidth: 30)) is \(ByteCount.format(first.size)), over \(ByteCount.format(Self.largeFile))\(more): it will take a while",
        ], action: .queueMarks)
        return nil
    }

    mutating func queueMarks() -> ConsoleAction? {
        let target = fileTarget.text
        guard !target.isEmpty else { return nil }
        let count = sendQueue.enqueueMarks(target: target)
        guard count > 0 else { return nil }
        return .sendQueue(target: target)
    }

    /// ^X: the item being sent stops (the queue goes on), or else the single transfer.
    mutating func cancelCurrent() -> ConsoleAction? {
        if let current = sendQueue.current { return .cancelQueueItem(id: current.id) }
        return isTransferring ? .cancelTransfer : nil
    }

    /// Applies a queue cancel the console asked for; returns whether the item being sent must be stopped.
    public mutating func cancelQueued(_ id: Int?, clock: String, now: Double) -> Bool {
        let name = id.flatMap { id in sendQueue.items.first { $0.id == id }?.name }
        let stop = id.map { sendQueue.cancel(id: $0, now: now) } ?? sendQueue.cancelAll(now: now)
        noteFileSend("✗ " + (name.map { "\($0) cancelled" } ?? "send queue cancelled"), time: clock, style: .bad)
        return stop
    }

    /// The next item to send, now marked sending.
    public mutating func startNextQueued(now: Double) -> SendQueue.Item? {
        sendQueue.startNext(now: now)
    }

    /// An item could not even start (a bad target, a folder that cannot be listed).
    public mutating func queueItemFailed(_ id: Int, reason: String, clock: String, now: Double) {
        queueEvent(.failed(reason), id: id, clock: clock, now: now)
        queueEvent(.finished(allConfirmed: false), id: id, clock: clock, now: now)
    }

    public mutating func queueFolderListed(_ id: Int, files: Int, skipped: Int = 0) {
        sendQueue.listed(id: id, files: files, skipped: skipped)
    }

    /// Folds in an event of the item's sender; its verdict goes to the replies too.
    public mutating func queueEvent(_ event: FileSendEvent, id: Int, clock: String, now: Double) {
        guard let status = sendQueue.apply(event, to: id, now: now),
              let item = sendQueue.items.first(where: { $0.id == id }) else { return }
        let good: Bool
        if case .saved = status { good = true } else { good = false }
        noteFileSend("\(good ? "✓" : "✗") \(item.name) \(SendQueue.statusText(item, now: now))", time: clock, style: good ? .good : .bad)
    }
}
