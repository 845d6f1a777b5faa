/// `--ask`: who decides whether a framed upload may start. `ask` is called on the connection's loop thread with the
/// upload's header (before any payload byte is read or stored) and answers later through the decision, on that same
/// thread. `@unchecked Sendable` because the options that carry it are: it is only ever called on a loop thread.
public final class UploadApproval: @unchecked Sendable {
    public let ask: (UploadRequest, UploadDecision) -> Void

    public init(_ ask: @escaping (UploadRequest, UploadDecision) -> Void) {
        self.ask = ask
    }
}

/// An upload waiting for a yes or no.
public struct UploadRequest: Equatable, Sendable {
    public var connectionID: Int
    /// The name as it would be saved (already reduced by `SafeFileName`).
    public var name: String
    public var size: Int64
    public var peer: SocketAddress
    /// A folder tree, asked about once for all its files (`name` is its top folder, `size` its first file's).
    public var isFolder = false
}

/// The answer to one `UploadRequest`, given once on the connection's loop thread: the first of `accept()`, `refuse()`
/// or the server's own timeout counts, later ones do nothing.
public final class UploadDecision {
    private var decide: ((Bool, String?) -> Void)?

    init(_ decide: @escaping (Bool, String?) -> Void) {
        self.decide = decide
    }

    public var isDecided: Bool { decide == nil }

    public func accept() { finish(true, nil) }

    public func refuse() { finish(false, nil) }

    /// The server's timeout: refused with `reason`.
    func expire(reason: String) { finish(false, reason) }

    private func finish(_ accepted: Bool, _ reason: String?) {
        guard let decide else { return }
        self.decide = nil
        decide(accepted, reason)
    }
}
