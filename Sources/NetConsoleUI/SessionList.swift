/// The client pane's sessions, oldest first, and which one is shown. Bounded: a new one replaces the oldest closed
/// one once `capacity` are kept.
public struct SessionList: Equatable {
    public static let capacity = 9

    public internal(set) var sessions: [Session] = []
    public internal(set) var selectedIndex: Int?
    var nextID = 1
    /// What a new session starts with when none is shown to take them from.
    public internal(set) var defaultLineEnding = LineEnding.lf
    public internal(set) var defaultHexInput = false

    public init() {}

    public var selected: Session? { selectedIndex.map { sessions[$0] } }
    public var isEmpty: Bool { sessions.isEmpty }

    func index(of id: Int) -> Int? { sessions.firstIndex { $0.id == id } }

    /// Adds a session unless `capacity` are open; returns its index.
    mutating func add(target: String, log: ActivityLog) -> Int? {
        if sessions.count >= Self.capacity {
            guard let closed = sessions.firstIndex(where: \.isClosed) else { return nil }
            sessions.remove(at: closed)
            if let selected = selectedIndex { selectedIndex = selected > closed ? selected - 1 : (selected == closed ? nil : selected) }
        }
        sessions.append(Session(id: nextID, target: target, log: log))
        nextID += 1
        return sessions.count - 1
    }
}
