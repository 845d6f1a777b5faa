/// A question the console asks before an action that would drop connections or a transfer: y does it,
/// n or Esc does not.
public struct Confirmation: Equatable, Sendable {
    public var title: String
    public var detail: [String]
    public var action: ConsoleAction
}
