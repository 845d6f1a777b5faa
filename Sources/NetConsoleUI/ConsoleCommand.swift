/// What a key asks for. The key-binding table maps keys to these; the state runs them.
public enum ConsoleCommand: Equatable, Sendable {
    case quit, help, repaint, suspend, nextField, previousField, toServerPane
    case toggleListening, switchMode, clearLog, sortConnections, filterConnections
    case lineUp, lineDown, pageUp, pageDown, first, last, showWhole
    case send, fieldDone, edit, searchHistory
    case pick, filesBack, cancelTransfer, reloadFolder, mark, markAll, cancelQueue
    case nextSession, previousSession, cycleLineEnding, toggleHexInput, reconnect, finishSending, disconnect, resend
    case inspect, inspectSession, leaveInspector, toggleHex, typeToPeer, closeConnection, resetConnection, saveTranscript
}
