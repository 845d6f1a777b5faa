/// A line shown whole in a popup (Enter on a list line).
public struct LineViewer: Equatable, Sendable {
    public var title: String
    public var text: String
}
