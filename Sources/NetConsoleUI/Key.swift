/// A key press, decoded from the terminal into something the view state can act on.
public enum Key: Equatable, Sendable {
    case character(Character)
    case enter
    case tab
    case backTab
    case backspace
    case delete
    case escape
    case up, down, left, right
    case home, end, pageUp, pageDown
    case function(Int)
    /// Ctrl and a letter, e.g. `.control("u")` for Ctrl-U.
    case control(Character)
    /// Alt (Meta) and a character: the terminal sends Esc followed by it.
    case alt(Character)
    case altBackspace
    /// Ctrl-← / Ctrl-→ (and Alt-← / Alt-→): one word left or right.
    case wordLeft, wordRight
    /// Text the terminal delivered as a bracketed paste: inserted as it is, never read as keys.
    case paste(String)
    /// A press of the first mouse button on a cell (0-based).
    case click(row: Int, col: Int)
    /// The mouse wheel over a cell: towards the top (up) or the bottom.
    case wheel(row: Int, col: Int, up: Bool)
    case resize

    /// Decodes one character as read from a terminal in raw mode: control bytes become keys, the rest text.
    public init?(scalar: Unicode.Scalar) {
        switch scalar.value {
        case 0x0A, 0x0D: self = .enter
        case 0x09: self = .tab
        case 0x08, 0x7F: self = .backspace
        case 0x1B: self = .escape
        case 0x01...0x1A: self = .control(Character(Unicode.Scalar(scalar.value + 0x60)!))
        case 0x00, 0x1C...0x1F, 0x80..<0xA0: return nil
        default: self = .character(Character(scalar))
        }
    }
}
