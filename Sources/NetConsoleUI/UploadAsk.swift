/// An upload waiting for the user's y or n (`--ask`), as the popup shows it.
public struct UploadAsk: Equatable, Sendable {
    /// The console's number for the question, to answer the right one.
    public var number: Int
    public var connectionID: Int
    /// Safe for the screen already.
    public var name: String
    public var size: Int64
    public var peer: String
    /// Monotonic seconds when the server refuses it unanswered.
    public var deadline: Double
    /// A whole folder tree, answered once for all its files.
    public var isFolder = false

    public init(number: Int, connectionID: Int, name: String, size: Int64, peer: String, deadline: Double, isFolder: Bool = false) {
        self.isFolder = isFolder
        self.number = number
        self.connectionID = connectionID
        self.name = name
        self.size = size
        self.peer = peer
        self.deadline = deadline
    }
}
