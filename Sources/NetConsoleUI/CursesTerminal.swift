#if canImport(Glibc)
import Glibc
#endif
import CNCurses
import NetEngine

/// The only code that talks to ncurses: sets the terminal up, copies `ScreenGrid`s out (only rows that changed;
/// ncurses then sends only the cells that changed), reads keys without blocking and always puts the terminal back.
public final class CursesTerminal {
    public private(set) var rows: Int
    public private(set) var cols: Int
    private var previous: ScreenGrid?
    private var attributes: [CellStyle: Int32] = [:]
    private var cursorVisible = true
    private var restored = false
    private var decoder = KeyDecoder()
    /// Codes curses made up for sequences its terminfo entry lists as extended keys (kLFT5 for Ctrl-← …).
    private var extendedKeys: [Int32: Key] = [:]
    /// Rows where clusters were written past curses last time: curses does not know what is really there.
    private var rowsWrittenDirectly: Set<Int> = []

    /// Bracketed paste, and the mouse unless it was turned off.
    private let modesOn: String

    /// Enters curses mode on the controlling terminal (stdin/stdout). Throws when they are not a terminal. With
    /// `mouse` false, the terminal keeps the mouse for itself (selecting text to copy works as in any program).
    public init(mouse: Bool = true) throws {
        modesOn = mouse ? Self.pasteAndMouseOn : Self.pasteOn
        guard isatty(STDIN_FILENO) == 1, isatty(STDOUT_FILENO) == 1 else {
            throw TerminalError("the console needs a terminal; use 'netconsole serve' or 'netconsole echo' in scripts")
        }
        setlocale(LC_ALL, "")
        if String(cString: nl_langinfo(nl_item(CODESET))) != "UTF-8" {
            // Terminals today speak UTF-8 even when the environment names no locale.
            setlocale(LC_CTYPE, "C.UTF-8")
        }
        installCrashRestore()
        guard let screen = nc_newterm_stdio() else {
            throw TerminalError("cannot use terminal type '\(String(cString: getenv("TERM") ?? strdup("unknown")))'")
        }
        set_term(screen)
        CursesTerminal.active = true
        atexit { CursesTerminal.endIfActive() }
        // Raw, not cbreak: IXON off so Ctrl-S does not freeze the screen and Ctrl-Q arrives, and Ctrl-C is a key
        // the console can ask about instead of a signal that ends it mid-transfer.
        raw()
        noecho()
        nonl()
        keypad(nc_stdscr(), true)
        nodelay(nc_stdscr(), true)
        // Esc and a key within 25 ms is Alt and that key; a lone Esc waits no longer than that.
        set_escdelay(25)
        CursesTerminal.writeToTerminal(modesOn)
        let sequences: [(String, Key)] = [
            ("\u{1B}[1;5D", .wordLeft), ("\u{1B}[1;5C", .wordRight), ("\u{1B}[1;3D", .wordLeft), ("\u{1B}[1;3C", .wordRight),
            ("\u{1B}[1;2D", .left), ("\u{1B}[1;2C", .right), ("\u{1B}[1;5H", .home), ("\u{1B}[1;5F", .end),
        ]
        for (sequence, key) in sequences {
            let code = key_defined(sequence)
            if code > 0 { extendedKeys[code] = key }
        }
        curs_set(0)
        cursorVisible = false
        rows = Int(nc_lines())
        cols = Int(nc_cols())
        setUpStyles()
    }

    deinit { restore() }

    /// Refuses a terminal that cannot place text (TERM=dumb, or none named), before anything is drawn: curses would
    /// start on it and print every frame as a stream of lines.
    public static func checkTerminalType() throws {
        let term = getenv("TERM").map { String(cString: $0) } ?? ""
        guard term.isEmpty || term == "dumb" else { return }
        let named = term.isEmpty ? "TERM is not set" : "TERM=dumb"
        throw TerminalError("\(named): the console needs a terminal that can move the cursor (xterm, screen, tmux…);"
                            + " in a dumb terminal use 'netconsole serve' or 'netconsole echo'")
    }

    // MARK: Drawing

    /// Copies `screen` to the terminal and moves the cursor into the focused field (or hides it).
    public func draw(_ screen: RenderedScreen) {
        let grid = screen.grid
        let full = previous.map { $0.rows != grid.rows || $0.cols != grid.cols } ?? true
        var direct: [(row: Int, col: Int, text: String)] = []
        for row in 0..<min(grid.rows, rows) {
            if !full, let previous, rowEqual(previous, grid, row) { continue }
            // Curses sees blanks where the glyph is, so it would leave the glyph when the row changes: repaint it all.
            if rowsWrittenDirectly.remove(row) != nil { wredrawln(nc_stdscr(), Int32(row), 1) }
            drawRow(grid, row, direct: &direct)
        }
        rowsWrittenDirectly.formUnion(direct.map(\.row))
        previous = grid
        if let cursor = screen.cursor, cursor.row < rows, cursor.col < cols {
            if !cursorVisible { curs_set(1); cursorVisible = true }
            nc_move(Int32(cursor.row), Int32(cursor.col))
        } else {
            if cursorVisible { curs_set(0); cursorVisible = false }
            nc_move(Int32(max(0, rows - 1)), 0)
        }
        wnoutrefresh(nc_stdscr())
        doupdate()
        writeDirectly(direct)
    }

    /// Writes the clusters curses cannot hold over their blank placeholders, after curses has sent its update.
    /// The cursor (and curses' idea of it) is saved and put back around them.
    private func writeDirectly(_ clusters: [(row: Int, col: Int, text: String)]) {
        guard !clusters.isEmpty else { return }
        var output = "\u{1B}7\u{1B}[0m"
        for cluster in clusters { output += "\u{1B}[\(cluster.row + 1);\(cluster.col + 1)H\(cluster.text)" }
        output += "\u{1B}8"
        Self.writeToTerminal(output)
    }

    private func rowEqual(_ a: ScreenGrid, _ b: ScreenGrid, _ row: Int) -> Bool {
        for col in 0..<a.cols where a[row, col] != b[row, col] { return false }
        return true
    }

    /// Writes a row as runs of one style. A run also ends after a wide character, and each run is placed at its
    /// own column, so a terminal that measures some character differently cannot shift the rest of the row.
    private func drawRow(_ grid: ScreenGrid, _ row: Int, direct: inout [(row: Int, col: Int, text: String)]) {
        var runStart = 0
        var runText = ""
        var runStyle = grid[row, 0].style
        func flush() {
            guard !runText.isEmpty else { return }
            nc_attrset(attributes[runStyle] ?? 0)
            _ = nc_put(Int32(row), Int32(runStart), runText)
            runText = ""
        }
        for col in 0..<min(grid.cols, cols) {
            let cell = grid[row, col]
            if cell.isCovered { continue }
            if cell.style != runStyle || runText.isEmpty {
                flush()
                runStart = col
                runStyle = cell.style
            }
            let width = DisplayWidth.of(cell.text)
            if let character = cell.text.first, DisplayWidth.needsDirectOutput(character) {
                runText += String(repeating: " ", count: max(1, width))
                direct.append((row, col, cell.text))
            } else {
                runText += cell.text
            }
            if width >= 2 {
                flush()
            }
        }
        flush()
        nc_attrset(0)
    }

    // MARK: Input

    /// Every key waiting on stdin, decoded; returns at once when there is none.
    public func readKeys() -> [Key] {
        var inputs: [TerminalInput] = []
        var character: wint_t = 0
        while true {
            let status = nc_get_wch(&character)
            if status == ERR { break }
            if status == nc_code_yes() {
                let code = Int32(character)
                if code == nc_key_mouse() {
                    // Curses matched terminfo's kmous (ESC [ <) but its own mouse handling is off: the rest of the
                    // SGR report follows as characters, for KeyDecoder.
                    inputs += ["\u{1B}", "[", "<"].map { .scalar($0) }
                } else if let key = Self.decodeKeyCode(code) ?? extendedKeys[code] {
                    inputs.append(.key(key))
                }
            } else if let scalar = Unicode.Scalar(UInt32(character)) {
                inputs.append(.scalar(scalar))
            }
        }
        return decoder.decode(inputs)
    }

    static func decodeKeyCode(_ code: Int32) -> Key? {
        switch code {
        case KEY_UP: return .up
        case KEY_DOWN: return .down
        case KEY_LEFT: return .left
        case KEY_RIGHT: return .right
        case KEY_HOME: return .home
        case KEY_END: return .end
        case KEY_PPAGE: return .pageUp
        case KEY_NPAGE: return .pageDown
        case KEY_BACKSPACE: return .backspace
        case KEY_DC: return .delete
        case KEY_BTAB: return .backTab
        case KEY_ENTER: return .enter
        case KEY_RESIZE: return .resize
        default:
            for n in 1...12 where code == nc_key_f(Int32(n)) { return .function(n) }
            return nil
        }
    }

    // MARK: Size

    /// Reads the terminal size again (after SIGWINCH) and tells ncurses; the next draw repaints everything.
    public func refreshSize() {
        var newRows: Int32 = 0
        var newCols: Int32 = 0
        if nc_window_size(&newRows, &newCols) == 0, newRows > 0, newCols > 0 {
            resizeterm(newRows, newCols)
        }
        rows = Int(nc_lines())
        cols = Int(nc_cols())
        previous = nil
        clearok(nc_curscr(), true)
    }

    /// Gives the terminal back to the shell and stops like any job (Ctrl-Z); returns after fg, with the
    /// terminal taken again and the next `draw` repainting everything at the size it has now.
    public func suspend() {
        Self.writeToTerminal(Self.modesOff)
        endwin()
        var previous = sigaction()
        var stop = sigaction()
        stop.__sigaction_handler.sa_handler = SIG_DFL
        sigemptyset(&stop.sa_mask)
        sigaction(SIGTSTP, &stop, &previous)
        kill(0, SIGTSTP)
        sigaction(SIGTSTP, &previous, nil)
        Self.writeToTerminal(modesOn)
        refreshSize()
    }

    /// Clears the terminal and draws everything again on the next `draw` (Ctrl-L), for a screen something else
    /// wrote over.
    public func repaint() {
        previous = nil
        clearok(nc_curscr(), true)
    }

    // MARK: Leaving

    /// Leaves curses mode; safe to call more than once.
    public func restore() {
        guard !restored else { return }
        restored = true
        CursesTerminal.endIfActive()
    }

    nonisolated(unsafe) private static var active = false

    private static func endIfActive() {
        guard active else { return }
        active = false
        curs_set(1)
        endwin()
        writeToTerminal(modesOff)
    }

    /// Bracketed paste, and mouse presses and the wheel reported in SGR form (1000, 1006), which KeyDecoder reads.
    static let pasteAndMouseOn = "\u{1B}[?2004h\u{1B}[?1000h\u{1B}[?1006h"
    static let pasteOn = "\u{1B}[?2004h"
    static let modesOff = "\u{1B}[?1006l\u{1B}[?1000l\u{1B}[?2004l"

    private static func writeToTerminal(_ text: String) {
        var bytes = Array(text.utf8)
        _ = write(STDOUT_FILENO, &bytes, bytes.count)
    }

    // MARK: Styles

    private func setUpStyles() {
        let bold = nc_attr_bold(), reverse = nc_attr_reverse(), dim = nc_attr_dim(), underline = nc_attr_underline()
        var plain: [CellStyle: Int32] = [
            .normal: 0, .muted: dim, .emphasis: bold, .paneTitle: reverse, .focusedPaneTitle: reverse | bold,
            .columnHeader: underline, .selected: reverse, .good: bold, .bad: bold | underline, .accent: bold,
            .field: underline, .focusedField: reverse, .footer: reverse, .help: reverse,
            // Without colour, what colour told apart must differ in attributes: the footer stays one reversed bar
            // with its keys bold, and the focused list's title is reversed, not only bold like the others.
            .footerKey: reverse | bold, .boxKey: reverse | bold, .focusedSection: reverse | bold,
        ]
        // https://no-color.org: a NO_COLOR that is set and not empty asks for no colours; attributes stay.
        let noColor = getenv("NO_COLOR").map { $0.pointee != 0 } ?? false
        guard has_colors(), !noColor else {
            attributes = plain
            return
        }
        start_color()
        let defaultBackground: Int16 = use_default_colors() == OK ? -1 : Int16(COLOR_BLACK)
        let defaultForeground: Int16 = defaultBackground == -1 ? -1 : Int16(COLOR_WHITE)
        let grey: Int16 = nc_colors() >= 16 ? 8 : Int16(COLOR_WHITE)
        let colours: [(CellStyle, Int16, Int16, Int32)] = [
            (.muted, grey, defaultBackground, nc_colors() >= 16 ? 0 : dim),
            (.paneTitle, Int16(COLOR_WHITE), Int16(COLOR_BLUE), 0),
            (.focusedPaneTitle, Int16(COLOR_BLACK), Int16(COLOR_CYAN), bold),
            (.columnHeader, Int16(COLOR_YELLOW), defaultBackground, bold),
            (.selected, Int16(COLOR_BLACK), Int16(COLOR_YELLOW), 0),
            (.good, Int16(COLOR_GREEN), defaultBackground, 0),
            (.bad, Int16(COLOR_RED), defaultBackground, bold),
            (.accent, Int16(COLOR_CYAN), defaultBackground, bold),
            (.field, defaultForeground, defaultBackground, underline),
            (.focusedField, Int16(COLOR_BLACK), Int16(COLOR_WHITE), 0),
            (.footer, Int16(COLOR_BLACK), Int16(COLOR_WHITE), 0),
            (.help, Int16(COLOR_WHITE), Int16(COLOR_BLUE), 0),
            (.footerKey, Int16(COLOR_BLUE), Int16(COLOR_WHITE), bold),
            (.boxKey, Int16(COLOR_YELLOW), Int16(COLOR_BLUE), bold),
            (.focusedSection, Int16(COLOR_CYAN), defaultBackground, bold),
        ]
        for (index, (style, foreground, background, extra)) in colours.enumerated() {
            let pair = Int16(index + 1)
            init_pair(pair, foreground, background)
            plain[style] = nc_color_pair(Int32(pair)) | extra
        }
        attributes = plain
    }
}

public struct TerminalError: NetError {
    public let message: String
    public init(_ message: String) { self.message = message }
}

// MARK: Restoring the terminal after a crash

private typealias SignalAction = sigaction
nonisolated(unsafe) private var savedTerminalModes = termios()
nonisolated(unsafe) private var haveSavedTerminalModes = false
/// The handlers that were there before (the Swift runtime's backtracer), indexed by signal number.
nonisolated(unsafe) private var previousCrashActions : [SignalAction] = Array(repeating: SignalAction(), count: 65)

/// On a fatal signal (a Swift runtime trap, a segfault, abort) puts the terminal modes and the normal screen back
/// with async-signal-safe calls only, then hands the signal to the handler that was there before.
private func installCrashRestore() {
    if tcgetattr(STDIN_FILENO, &savedTerminalModes) == 0 { haveSavedTerminalModes = true }
    for signo in [SIGSEGV, SIGBUS, SIGILL, SIGABRT, SIGFPE, SIGTRAP] {
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { signo in
            if haveSavedTerminalModes { tcsetattr(STDIN_FILENO, TCSANOW, &savedTerminalModes) }
            // Leave the alternate screen, show the cursor, reset attributes.
            let reset: StaticString = "\u{1B}[?1006l\u{1B}[?1000l\u{1B}[?2004l\u{1B}[?1049l\u{1B}[?25h\u{1B}[0m\r\n"
            _ = write(STDOUT_FILENO, reset.utf8Start, reset.utf8CodeUnitCount)
            sigaction(signo, &previousCrashActions[Int(signo)], nil)
            raise(signo)
        }
        sigemptyset(&action.sa_mask)
        action.sa_flags = 0
        sigaction(signo, &action, &previousCrashActions[Int(signo)])
    }
}
