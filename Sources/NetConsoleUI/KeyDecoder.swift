/// Turns what the terminal sends into keys. Esc followed at once by a character is Alt and that character
/// (curses waits only a short ESCDELAY for it, so a lone Esc stays Esc); escape sequences curses does not know
/// are decoded here or dropped whole, never typed; a bracketed paste (`ESC[200~` … `ESC[201~`) becomes one
/// `.paste`, so nothing in it acts as Enter, Tab or a command. Pure, so tests feed it bytes directly.
public struct KeyDecoder: Equatable, Sendable {
    private enum Mode: Equatable, Sendable {
        case normal
        case escape
        case csi(String)
        case ss3
        case paste
    }

    private var mode = Mode.normal
    private var pasted: [Unicode.Scalar] = []
    private static let pasteEnd = Array("\u{1B}[201~".unicodeScalars)

    public init() {}

    public var isInPaste: Bool { mode == .paste }

    /// Decodes one read's worth of input. An Esc left alone at the end is the Esc key; a paste may go on
    /// into the next read.
    public mutating func decode(_ inputs: [TerminalInput]) -> [Key] {
        var keys: [Key] = []
        for input in inputs { feed(input, into: &keys) }
        switch mode {
        case .escape: keys.append(.escape); mode = .normal
        case .csi, .ss3: mode = .normal
        case .normal, .paste: break
        }
        return keys
    }

    private mutating func feed(_ input: TerminalInput, into keys: inout [Key]) {
        switch mode {
        case .normal:
            switch input {
            case .scalar(let scalar) where scalar.value == 0x1B: mode = .escape
            case .scalar(let scalar): if let key = Key(scalar: scalar) { keys.append(key) }
            case .key(let key): keys.append(key)
            }
        case .escape:
            mode = .normal
            switch input {
            case .scalar(let scalar):
                switch scalar {
                case "[": mode = .csi("")
                case "O": mode = .ss3
                case "\u{1B}":
                    keys.append(.escape)
                    mode = .escape
                default:
                    switch Key(scalar: scalar) {
                    case .character(let c)?: keys.append(.alt(c))
                    case .backspace?: keys.append(.altBackspace)
                    // Alt with Enter, Tab or a Ctrl key means nothing here; dropping it is safer than a bare key.
                    default: break
                    }
                }
            case .key(let key):
                switch key {
                case .backspace: keys.append(.altBackspace)
                case .left: keys.append(.wordLeft)
                case .right: keys.append(.wordRight)
                default: keys.append(key)
                }
            }
        case .csi(let parameters):
            guard case .scalar(let scalar) = input else {
                mode = .normal
                feed(input, into: &keys)
                return
            }
            switch scalar.value {
            case 0x20...0x3F: mode = .csi(parameters + String(scalar))
            case 0x40...0x7E:
                mode = .normal
                if parameters == "200" && scalar == "~" {
                    mode = .paste
                    pasted = []
                } else if let key = Self.csiKey(parameters, final: scalar) {
                    keys.append(key)
                }
            default:
                // Not a sequence after all: drop what was read and take this one afresh.
                mode = .normal
                feed(input, into: &keys)
            }
        case .ss3:
            mode = .normal
            guard case .scalar(let scalar) = input else { return feed(input, into: &keys) }
            switch scalar {
            case "A": keys.append(.up)
            case "B": keys.append(.down)
            case "C": keys.append(.right)
            case "D": keys.append(.left)
            case "H": keys.append(.home)
            case "F": keys.append(.end)
            case "M": keys.append(.enter)
            case "P", "Q", "R", "S": keys.append(.function(Int(scalar.value) - 0x50 + 1))
            default: break
            }
        case .paste:
            switch input {
            case .scalar(let scalar): pasted.append(scalar)
            case .key(.enter): pasted.append("\n")
            case .key(.tab): pasted.append("\t")
            case .key: break
            }
            if pasted.count >= Self.pasteEnd.count && Array(pasted.suffix(Self.pasteEnd.count)) == Self.pasteEnd {
                pasted.removeLast(Self.pasteEnd.count)
                mode = .normal
                let text = Self.normalizedNewlines(pasted)
                pasted = []
                if !text.isEmpty { keys.append(.paste(text)) }
            }
        }
    }

    /// Terminals paste line ends as CR (tmux, xterm) or CR LF; the text keeps them as "\n".
    private static func normalizedNewlines(_ scalars: [Unicode.Scalar]) -> String {
        var text = String.UnicodeScalarView()
        var previousWasCR = false
        for scalar in scalars {
            if scalar == "\n" && previousWasCR {
                previousWasCR = false
                continue
            }
            previousWasCR = scalar == "\r"
            text.append(scalar == "\r" ? "\n" : scalar)
        }
        return String(text)
    }

    /// An SGR mouse report, `ESC [ < button ; column ; row M` (press) or `m` (release), 1-based: presses of the
    /// first button and the wheel become keys, the rest (releases, other buttons, motion) nothing.
    private static func mouseKey(_ parameters: Substring, final: Unicode.Scalar) -> Key? {
        let numbers = parameters.split(separator: ";").compactMap { Int($0) }
        guard numbers.count == 3, final == "M" else { return nil }
        let (button, col, row) = (numbers[0], numbers[1] - 1, numbers[2] - 1)
        guard row >= 0, col >= 0 else { return nil }
        if button & 64 != 0 { return button & 3 > 1 ? nil : .wheel(row: row, col: col, up: button & 1 == 0) }
        return button & (3 | 32) == 0 ? .click(row: row, col: col) : nil
    }

    /// The xterm-style sequences for keys whose terminfo entry may differ from what the terminal sends.
    private static func csiKey(_ parameters: String, final: Unicode.Scalar) -> Key? {
        if parameters.hasPrefix("<") { return mouseKey(parameters.dropFirst(), final: final) }
        let fields = parameters.split(separator: ";", omittingEmptySubsequences: false)
        let modifier = fields.count > 1 ? Int(fields[1]) ?? 1 : 1
        // xterm modifiers are 1 + (Shift 1, Alt 2, Ctrl 4).
        let wordwise = modifier > 1 && ((modifier - 1) & 6) != 0
        switch final {
        case "A": return .up
        case "B": return .down
        case "C": return wordwise ? .wordRight : .right
        case "D": return wordwise ? .wordLeft : .left
        case "H": return .home
        case "F": return .end
        case "Z": return .backTab
        case "~":
            switch Int(fields.first ?? "") ?? 0 {
            case 1, 7: return .home
            case 4, 8: return .end
            case 3: return .delete
            case 5: return .pageUp
            case 6: return .pageDown
            case let n where (11...15).contains(n): return .function(n - 10)
            case let n where (17...21).contains(n): return .function(n - 11)
            case 23, 24: return .function(parameters.hasPrefix("23") ? 11 : 12)
            default: return nil
            }
        default: return nil
        }
    }
}
