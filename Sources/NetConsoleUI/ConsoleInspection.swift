#if canImport(Glibc)
import Glibc
#endif
import NetEngine
import NetText

/// The console's side of the inspector and of `--ask`, on the console's loop: snapshots of the inspected connection
/// every half second, actions on a connection by its number, transcripts saved to files, and the uploads waiting for
/// an answer. It changes the view only through `update`.
final class ConsoleInspection {
    static let refreshInterval = 0.5

    private let loop: EventLoop
    private let servers: () -> ServerGroup
    /// A client session's connection by its number (on this loop), if one has it.
    private let sessionConnection: (Int) -> Connection?
    private let update: ((inout ConsoleState) -> Void) -> Void
    private var timer: EventLoop.TimerToken?
    private var watched: Int?
    private var decisions: [Int: UploadDecision] = [:]
    private var asked = 0

    init(loop: EventLoop, servers: @escaping () -> ServerGroup, sessionConnection: @escaping (Int) -> Connection?,
         update: @escaping ((inout ConsoleState) -> Void) -> Void) {
        self.loop = loop
        self.servers = servers
        self.sessionConnection = sessionConnection
        self.update = update
    }

    /// Does `action` if it is the inspector's or an upload's answer; false for any other action.
    func perform(_ action: ConsoleAction) -> Bool {
        switch action {
        case .inspect(let id): watch(id)
        case .stopInspecting: unwatch()
        case let .sendToConnection(id, bytes):
            act(on: id, done: "sent \(bytes.count) byte\(bytes.count == 1 ? "" : "s") to the peer") { $0.write(bytes) }
        case .closeConnection(let id):
            act(on: id, done: "closing: pending bytes go out, then a FIN") { $0.closeWhenFlushed() }
        case .resetConnection(let id):
            act(on: id, done: "reset: the peer got an RST") { $0.reset() }
        case let .saveTranscript(id, path): save(id, to: path)
        case let .answerUpload(number, accept):
            guard let decision = decisions.removeValue(forKey: number) else { return true }
            if accept { decision.accept() } else { decision.refuse() }
        default: return false
        }
        return true
    }

    /// The approval `--ask` puts in the file server's options: each upload becomes a question in the view.
    func approval(timeout: Double) -> UploadApproval {
        UploadApproval { [weak self] request, decision in
            guard let self else { return decision.refuse() }
            asked += 1
            decisions[asked] = decision
            let ask = UploadAsk(number: asked, connectionID: request.connectionID, name: request.name, size: request.size,
                                peer: request.peer.description, deadline: MonotonicClock.now() + timeout, isFolder: request.isFolder)
            update { $0.askUpload(ask) }
        }
    }

    /// Forgets questions the server stopped waiting for: timed out, or their connection closed.
    func dropSettledAsks() {
        let settled = Set(decisions.filter { $0.value.isDecided }.keys)
        guard !settled.isEmpty else { return }
        for number in settled { decisions[number] = nil }
        update { $0.dropUploadAsks(settled) }
    }

    private func watch(_ id: Int) {
        unwatch()
        watched = id
        refresh()
        timer = loop.schedule(after: Self.refreshInterval, repeating: true) { [weak self] in self?.refresh() }
    }

    private func unwatch() {
        if let timer { loop.cancel(timer) }
        timer = nil
        watched = nil
    }

    private func refresh() {
        guard let id = watched else { return }
        withConnection(id, { $0?.snapshot() }) { [weak self] snapshot in
            guard let self, watched == id else { return }
            update { state in
                if let snapshot { state.updateInspector(snapshot) } else { state.inspectedConnectionGone(id) }
            }
            if snapshot == nil { unwatch() }
        }
    }

    private func act(on id: Int, done: String, _ work: @escaping (Connection) -> Void) {
        withConnection(id, { connection -> Bool in
            guard let connection, !connection.isClosed else { return false }
            work(connection)
            return true
        }) { [weak self] acted in
            self?.update { $0.noteInspector(acted ? done : "connection #\(id) is closed: nothing done", bad: !acted) }
            self?.refresh()
        }
    }

    private func save(_ id: Int, to path: String) {
        withConnection(id, { $0?.snapshot() }) { [weak self] fresh in
            guard let self else { return }
            var snapshot = fresh
            if snapshot == nil { update { snapshot = $0.inspector?.snapshot } }
            guard let snapshot else { return update { $0.noteInspector("nothing to save", bad: true) } }
            let text = TranscriptFormatter.text(of: snapshot, savedAt: ConsoleInspection.wallClock())
            let outcome = TranscriptFile.create(at: path, text: text)
            update { state in
                switch outcome {
                case .success(let saved): state.noteInspector("saved \(text.utf8.count) bytes to \(saved)")
                case .failure(let error): state.noteInspector(error.message, bad: true)
                }
            }
        }
    }

    /// Runs `work` on connection `id` (a session's, or a server's on whichever loop has it) and `then` on this loop.
    private func withConnection<Result>(_ id: Int, _ work: @escaping (Connection?) -> Result, then: @escaping (Result) -> Void) {
        if let connection = sessionConnection(id) {
            let result = work(connection)
            loop.execute { then(result) }
        } else {
            servers().withConnection(id: id, replyOn: loop, work, then: then)
        }
    }

    static func wallClock() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }
}
