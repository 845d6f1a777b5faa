import NetEngine
import NetText

/// Draws the inspector over the whole screen: who and how long, the byte counts and rates, the kernel's view, the
/// payload (hex + ASCII or text), a status or prompt line, and its keys.
enum InspectorRenderer {
    /// Rows above the payload (title, counts, two of TCP_INFO, the payload's heading) and below it (status, footer).
    static let rowsAbove = 5
    static let rowsBelow = 2

    static func payloadHeight(rows: Int) -> Int { max(1, rows - rowsAbove - rowsBelow) }

    static func draw(_ inspector: Inspector, state: ConsoleState, cols: Int, rows: Int, now: Double, _ grid: inout ScreenGrid,
                     cursor: inout (row: Int, col: Int)?) {
        for row in 0..<rows { grid.fill(row: row, col: 0, width: cols) }
        let snapshot = inspector.snapshot
        let row = state.connections.first { $0.id == inspector.connectionID }
        grid.fill(row: 0, col: 0, width: cols, style: .focusedPaneTitle)
        grid.write(title(inspector, snapshot, row), row: 0, col: 0, width: cols, style: .focusedPaneTitle)
        grid.write(counts(inspector, snapshot, row), row: 1, col: 0, width: cols)
        // Once the connection is gone its last TCP_INFO is history, not the kernel's view: not shown as current.
        let kernel = kernelLines(inspector.isGone ? nil : snapshot?.tcp, gone: inspector.isGone)
        grid.write(kernel.0, row: 2, col: 0, width: cols, style: .muted)
        grid.write(kernel.1, row: 3, col: 0, width: cols, style: .muted)
        drawPayload(inspector, top: rowsAbove - 1, height: payloadHeight(rows: rows), cols: cols, &grid)
        let statusRow = rows - 2
        if let prompt = inspector.prompt {
            let label = prompt == .message ? " Send to the peer: " : " Save transcript as: "
            if let at = ConsoleRenderer.drawField(label, inspector.editor, focused: true, row: statusRow, col: 0, width: cols, &grid) {
                cursor = at
            }
        } else if let status = inspector.status {
            grid.write(" " + status, row: statusRow, col: 0, width: cols, style: inspector.statusIsBad ? .bad : .good)
        }
        drawFooter(inspector, row: rows - 1, cols: cols, &grid)
    }

    private static func title(_ inspector: Inspector, _ snapshot: ConnectionSnapshot?, _ row: ConsoleState.ConnectionRow?) -> String {
        let service = snapshot?.service ?? row?.service ?? ""
        let peer = snapshot?.peer.description ?? row?.peer ?? "?"
        let local = snapshot?.local.map { " → \($0)" } ?? ""
        let state = inspector.isGone ? "closed" : snapshot.map { "open \(ConsoleState.formatAge($0.age))" } ?? "…"
        // A client session is named by its number in the client pane (its connection's own number means nothing there).
        let name = inspector.sessionID.map { "session \($0)" } ?? "#\(inspector.connectionID) \(service)"
        // An upload in progress says which file (or folder) and how far, as the server pane's STATE column does.
        let upload = row.flatMap { $0.upload != nil || $0.folder != nil ? " · " + ConsoleState.stateText($0, width: 40) : nil } ?? ""
        return " Inspector · \(name)\(upload) · \(peer)\(local) · \(state)"
    }

    private static func counts(_ inspector: Inspector, _ snapshot: ConnectionSnapshot?, _ row: ConsoleState.ConnectionRow?) -> String {
        let bytesIn = snapshot?.bytesIn ?? row?.bytesIn ?? 0
        let bytesOut = snapshot?.bytesOut ?? row?.bytesOut ?? 0
        func rate(_ value: Double?) -> String { value.map { ConsoleState.formatRate(max(0, $0)) } ?? "–/s" }
        var text = " in \(ConsoleState.formatBytes(bytesIn)) · \(rate(inspector.rateIn))   out \(ConsoleState.formatBytes(bytesOut)) · \(rate(inspector.rateOut))"
        if let tcp = snapshot?.tcp {
            text += "   recv-Q \(ConsoleState.formatBytes(tcp.receiveQueue)) · send-Q \(ConsoleState.formatBytes(tcp.sendQueue))"
        }
        if let pending = snapshot?.pendingOutput, pending > 0 { text += " · unsent \(ConsoleState.formatBytes(pending))" }
        return text
    }

    static func stateName(_ state: UInt8) -> String {
        let names = ["?", "ESTABLISHED", "SYN-SENT", "SYN-RECV", "FIN-WAIT-1", "FIN-WAIT-2", "TIME-WAIT", "CLOSE", "CLOSE-WAIT",
                     "LAST-ACK", "LISTEN", "CLOSING"]
        return Int(state) < names.count ? names[Int(state)] : "state \(state)"
    }

    /// TCP_INFO in two lines.
    static func kernelLines(_ tcp: TCPInfo?, gone: Bool) -> (String, String) {
        guard let tcp else { return (gone ? " TCP: the socket is closed" : " TCP: …", "") }
        let ssthresh = tcp.slowStartThreshold.map(String.init) ?? "–"
        let first = " TCP \(stateName(tcp.state)) · rtt \(ConsoleState.formatRoundTrip(tcp.roundTrip)) ± "
            + "\(ConsoleState.formatRoundTrip(tcp.roundTripVariance)) · cwnd \(tcp.congestionWindow) · ssthresh \(ssthresh) · mss \(tcp.maxSegmentSize)"
        let second = " retransmits \(tcp.retransmits) now, \(tcp.totalRetransmits) in all · unacked \(tcp.unacknowledged) · "
            + "delivery \(ConsoleState.formatRate(Double(tcp.deliveryRate)))"
        return (first, second)
    }

    private static func drawPayload(_ inspector: Inspector, top: Int, height: Int, cols: Int, _ grid: inout ScreenGrid) {
        let lines = inspector.lines
        let first = min(inspector.scroll, max(0, lines.count - height))
        let shown = lines.isEmpty ? "" : " \(first + 1)-\(min(lines.count, first + height))/\(lines.count)"
        let mode = inspector.showsText ? "text" : "hex + ASCII"
        let heading = "─ payload · \(mode) · the last \(ByteCount.format(Int64(PayloadRing.defaultCapacity))) each way\(shown)"
            + (inspector.follows ? " · following" : "") + " "
        grid.write(heading + String(repeating: "─", count: max(0, cols - heading.displayWidth)), row: top, col: 0, width: cols,
                   style: .focusedSection)
        for (index, line) in lines[first..<min(lines.count, first + height)].enumerated() {
            grid.write(line.text, row: top + 1 + index, col: 0, width: cols, style: line.style)
        }
    }

    private static func drawFooter(_ inspector: Inspector, row: Int, cols: Int, _ grid: inout ScreenGrid) {
        var keys: [(String, String)]
        if inspector.prompt != nil {
            keys = [("Enter", inspector.prompt == .message ? "send" : "save"), ("Esc", "cancel")]
        } else {
            keys = KeyBindings.bindings(.inspector).compactMap { binding in
                binding.footer.map { (binding.label.split(separator: " ").first.map(String.init) ?? binding.label, $0) }
            }
            keys.append(("F1", "help"))
        }
        grid.fill(row: row, col: 0, width: cols, style: .footer)
        var x = 0
        for (key, meaning) in keys {
            guard x < cols else { break }
            x += grid.write(" \(key)", row: row, col: x, width: cols - x, style: .footerKey)
            x += grid.write(" \(meaning) ", row: row, col: x, width: cols - x, style: .footer)
        }
    }
}
