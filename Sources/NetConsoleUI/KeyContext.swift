/// Where a binding applies. The focused part decides which apply; the most specific one wins.
public enum KeyContext: CaseIterable, Equatable, Sendable {
    case everywhere, serverPane, connections, log, saved, replies, fields, message, files, session, inspector

    public var title: String {
        switch self {
        case .everywhere: return "Everywhere"
        case .serverPane: return "Server pane and lists (no text field: letters are commands)"
        case .connections: return "Connections"
        case .log: return "Activity log"
        case .saved: return "Saved files (newest first)"
        case .replies: return "Replies"
        case .fields: return "Text fields (Connect to, Message, Files to)"
        case .message: return "Message"
        case .files: return "File picker"
        case .session: return "Sessions (Connect to, Message, Replies)"
        case .inspector: return "Inspector (Enter or i on a connection, F8 on a session)"
        }
    }
}
