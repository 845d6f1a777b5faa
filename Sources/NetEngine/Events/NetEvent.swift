/// What the engine reports as it works; the TUI and the headless log both consume these.
public enum NetEvent: Sendable {
    case listening(service: String, address: SocketAddress)
    case stoppedListening(service: String, address: SocketAddress)
    case connectionOpened(id: Int, service: String, peer: SocketAddress)
    case connectionClosed(id: Int, peer: SocketAddress, bytesIn: Int, bytesOut: Int, reason: String?)
    /// A connection turned away before it was served (a limit was reached).
    case connectionRefused(peer: SocketAddress, reason: String)
    /// A peer the access policy (`--allow`/`--deny`) refuses, closed at accept (TCP) or its datagram dropped (UDP).
    case connectionDenied(service: String, peer: SocketAddress, reason: String)
    /// A UDP peer's echoed datagrams and bytes so far: on its first datagram, then at most once a second.
    case datagramsEchoed(service: String, peer: SocketAddress, datagrams: Int, bytes: Int)
    /// A UDP peer's datagrams dropped so far (too large, truncated, no room to reply), with the latest reason.
    case datagramsDropped(service: String, peer: SocketAddress, count: Int, reason: String)
    /// A TLS handshake that failed (a plain-text client, an untrusted certificate, a peer that broke off); the
    /// connection is closed, and the server goes on serving.
    case tlsHandshakeFailed(id: Int, peer: SocketAddress, reason: String)
    case bytesReceived(id: Int, count: Int)
    case bytesSent(id: Int, count: Int)
    /// Payload bytes as they crossed the connection (`serve --dump`), up to a limit per connection and direction.
    case payload(id: Int, received: Bool, bytes: [UInt8])
    /// At the close of a dumped connection: the bytes each way that were past the limit and not shown.
    case payloadNotShown(id: Int, received: Int, sent: Int)
    case uploadStarted(id: Int, name: String, size: Int64?)
    case uploadProgress(id: Int, received: Int64, size: Int64?)
    case fileSaved(id: Int, path: String, size: Int64, sha256: String)
    case uploadRejected(id: Int, reason: String)
    /// A folder tree's top folder was made (`top`: as saved in the upload folder), with the total its sender
    /// announced, if any (`announced`: display-only). The first event of that tree; a tree whose sender sent no top
    /// folder entry has none.
    case treeStarted(id: Int, summary: FileServerMachine.TreeSummary)
    /// A folder tree's sender said it is complete: what arrived of it (`top`: its folder as saved in the upload
    /// folder), what failed, and what the sender skipped. The last event of that tree.
    case treeReceived(id: Int, summary: FileServerMachine.TreeSummary)
    case error(String)
}

/// Where events go. Called on the loop thread that produced the event.
public typealias EventSink = (NetEvent) -> Void
