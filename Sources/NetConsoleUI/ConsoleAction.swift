/// What a key asks the console to do outside its view state.
public enum ConsoleAction: Equatable, Sendable {
    case quit
    case setListening(Bool)
    case selectServices(ServiceSelection)
    /// Send the message on the session to `target` (opened first when needed); echoes show their round trip.
    case sendEcho(target: String, message: String)
    /// `rawPath`, when given, opens the file: its name is not UTF-8, and `path` only shows it.
    case sendFile(target: String, path: String, rawPath: [UInt8]? = nil)
    case cancelTransfer
    /// Send what the state queued (`ConsoleState.sendQueue`), one item after another.
    case sendQueue(target: String)
    /// The marks, once a question about their size was answered yes (queued by the state when performed).
    case queueMarks
    /// Stop one item of the send queue, or (nil) all of it.
    case cancelQueueItem(id: Int)
    case cancelQueue
    /// A session key that needs the network (ConsoleState.perform(_:clock:now:) says what to do).
    case session(SessionRequest)
    /// Clear the terminal and draw everything again (Ctrl-L).
    case repaint
    /// Stop like any job until the shell's fg (Ctrl-Z, which raw mode turned into a key).
    case suspend
    /// Watch connection `id` in the inspector (snapshots until `stopInspecting`).
    case inspect(id: Int)
    case stopInspecting
    /// Watch the TCP connection of client session `id` in the inspector.
    case inspectSession(id: Int)
    /// Send `bytes` to the peer of connection `id` from the server's side.
    case sendToConnection(id: Int, bytes: [UInt8])
    case closeConnection(id: Int)
    /// Close with an RST (SO_LINGER 0).
    case resetConnection(id: Int)
    /// Write connection `id`'s transcript to a new file at `path`.
    case saveTranscript(id: Int, path: String)
    /// The answer to upload question `number` (`--ask`).
    case answerUpload(number: Int, accept: Bool)
}
