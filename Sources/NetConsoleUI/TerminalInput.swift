/// What the terminal layer reads: a character, or a key curses already recognised from its escape sequence.
public enum TerminalInput: Equatable, Sendable {
    case scalar(Unicode.Scalar)
    case key(Key)
}
