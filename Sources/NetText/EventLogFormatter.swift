import NetEngine

/// One human line per engine event, shared by the headless log and the TUI's activity log.
public enum EventLogFormatter {
    public static func line(for event: NetEvent) -> String {
        switch event {
        case let .listening(service, address):
            return "\(service) server listening on \(address)"
        case let .stoppedListening(service, address):
            return "\(service) server on \(address) stopped"
        case let .connectionOpened(id, service, peer):
            return "#\(id) \(peer) connected (\(service))"
        case let .connectionClosed(id, peer, bytesIn, bytesOut, reason):
            let why = reason.map { ": \($0.sanitizedForDisplay)" } ?? ""
            return "#\(id) \(peer) closed, \(bytesIn) bytes in, \(bytesOut) bytes out\(why)"
        case let .connectionRefused(peer, reason):
            return "\(peer) refused: \(reason.sanitizedForDisplay)"
        case let .connectionDenied(service, peer, reason):
            return "\(peer) denied (\(service)): \(reason.sanitizedForDisplay)"
        case let .datagramsEchoed(service, peer, datagrams, bytes):
            return "\(peer) \(service): \(datagrams) datagram\(datagrams == 1 ? "" : "s") (\(bytes) bytes) echoed so far"
        case let .datagramsDropped(service, peer, count, reason):
            return "\(peer) \(service): \(count) datagram\(count == 1 ? "" : "s") dropped so far: \(reason.sanitizedForDisplay)"
        case let .tlsHandshakeFailed(id, peer, reason):
            return "#\(id) \(peer) TLS handshake failed: \(reason.sanitizedForDisplay)"
        case let .bytesReceived(id, count):
            return "#\(id) received \(count) bytes"
        case let .payload(id, received, bytes):
            // A header line, then hex + ASCII lines: control bytes only ever appear as dots or hex.
            let head = "#\(id) \(received ? "←" : "→") \(bytes.count) byte\(bytes.count == 1 ? "" : "s")"
            return ([head] + HexDump.lines(bytes).map { "    " + $0 }).joined(separator: "\n")
        case let .payloadNotShown(id, received, sent):
            return "#\(id) payload not shown (past the --dump limit): \(received) bytes received, \(sent) bytes sent"
        case let .bytesSent(id, count):
            return "#\(id) sent \(count) bytes"
        case let .uploadStarted(id, name, size):
            return "#\(id) upload of '\(name.sanitizedForDisplay)' started" + (size.map { " (\(ByteCount.format($0)))" } ?? "")
        case let .uploadProgress(id, received, size):
            return "#\(id) upload progress \(ByteCount.format(received))" + (size.map { " of \(ByteCount.format($0))" } ?? "")
        case let .fileSaved(id, path, size, sha256):
            return "#\(id) saved \(path.sanitizedForDisplay) (\(size) bytes, sha256 \(sha256))"
        case let .uploadRejected(id, reason):
            return "#\(id) upload rejected: \(reason.sanitizedForDisplay)"
        case let .treeStarted(id, tree):
            return "#\(id) folder \(tree.top.sanitizedForDisplay) arriving" + (tree.announced.map { ": \(announced($0))" } ?? "")
        case let .treeReceived(id, tree):
            let state = tree.isWhole ? "arrived whole" : tree.interrupted ? "is incomplete (the connection ended)" : "is incomplete"
            return "#\(id) folder \(tree.top.sanitizedForDisplay) \(state): "
                + "\(tree.files) file\(tree.files == 1 ? "" : "s"), \(tree.folders) folder\(tree.folders == 1 ? "" : "s"), "
                + "\(ByteCount.format(tree.bytes)), \(tree.skipped) skipped, \(tree.failed) failed"
                + (tree.announced.map { "; \(announced($0))" } ?? "")
        case let .error(message):
            return "error: \(message.sanitizedForDisplay)"
        }
    }

    /// A tree's total as its sender announced it: said to be the sender's word, not what arrived.
    private static func announced(_ total: TreeTotal) -> String {
        "\(total.files) file\(total.files == 1 ? "" : "s") (\(ByteCount.format(total.bytes))) announced"
    }
}
