/// The one table of keys: the handler looks keys up here, and the footer and the help are made from it, so they
/// cannot drift apart.
public enum KeyBindings {
    private static let listMoves: [KeyBinding] = [
        KeyBinding([.up, .character("k")], "↑↓ k j", "move", .lineUp, footer: "move"),
        KeyBinding([.down, .character("j")], "", "", .lineDown),
        KeyBinding([.pageUp], "PgUp PgDn", "a page up or down", .pageUp),
        KeyBinding([.pageDown], "", "", .pageDown),
        KeyBinding([.home, .character("g")], "Home End", "first, last (End follows new lines)", .first),
        KeyBinding([.end, .character("G")], "", "", .last),
        KeyBinding([.enter], "Enter", "show the whole line", .showWhole, footer: "whole line"),
    ]

    public static func bindings(_ context: KeyContext) -> [KeyBinding] {
        switch context {
        case .everywhere:
            return [
                KeyBinding([.tab], "Tab", "next part", .nextField, footer: "next"),
                KeyBinding([.backTab], "Shift-Tab", "previous part", .previousField),
                KeyBinding([.escape], "Esc", "server pane", .toServerPane, footer: "server pane"),
                KeyBinding([.function(1)], "F1", "help", .help, footer: "help"),
                KeyBinding([.control("l")], "^L", "draw the screen again", .repaint),
                KeyBinding([.control("z")], "^Z", "suspend (the shell's fg resumes)", .suspend),
                KeyBinding([.function(10), .control("c"), .control("q")], "^C", "quit (F10, ^Q too; asks first if connections or a transfer would be lost)", .quit, footer: "quit"),
                // The footer shows ^X only while a transfer runs (ConsoleRenderer), so it is not listed for it here.
                KeyBinding([.control("x")], "^X", "cancel the file being sent (a queue goes on with the next)", .cancelTransfer),
                KeyBinding([.function(9)], "F9", "cancel the whole send queue", .cancelQueue),
            ]
        case .serverPane:
            return [
                KeyBinding([.character("s"), .character("S")], "s", "stop or start listening", .toggleListening, footer: "stop"),
                KeyBinding([.character("m"), .character("M")], "m", "mode: echo + files, echo, files", .switchMode, footer: "mode"),
                KeyBinding([.character("?"), .character("h")], "?", "help", .help),
                KeyBinding([.character("q"), .character("Q")], "q", "quit", .quit, footer: "quit"),
            ]
        case .connections:
            return [KeyBinding([.enter, .character("i")], "Enter i", "inspect the connection: its payload, the kernel's view; send, close, reset, save (a closed one: its line whole)", .inspect, footer: "inspect")]
                + listMoves.filter { $0.command != .showWhole } + [
                KeyBinding([.character("/")], "/", "filter by peer, service or state", .filterConnections, footer: "filter"),
                KeyBinding([.character("o")], "o", "sort: number, peer, bytes in, bytes out (open stay above closed)", .sortConnections),
            ]
        case .log:
            return listMoves + [KeyBinding([.character("c")], "c", "clear the log", .clearLog)]
        case .replies:
            return listMoves + [KeyBinding([.character("r")], "r", "send the selected → message again", .resend, footer: "resend")]
        case .saved:
            return listMoves
        case .fields:
            return [
                KeyBinding([.enter], "Enter", "done: next field (in Connect to: connect a session)", .fieldDone, footer: "done"),
                KeyBinding([.up, .down], "↑↓", "recent targets (kept across runs)", .edit, footer: "recent"),
                KeyBinding([.left, .right, .wordLeft, .wordRight, .alt("b"), .alt("f")], "← → ^← ^→ Alt-B/F", "a character, a word", .edit),
                KeyBinding([.home, .end, .control("a"), .control("e")], "Home End ^A ^E", "start, end", .edit),
                KeyBinding([.control("w"), .altBackspace, .alt("d")], "^W Alt-Bksp Alt-D", "cut a word back or ahead", .edit),
                KeyBinding([.control("u"), .control("k"), .control("y")], "^U ^K ^Y", "cut to the start, to the end; paste what was cut", .edit),
            ]
        case .message:
            return [
                KeyBinding([.enter], "Enter", "send (a pasted text with ⏎ is one message)", .send, footer: "send"),
                KeyBinding([.up, .down], "↑↓", "history", .edit, footer: "history"),
                KeyBinding([.control("r")], "^R", "search the history: type to find, ^R older, Enter takes it, Esc puts back", .searchHistory, footer: "search"),
            ]
        case .files:
            return [
                KeyBinding([.enter], "Enter", "open the folder or send the file (the marked ones, if any)", .pick, footer: "open/send"),
                KeyBinding([.character(" ")], "Space", "mark or unmark a file or folder (on a queued one: take it out)", .mark, footer: "mark"),
                KeyBinding([.control("a")], "^A", "mark all shown, or unmark them", .markAll),
                KeyBinding([.up, .down, .pageUp, .pageDown, .home, .end], "↑↓", "select", .pick, footer: "select"),
                KeyBinding([.right], "→", "open the folder", .pick),
                KeyBinding([.backspace, .left], "Bksp ←", "delete from the filter, or go up a folder", .pick),
                KeyBinding([.control("r")], "^R", "read the folder again", .reloadFolder),
                KeyBinding([.escape], "Esc", "clear the filter, then server pane", .filesBack),
            ]
        case .session:
            return [
                KeyBinding([.control("n")], "^N ^P", "next, previous session", .nextSession, footer: "session"),
                KeyBinding([.control("p")], "", "", .previousSession),
                KeyBinding([.control("t")], "^T", "line end: LF, CR LF, none", .cycleLineEnding),
                KeyBinding([.control("o")], "^O", "hex input (de ad be ef) or text (\\x41 \\r \\n \\t \\\\)", .toggleHexInput),
                KeyBinding([.function(5)], "F5", "connect again", .reconnect),
                KeyBinding([.function(6)], "F6", "half-close: send FIN, keep reading (nc -N)", .finishSending),
                KeyBinding([.function(7)], "F7", "disconnect", .disconnect),
                KeyBinding([.function(8)], "F8", "inspect the session's connection (payload, TCP_INFO, close, reset, save)", .inspectSession),
            ]
        case .inspector:
            return [
                KeyBinding([.escape, .character("q")], "Esc q", "back (to the connection list, or to the session for F8)", .leaveInspector, footer: "back"),
                KeyBinding([.character("x"), .tab], "x Tab", "hex + ASCII or text", .toggleHex, footer: "hex/text"),
                KeyBinding([.character("s"), .enter], "s Enter", "type a line the server sends to the peer (Enter sends it with \\n)", .typeToPeer, footer: "send"),
                KeyBinding([.character("c")], "c", "close gracefully (asks first when data would be lost)", .closeConnection, footer: "close"),
                KeyBinding([.character("r")], "r", "reset: RST via SO_LINGER 0 (asks first)", .resetConnection, footer: "reset"),
                KeyBinding([.character("w")], "w", "save the transcript to a new file (never overwrites)", .saveTranscript, footer: "save"),
                KeyBinding([.up, .character("k")], "↑↓ k j", "scroll", .lineUp, footer: "scroll"),
                KeyBinding([.down, .character("j")], "", "", .lineDown),
                KeyBinding([.pageUp], "PgUp PgDn", "a page up or down", .pageUp),
                KeyBinding([.pageDown], "", "", .pageDown),
                KeyBinding([.home, .character("g")], "Home End", "oldest, newest (End follows new bytes)", .first),
                KeyBinding([.end, .character("G")], "", "", .last),
                KeyBinding([.character("?")], "?", "help", .help),
            ]
        }
    }

    /// The contexts in force where `focus` is, most specific first.
    public static func contexts(for focus: ConsoleFocus) -> [KeyContext] {
        switch focus {
        case .server: return [.connections, .serverPane, .everywhere]
        case .log: return [.log, .serverPane, .everywhere]
        case .saved: return [.saved, .serverPane, .everywhere]
        // The session keys share none with the others, so they come last, after the keys a newcomer looks for.
        case .replies: return [.replies, .serverPane, .everywhere, .session]
        case .target: return [.fields, .everywhere, .session]
        case .fileTarget: return [.fields, .everywhere]
        case .message: return [.message, .fields, .everywhere, .session]
        case .files: return [.files, .everywhere]
        }
    }

    /// What `key` does in the inspector: its own keys, then the global ones that make sense over it.
    public static func inspectorBinding(for key: Key) -> KeyBinding? {
        let global: [ConsoleCommand] = [.help, .repaint, .suspend, .quit, .cancelTransfer]
        let candidates = bindings(.inspector) + bindings(.everywhere).filter { global.contains($0.command) }
        return candidates.first { $0.keys.contains(key) }
    }

    public static func binding(for key: Key, focus: ConsoleFocus) -> KeyBinding? {
        for context in contexts(for: focus) {
            if let binding = bindings(context).first(where: { $0.keys.contains(key) }) { return binding }
        }
        return nil
    }

    /// The footer's keys where `focus` is: the specific ones first.
    public static func footer(for focus: ConsoleFocus) -> [KeyBinding] {
        var taken: [Key] = []
        var shown: [KeyBinding] = []
        for binding in contexts(for: focus).flatMap({ bindings($0) }) {
            // A key a more specific binding took does something else here; one entry per meaning is enough.
            defer { taken += binding.keys }
            guard binding.footer != nil, !binding.keys.contains(where: taken.contains) else { continue }
            guard !shown.contains(where: { $0.command == binding.command && $0.footer == binding.footer }) else { continue }
            if binding.command == .toServerPane && !focus.isClientPane { continue }
            shown.append(binding)
        }
        return shown
    }

    /// The help, its long lines wrapped at spaces to `width` columns (what the help box shows on this screen), each
    /// continuation indented under the meaning, so nothing is cut at 80 columns.
    public static func helpLines(for focus: ConsoleFocus, inspecting: Bool = false, width: Int) -> [String] {
        let lines = helpLines(for: focus, inspecting: inspecting)
        let indent = 2 + (KeyContext.allCases.flatMap { bindings($0) }.map(\.label.displayWidth).max() ?? 10) + 2
        guard width >= indent + 12 else { return lines }
        var wrapped: [String] = []
        for line in lines {
            var rest = line
            var prefix = ""
            while (prefix + rest).displayWidth > width {
                let room = width - prefix.displayWidth
                // The last space that leaves the start of `rest` within the room (and past the key's label).
                var cut: String.Index?
                var used = 0
                for index in rest.indices {
                    used += DisplayWidth.of(rest[index])
                    if used > room { break }
                    if rest[index] == " ", rest.distance(from: rest.startIndex, to: index) >= (prefix.isEmpty ? indent : 1) { cut = index }
                }
                guard let cut else { break }
                wrapped.append(prefix + rest[..<cut])
                rest = String(rest[rest.index(after: cut)...])
                prefix = String(repeating: " ", count: indent)
            }
            wrapped.append(prefix + rest)
        }
        return wrapped
    }

    /// The help: the bindings where `focus` is first, then the rest, each under its heading.
    public static func helpLines(for focus: ConsoleFocus, inspecting: Bool = false) -> [String] {
        let here = inspecting ? [.inspector, .everywhere] : contexts(for: focus)
        let order = here + KeyContext.allCases.filter { !here.contains($0) }
        let labelWidth = KeyContext.allCases.flatMap { bindings($0) }.map(\.label.displayWidth).max() ?? 10
        var lines = ["netconsole — keys (↑↓ PgUp PgDn scroll, any other key closes)"]
        for context in order {
            lines.append("")
            lines.append(context.title + (here.contains(context) ? "" : " (elsewhere)"))
            for binding in bindings(context) where !binding.label.isEmpty {
                // The inspector has its own Tab and Esc: the panes' moves are not listed as working there.
                if inspecting && context == .everywhere && [.nextField, .previousField, .toServerPane].contains(binding.command) { continue }
                lines.append("  " + binding.label.fitted(toWidth: labelWidth) + "  " + binding.meaning)
            }
        }
        lines += ["", "Text fields: letters type text; a paste is text and never runs a key.",
                  "Alt-key (Esc and a key together) is never a command."]
        return lines
    }
}
