import NetEngine
import NetText

/// The server pane: engine events folded into the view, and the connection list.
extension ConsoleState {
    // MARK: Engine events

    /// Folds one server event into the view. `now` is monotonic seconds, `clock` the wall time to show.
    public mutating func apply(_ event: NetEvent, now: Double, clock: String) {
        switch event {
        case let .listening(service, address):
            update(service) {
                $0.address = address.description
                $0.listening = true
            }
            suggestTarget(for: service, address: address)
        case let .stoppedListening(service, _):
            update(service) { $0.listening = false }
        case let .connectionOpened(id, service, peer):
            acceptedTotal += 1
            var row = ConnectionRow(id: id, service: service, peer: peer.description, openedAt: now)
            row.rate.record(0, at: now)
            connections.append(row)
        case let .connectionClosed(id, _, bytesIn, bytesOut, reason):
            if let index = connections.firstIndex(where: { $0.id == id }) {
                connections[index].bytesIn = bytesIn
                connections[index].bytesOut = bytesOut
                connections[index].closedAt = now
                connections[index].closeReason = reason?.sanitizedForDisplay
            }
        case let .bytesReceived(id, count):
            bytesInTotal += count
            updateConnection(id) {
                $0.bytesIn += count
                $0.rate.record(count, at: now)
            }
            return
        case .payload, .payloadNotShown:
            // The console does not dump payloads into its log; the inspector will show them.
            return
        case let .bytesSent(id, count):
            bytesOutTotal += count
            updateConnection(id) {
                $0.bytesOut += count
                $0.rate.record(count, at: now)
            }
            return
        case let .uploadStarted(id, name, size):
            noteTreeUpload(id, name: name)
            updateConnection(id) { $0.upload = UploadRow(name: name.sanitizedForDisplay, received: 0, size: size) }
        case let .uploadProgress(id, received, size):
            updateConnection(id) {
                $0.upload?.received = received
                $0.upload?.size = size
            }
            return
        case let .fileSaved(id, path, size, sha256):
            let inTree = noteTreeFileSaved(id, size: size)
            updateConnection(id) { $0.upload = nil }
            if !inTree {
                let name = path.split(separator: "/").last.map(String.init) ?? path
                addSaved(SavedFileRow(name: name.sanitizedForDisplay, size: size, sha256: sha256.sanitizedForDisplay, time: clock))
            }
        case let .uploadRejected(id, _):
            noteTreeFileRejected(id)
            updateConnection(id) { $0.upload = nil }
        case let .treeStarted(id, summary):
            noteTreeStarted(id, summary)
        case let .treeReceived(id, summary):
            noteTreeReceived(id, summary, clock: clock)
        case let .datagramsEchoed(service, peer, datagrams, bytes):
            noteDatagrams(service: service, peer: peer, datagrams: datagrams, bytes: bytes, now: now)
            // Its first datagram is news for the log; later totals (at most one a second) only move the row.
            if datagrams > 1 { return }
        case .connectionRefused, .connectionDenied, .datagramsDropped, .tlsHandshakeFailed, .error:
            break
        }
        log.append(EventLogFormatter.line(for: event), time: clock, style: Self.logStyle(for: event))
    }

    /// Drops closed connections that have been shown long enough. Returns whether anything changed.
    @discardableResult
    public mutating func expireClosedConnections(now: Double) -> Bool {
        endIdleUDPPeers(now: now)
        let before = connections.count
        let selectedIndex = selectedConnectionIndex
        connections.removeAll { $0.closedAt.map { now - $0 >= Self.closedLinger } ?? false }
        if let selectedIndex, let id = selectedConnectionID, !connections.contains(where: { $0.id == id }) {
            let listed = listedConnections
            selectedConnectionID = listed.isEmpty ? nil : listed[min(selectedIndex, listed.count - 1)].id
        }
        return connections.count != before
    }

    /// Adds a line of the console's own (not a server event) to the activity log.
    public mutating func note(_ text: String, clock: String, style: CellStyle = .muted) {
        log.append(text.sanitizedForDisplay, time: clock, style: style)
    }

    private static func logStyle(for event: NetEvent) -> CellStyle {
        switch event {
        case .error, .uploadRejected, .connectionRefused, .connectionDenied, .tlsHandshakeFailed: return .bad
        case .fileSaved, .listening: return .good
        case let .treeReceived(_, tree): return tree.isWhole ? .good : .bad
        case .connectionClosed(_, _, _, _, let reason): return reason == nil ? .muted : .bad
        default: return .normal
        }
    }

    private mutating func update(_ service: String, _ change: (inout ServiceStatus) -> Void) {
        if let index = services.firstIndex(where: { $0.name == service }) {
            change(&services[index])
        } else {
            var status = ServiceStatus(name: service)
            change(&status)
            services.append(status)
        }
    }

    mutating func addSaved(_ row: SavedFileRow) {
        savedFiles.append(row)
        if savedFiles.count > 500 {
            let dropped = savedFiles.count - 500
            savedFiles.removeFirst(dropped)
            selectedSavedFile = selectedSavedFile.map { max(0, $0 - dropped) }
        }
    }

    mutating func updateConnection(_ id: Int, _ change: (inout ConnectionRow) -> Void) {
        // Newest connections are at the end and get the most events.
        if let index = connections.lastIndex(where: { $0.id == id }) { change(&connections[index]) }
    }

    /// Points the client at the console's own servers until the user types another target.
    private mutating func suggestTarget(for service: String, address: SocketAddress) {
        let host = ["0.0.0.0", "::", ""].contains(address.host) ? "127.0.0.1" : address.host
        let text = Endpoint(host: host, port: address.port).description
        if service == Self.echoService && !targetEdited { target.setText(text) }
        if service == Self.filesService && !fileTargetEdited { fileTarget.setText(text) }
    }

    // MARK: Connection list

    /// The connections as listed: filtered, open ones first, each group in the chosen order.
    public var listedConnections: [ConnectionRow] {
        let needle = connectionFilter.text.lowercased()
        let shown = needle.isEmpty ? connections : connections.filter {
            $0.peer.lowercased().contains(needle) || $0.service.lowercased().contains(needle)
                || Self.stateText($0).lowercased().contains(needle) || "\($0.id)" == needle
        }
        let order: (ConnectionRow, ConnectionRow) -> Bool
        switch connectionSort {
        case .number: order = { $0.id < $1.id }
        case .peer: order = { ($0.peer, $0.id) < ($1.peer, $1.id) }
        case .bytesIn: order = { ($1.bytesIn, $0.id) < ($0.bytesIn, $1.id) }
        case .bytesOut: order = { ($1.bytesOut, $0.id) < ($0.bytesOut, $1.id) }
        }
        return shown.filter { $0.closedAt == nil }.sorted(by: order) + shown.filter { $0.closedAt != nil }.sorted(by: order)
    }

    /// Where the selected connection is in `listedConnections`.
    public var selectedConnectionIndex: Int? { selectedConnectionIndex(in: listedConnections) }

    /// Where the selected connection is in `listed`, which must be `listedConnections` (computed once per frame).
    public func selectedConnectionIndex(in listed: [ConnectionRow]) -> Int? {
        guard let id = selectedConnectionID, !listed.isEmpty else { return nil }
        return listed.firstIndex { $0.id == id } ?? min(selectedConnectionHint, listed.count - 1)
    }

    /// What the STATE column says: open, closed (with the reason) or the upload's progress.
    public static func stateText(_ connection: ConnectionRow) -> String {
        let parts = stateParts(connection)
        return parts.lead + parts.name
    }

    /// The STATE column in two parts: what a narrow column keeps whole ("upload 66% ", "3/10 files "), and a name it
    /// cuts in the middle (so "upload 66% big300.bin" never reads "upload 2…bin").
    public static func stateParts(_ connection: ConnectionRow) -> (lead: String, name: String) {
        if let udp = connection.udp { return (udpStateText(connection, udp), "") }
        if let folder = connection.folder { return (folder.lead, folder.name) }
        if let upload = connection.upload {
            let percent = upload.size.map { $0 > 0 ? "\(Int(upload.received * 100 / $0))%" : "" } ?? formatBytes(Int(upload.received))
            return ("upload \(percent) ", upload.name)
        }
        if connection.closedAt != nil { return (connection.closeReason.map { "closed: \($0)" } ?? "closed", "") }
        return ("open", "")
    }

    /// `stateParts` in `width` columns: the lead first (cut at its end only when it alone is too wide), the name cut
    /// in the middle to what is left.
    public static func stateText(_ connection: ConnectionRow, width: Int) -> String {
        let (lead, name) = stateParts(connection)
        if name.isEmpty { return lead.truncatedInMiddle(toWidth: width) }
        let counts = lead.hasSuffix(" ") ? String(lead.dropLast()) : lead
        if lead.displayWidth >= width {
            // Narrower still: the number alone ("10%", "3/10") rather than a cut word.
            let number = String(counts.split(separator: " ").first { $0.contains("%") || $0.contains("/") || $0.first?.isNumber == true } ?? Substring(counts))
            return (counts.displayWidth <= width ? counts : number).truncated(toWidth: width)
        }
        let room = width - lead.displayWidth
        // A folder keeps its "/" however little room is left: it says the row is a folder.
        if name.hasSuffix("/") && room >= 2 && room < 6 && name.displayWidth > room {
            return lead + String(name.dropLast()).truncated(toWidth: room - 1) + "/"
        }
        return lead + name.truncatedInMiddle(toWidth: room)
    }

    mutating func moveConnectionSelection(_ command: ConsoleCommand) {
        let listed = listedConnections
        guard !listed.isEmpty else { return }
        let page = max(1, connectionViewHeight - 1)
        let current = selectedConnectionIndex(in: listed)
        let target: Int
        switch command {
        case .lineUp: target = (current ?? 1) - 1
        case .lineDown: target = (current ?? -1) + 1
        case .pageUp: target = (current ?? 0) - page
        case .pageDown: target = (current ?? 0) + page
        case .first: target = 0
        default: target = listed.count - 1
        }
        let index = min(max(0, target), listed.count - 1)
        selectedConnectionID = listed[index].id
        selectedConnectionHint = index
        let height = max(1, connectionViewHeight)
        if index < connectionScroll { connectionScroll = index }
        if index >= connectionScroll + height { connectionScroll = index - height + 1 }
    }

    func describe(_ connection: ConnectionRow) -> String {
        "#\(connection.udp?.label ?? "\(connection.id)") \(connection.service) \(connection.peer) · \(Self.stateText(connection)) · in \(connection.bytesIn) bytes"
            + " · out \(connection.bytesOut) bytes"
    }
}
