import NetEngine

/// Watches stdin on the event loop and hands every key the terminal decodes to `onKeys`.
final class KeyboardInput: EventHandler {
    private let terminal: CursesTerminal
    private let onKeys: ([Key]) -> Void
    private let onHangup: () -> Void

    init(terminal: CursesTerminal, onKeys: @escaping ([Key]) -> Void, onHangup: @escaping () -> Void) {
        self.terminal = terminal
        self.onKeys = onKeys
        self.onHangup = onHangup
    }

    func handleEvent(readable: Bool, writable: Bool, hangup: Bool) {
        let keys = terminal.readKeys()
        if !keys.isEmpty { onKeys(keys) }
        // The terminal went away (window closed, ssh dropped): nothing will ever be typed again.
        if hangup && keys.isEmpty { onHangup() }
    }
}
