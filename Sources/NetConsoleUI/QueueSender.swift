#if canImport(Glibc)
import Glibc
#endif
import NetEngine

/// Sends the send queue's items one at a time, each on a `FileSender` of its own, so cancelling the one being sent
/// closes its connection and the next starts clean. Use on the loop's thread.
final class QueueSender {
    private let loop: EventLoop
    /// Every item's connection speaks TLS when set (`console --tls`).
    private let tls: TLSClientConfiguration?
    private let onEvent: (_ id: Int, _ event: FileSendEvent) -> Void
    private var sender: FileSender?
    private var sendingID: Int?
    /// A file opened by its bytes (a name that is not UTF-8), closed when its sender ends.
    private var rawFile: RawNamedFile?

    init(loop: EventLoop, tls: TLSClientConfiguration? = nil, onEvent: @escaping (_ id: Int, _ event: FileSendEvent) -> Void) {
        self.loop = loop
        self.tls = tls
        self.onEvent = onEvent
    }

    var isBusy: Bool { sendingID != nil }

    /// Starts sending `item`. Throws what stops it before any connection. A folder is listed on a worker thread first,
    /// so a big tree does not stop the console: `onListed` then gets its number of files (and of entries skipped), or `onFailed` why it cannot be
    /// listed. The item is the one being sent from now on, so `cancel()` works while it is listed too.
    func send(_ item: SendQueue.Item, onListed: @escaping (_ files: Int, _ skipped: Int) -> Void, onFailed: @escaping (String) -> Void) throws {
        precondition(sendingID == nil, "one item at a time")
        let endpoint = try Endpoint(parsing: item.target)
        let id = item.id
        if item.mark.isFolder {
            sendingID = id
            FolderWalk.list(paths: [item.mark.rawPath], followLinks: false, thenOn: loop) { [weak self] result in
                guard let self, self.sendingID == id, self.sender == nil else { return }  // cancelled while it was listed
                switch result {
                case let .success(listing):
                    onListed(listing.items.filter(\.isFile).count, listing.skipped.count)
                    start(FileSender(loop: loop, endpoint: endpoint, items: listing.items) { [unowned self] event in self.report(event, id) },
                          id: id, resumes: false)
                case let .failure(error):
                    sendingID = nil
                    onFailed("\(error)")
                }
            }
            return
        }
        let sender: FileSender
        if String(validating: item.mark.rawPath, as: UTF8.self) == nil {
            let file = try RawNamedFile.open(item.mark.rawPath, shown: item.mark.path)
            rawFile = file
            sender = FileSender(loop: loop, endpoint: endpoint, files: [file.path]) { [unowned self] event in self.report(event, id) }
            sender.names = [file.name]
        } else {
            sender = FileSender(loop: loop, endpoint: endpoint, files: [item.mark.path]) { [unowned self] event in self.report(event, id) }
        }
        // A file on its own resumes where an interrupted attempt stopped, if the server kept that part.
        start(sender, id: id, resumes: true)
    }

    private func start(_ sender: FileSender, id: Int, resumes: Bool) {
        sender.resumes = resumes
        sender.tls = tls
        sendingID = id
        self.sender = sender
        sender.start()
    }

    /// Stops the item being sent (or being listed): its connection closes; it reports nothing more.
    func cancel() {
        sendingID = nil
        guard let sender else { return }
        self.sender = nil
        sender.cancel()
        closeDescriptor()
    }

    private func report(_ event: FileSendEvent, _ id: Int) {
        guard id == sendingID else { return }
        if case .finished = event {
            sendingID = nil
            sender = nil
            closeDescriptor()
        }
        onEvent(id, event)
    }

    private func closeDescriptor() {
        rawFile?.close()
        rawFile = nil
    }
}
