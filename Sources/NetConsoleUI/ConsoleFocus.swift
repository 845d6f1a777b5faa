/// Where keys go. Tab walks through them in this order. `server` is the connection list.
public enum ConsoleFocus: CaseIterable, Equatable, Sendable {
    case server, log, saved, target, message, fileTarget, files, replies

    public var isClientPane: Bool { ![.server, .log, .saved].contains(self) }
}
