/// Where keys go. Tab walks through them in this order. `server` is the connection list.
public enum ConsoleFocus: CaseIterable, Equatable, Sendable {
    case server, log, target, message, fileTarget, files, replies

    public var isClientPane: Bool { self != .server && self != .log }
}
