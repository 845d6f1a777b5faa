import NetEngine

/// `--ask`: uploads that wait for a y or n. The oldest is shown in a popup; the rest queue behind it.
extension ConsoleState {
    public mutating func askUpload(_ ask: UploadAsk) {
        var ask = ask
        ask.name = ask.name.sanitizedForDisplay
        ask.peer = ask.peer.sanitizedForDisplay
        uploadAsks.append(ask)
    }

    /// Drops the questions the server no longer waits for (answered, timed out, or their connection closed).
    public mutating func dropUploadAsks(_ numbers: Set<Int>) {
        uploadAsks.removeAll { numbers.contains($0.number) }
    }

    /// y accepts the oldest upload, n or Esc refuses it; other keys do nothing while it waits, so typing that was
    /// meant for a field cannot answer it by accident, except that quitting still asks first.
    mutating func handleUploadAskKey(_ key: Key) -> ConsoleAction? {
        guard let ask = uploadAsks.first else { return nil }
        switch key {
        case .character("y"), .character("Y"):
            uploadAsks.removeFirst()
            return .answerUpload(number: ask.number, accept: true)
        case .character("n"), .character("N"), .escape:
            uploadAsks.removeFirst()
            return .answerUpload(number: ask.number, accept: false)
        case .control("c"), .function(10), .control("q"):
            return confirmQuit()
        case .control("l"):
            return .repaint
        default:
            return nil
        }
    }

    /// The popup's lines for the oldest question.
    func uploadAskConfirmation(now: Double) -> Confirmation? {
        guard let ask = uploadAsks.first else { return nil }
        let left = max(0, Int((ask.deadline - now).rounded(.up)))
        var detail = [ask.name.truncatedInMiddle(toWidth: 60),
                      ask.isFolder ? "a folder, from \(ask.peer): one answer for all its files"
                          : "\(ByteCount.format(ask.size)) (\(ask.size) bytes) from \(ask.peer)",
                      "refused by itself in \(left) s"]
        if uploadAsks.count > 1 { detail.append("\(uploadAsks.count - 1) more waiting after it") }
        return Confirmation(title: "Accept this upload?", detail: detail, action: .answerUpload(number: ask.number, accept: true))
    }
}
