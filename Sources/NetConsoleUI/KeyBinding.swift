/// One row of the key-binding table: the keys, how the footer and the help name them, and what they do.
public struct KeyBinding: Equatable, Sendable {
    public let keys: [Key]
    public let label: String
    public let meaning: String
    public let command: ConsoleCommand
    /// The word the footer shows for it; nil when only the help lists it.
    public let footer: String?

    init(_ keys: [Key], _ label: String, _ meaning: String, _ command: ConsoleCommand, footer: String? = nil) {
        self.keys = keys
        self.label = label
        self.meaning = meaning
        self.command = command
        self.footer = footer
    }
}
