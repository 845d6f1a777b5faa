import NetEngine

/// A drawn screen and where the terminal cursor belongs (in the focused text field), if anywhere.
public struct RenderedScreen: Equatable {
    public var grid: ScreenGrid
    public var cursor: (row: Int, col: Int)?

    public static func == (lhs: RenderedScreen, rhs: RenderedScreen) -> Bool {
        lhs.grid == rhs.grid && lhs.cursor?.row == rhs.cursor?.row && lhs.cursor?.col == rhs.cursor?.col
    }
}

/// Draws a `ConsoleState` into a `ScreenGrid` of any size. `now` is monotonic seconds, for connection ages.
public enum ConsoleRenderer {
    public static func render(_ state: ConsoleState, cols: Int, rows: Int, now: Double) -> RenderedScreen {
        let layout = ConsoleLayout(cols: cols, rows: rows)
        var grid = ScreenGrid(rows: rows, cols: cols)
        if layout.tooSmall {
            let lines = ["Terminal too small:", "\(cols)x\(rows), needs \(ConsoleLayout.minimumCols)x\(ConsoleLayout.minimumRows).",
                         "Enlarge it, or q quits."]
            for (index, line) in lines.enumerated() { grid.write(line, row: index, col: 0) }
            if let confirmation = state.confirmation { drawConfirmation(confirmation, cols: cols, rows: rows, &grid) }
            return RenderedScreen(grid: grid, cursor: nil)
        }
        var cursor: (row: Int, col: Int)?
        drawServerTitle(state, layout.serverTitle, &grid)
        drawTotals(state, layout.serverTotals, &grid)
        drawConnections(state, layout.connections, now: now, &grid)
        drawLog(state, layout.log, &grid)
        drawSavedFiles(state, layout.savedFiles, besideLog: layout.savedFiles.y == layout.log.y, &grid)
        drawClientTitle(state, layout.clientTitle, &grid)
        drawTargets(state, layout.targetRow, &grid, cursor: &cursor)
        drawMessage(state, layout.messageRow, &grid, cursor: &cursor)
        drawTranscript(state, layout.transcript, &grid)
        drawPicker(state, layout.picker, besideReplies: layout.picker.y == layout.transcript.y, &grid)
        drawFooter(state, layout.footer, &grid)
        if state.showHelp {
            drawHelp(cols: cols, rows: rows, &grid)
            cursor = nil
        }
        if let confirmation = state.confirmation {
            drawConfirmation(confirmation, cols: cols, rows: rows, &grid)
            cursor = nil
        }
        return RenderedScreen(grid: grid, cursor: cursor)
    }

    /// Rows the scrolling parts show, so paging keys move by a screenful.
    public static func viewHeights(cols: Int, rows: Int) -> (log: Int, picker: Int) {
        let layout = ConsoleLayout(cols: cols, rows: rows)
        return (max(1, layout.log.height - 1), max(1, layout.picker.height - 2))
    }

    // MARK: Server pane

    private static func titleBar(_ title: String, focused: Bool, _ rect: Rect, _ grid: inout ScreenGrid) -> Int {
        guard !rect.isEmpty else { return 0 }
        let style: CellStyle = focused ? .focusedPaneTitle : .paneTitle
        grid.fill(row: rect.y, col: rect.x, width: rect.width, style: style)
        return grid.write(" \(title) ", row: rect.y, col: rect.x, width: rect.width, style: style)
    }

    private static func drawServerTitle(_ state: ConsoleState, _ rect: Rect, _ grid: inout ScreenGrid) {
        let used = titleBar("SERVER", focused: state.focus == .server, rect, &grid)
        let style: CellStyle = state.focus == .server ? .focusedPaneTitle : .paneTitle
        var parts: [String] = []
        for service in state.services where state.serviceSelection.includes(service.name) || service.listening {
            let address = service.address ?? "-"
            parts.append("\(service.name) \(address) \(service.listening ? "on" : "off")")
        }
        parts.append("mode: \(state.serviceSelection.rawValue)")
        grid.write(" " + parts.joined(separator: " · "), row: rect.y, col: rect.x + used, width: rect.width - used, style: style)
    }

    private static func drawTotals(_ state: ConsoleState, _ rect: Rect, _ grid: inout ScreenGrid) {
        guard !rect.isEmpty else { return }
        let text = "\(state.openConnectionCount) open · \(state.acceptedTotal) accepted · in \(ByteCount.format(state.bytesInTotal))"
            + " · out \(ByteCount.format(state.bytesOutTotal)) · \(state.savedFiles.count) saved"
        grid.write(" " + text, row: rect.y, col: rect.x, width: rect.width, style: .emphasis)
    }

    struct Column {
        let title: String
        let width: Int
        let alignRight: Bool
    }

    /// Lays out `cells` in `columns` separated by one space, starting at `rect.x`.
    private static func drawRow(_ cells: [String], _ columns: [Column], row: Int, in rect: Rect, style: CellStyle, _ grid: inout ScreenGrid) {
        var x = rect.x + 1
        for (cell, column) in zip(cells, columns) {
            let width = min(column.width, rect.maxX - x)
            guard width > 0 else { break }
            grid.write(cell.fitted(toWidth: width, alignRight: column.alignRight), row: row, col: x, width: width, style: style)
            x += column.width + 1
        }
    }

    private static func drawConnections(_ state: ConsoleState, _ rect: Rect, now: Double, _ grid: inout ScreenGrid) {
        guard rect.height >= 1 else { return }
        let inner = rect.width - 1
        let fixed = 5 + 5 + 9 + 9 + 6 + 7  // id, service, in, out, age, the separating spaces
        let flexible = max(10, inner - fixed)
        let peerWidth = min(47, max(15, flexible / 2))
        let stateWidth = max(5, flexible - peerWidth)
        let columns = [
            Column(title: "#", width: 5, alignRight: false), Column(title: "PEER", width: peerWidth, alignRight: false),
            Column(title: "SVC", width: 5, alignRight: false), Column(title: "STATE", width: stateWidth, alignRight: false),
            Column(title: "IN", width: 9, alignRight: true), Column(title: "OUT", width: 9, alignRight: true),
            Column(title: "AGE", width: 6, alignRight: true),
        ]
        grid.fill(row: rect.y, col: rect.x, width: rect.width, style: .columnHeader)
        drawRow(columns.map(\.title), columns, row: rect.y, in: rect, style: .columnHeader, &grid)
        let space = rect.height - 1
        guard space > 0 else { return }
        let all = state.connections
        if all.isEmpty {
            let summary = state.acceptedTotal == 0 ? "no connections yet" : "none open · \(state.acceptedTotal) accepted"
            grid.write(" \(summary): try  nc \(state.target.text.replacingColon())", row: rect.y + 1, col: rect.x, width: rect.width, style: .muted)
            return
        }
        var shown = ArraySlice(all)
        var hiddenCount = 0
        if all.count > space {
            hiddenCount = all.count - (space - 1)
            shown = all.suffix(space - 1)
        }
        var row = rect.y + 1
        if hiddenCount > 0 {
            grid.write(" … \(hiddenCount) earlier connection\(hiddenCount == 1 ? "" : "s") not shown", row: row, col: rect.x, width: rect.width, style: .muted)
            row += 1
        }
        for connection in shown {
            let closed = connection.closedAt != nil
            let stateText: String
            if let upload = connection.upload {
                let percent = upload.size.map { $0 > 0 ? " \(Int(upload.received * 100 / $0))%" : "" } ?? " \(ByteCount.format(upload.received))"
                stateText = "upload\(percent) \(upload.name.truncatedInMiddle(toWidth: max(1, stateWidth - 12)))"
            } else if closed {
                stateText = connection.closeReason.map { "closed: \($0)" } ?? "closed"
            } else {
                stateText = "open"
            }
            let age = (connection.closedAt ?? now) - connection.openedAt
            let cells = ["\(connection.id)", connection.peer, connection.service, stateText,
                         ConsoleState.formatBytes(connection.bytesIn), ConsoleState.formatBytes(connection.bytesOut), ConsoleState.formatAge(age)]
            drawRow(cells, columns, row: row, in: rect, style: closed ? .muted : .normal, &grid)
            row += 1
        }
    }

    private static func sectionTitle(_ title: String, _ rect: Rect, _ grid: inout ScreenGrid) {
        guard !rect.isEmpty else { return }
        grid.fill(row: rect.y, col: rect.x, width: rect.width, with: "─", style: .muted)
        grid.write("─ \(title) ", row: rect.y, col: rect.x, width: rect.width, style: .emphasis)
    }

    private static func drawLog(_ state: ConsoleState, _ rect: Rect, _ grid: inout ScreenGrid) {
        let following = state.log.isFollowing
        sectionTitle(following ? "Activity" : "Activity (scrolled back: End follows)", rect, &grid)
        let lines = state.log.visibleLines(height: rect.height - 1)
        var row = rect.y + 1
        for line in lines {
            let used = grid.write(line.time + " ", row: row, col: rect.x, width: rect.width, style: .muted)
            grid.write(line.text, row: row, col: rect.x + used, width: rect.width - used - 1, style: line.style)
            row += 1
        }
    }

    private static func drawSavedFiles(_ state: ConsoleState, _ rect: Rect, besideLog: Bool, _ grid: inout ScreenGrid) {
        let separator = besideLog ? 1 : 0
        let area = Rect(x: rect.x + separator, y: rect.y, width: rect.width - separator, height: rect.height)
        if separator == 1 {
            for y in rect.y..<rect.maxY { grid.write(y == rect.y ? "┬" : "│", row: y, col: rect.x, width: 1, style: .muted) }
        }
        sectionTitle("Saved files → \(state.saveDirectory.sanitizedForDisplay)", area, &grid)
        let space = area.height - 1
        guard space > 0 else { return }
        if state.savedFiles.isEmpty {
            grid.write(" none yet", row: area.y + 1, col: area.x, width: area.width, style: .muted)
            return
        }
        var row = area.y + 1
        // Newest first.
        for file in state.savedFiles.reversed().prefix(space) {
            let meta = savedFileMeta(file, nameRoom: area.width - 1)
            let nameWidth = max(4, area.width - meta.displayWidth - 1)
            grid.write(" " + file.name.truncatedInMiddle(toWidth: nameWidth - 1).fitted(toWidth: nameWidth - 1), row: row, col: area.x, width: nameWidth, style: .normal)
            grid.write(meta, row: row, col: area.x + nameWidth, width: area.width - nameWidth, style: .muted)
            row += 1
        }
    }

    /// Size, SHA-256 prefix and time of a saved file; on a narrow pane the time and then the digest give way so
    /// the name keeps at least 12 columns.
    private static func savedFileMeta(_ file: ConsoleState.SavedFileRow, nameRoom: Int) -> String {
        let size = " \(ByteCount.format(file.size).fitted(toWidth: 9, alignRight: true))"
        let candidates = [size + " \(String(file.sha256.prefix(8))) \(file.time)", size + " \(String(file.sha256.prefix(8)))", size]
        return candidates.first { nameRoom - $0.displayWidth >= 12 } ?? size
    }

    // MARK: Client pane

    private static func drawClientTitle(_ state: ConsoleState, _ rect: Rect, _ grid: inout ScreenGrid) {
        let used = titleBar("CLIENT", focused: state.focus.isClientPane, rect, &grid)
        let style: CellStyle = state.focus.isClientPane ? .focusedPaneTitle : .paneTitle
        grid.write(" echo messages and send files", row: rect.y, col: rect.x + used, width: rect.width - used, style: style)
    }

    /// Draws "label [field]" and returns the cursor position when the field has focus.
    private static func drawField(_ label: String, _ editor: LineEditor, focused: Bool, row: Int, col: Int, width: Int,
                                  _ grid: inout ScreenGrid) -> (row: Int, col: Int)? {
        guard width > label.displayWidth + 3 else { return nil }
        let used = grid.write(label, row: row, col: col, width: width, style: focused ? .emphasis : .normal)
        let fieldWidth = width - used
        let style: CellStyle = focused ? .focusedField : .field
        grid.fill(row: row, col: col + used, width: fieldWidth, style: style)
        let slice = editor.visibleSlice(width: fieldWidth - 1, focused: focused)
        grid.write(slice.text.sanitizedForDisplay, row: row, col: col + used, width: fieldWidth, style: style)
        return focused ? (row, col + used + slice.cursorColumn) : nil
    }

    private static func drawTargets(_ state: ConsoleState, _ rect: Rect, _ grid: inout ScreenGrid, cursor: inout (row: Int, col: Int)?) {
        guard !rect.isEmpty else { return }
        let half = rect.width / 2
        if let c = drawField(" Echo to: ", state.target, focused: state.focus == .target, row: rect.y, col: rect.x, width: half - 1, &grid) { cursor = c }
        if let c = drawField(" Files to: ", state.fileTarget, focused: state.focus == .fileTarget, row: rect.y, col: rect.x + half, width: rect.width - half, &grid) { cursor = c }
    }

    private static func drawMessage(_ state: ConsoleState, _ rect: Rect, _ grid: inout ScreenGrid, cursor: inout (row: Int, col: Int)?) {
        guard !rect.isEmpty else { return }
        if let c = drawField(" Message: ", state.message, focused: state.focus == .message, row: rect.y, col: rect.x, width: rect.width, &grid) { cursor = c }
    }

    private static func drawTranscript(_ state: ConsoleState, _ rect: Rect, _ grid: inout ScreenGrid) {
        sectionTitle("Replies", rect, &grid)
        let lines = state.transcript.visibleLines(height: rect.height - 1)
        var row = rect.y + 1
        for line in lines {
            var textWidth = rect.width - 1
            if let detail = line.detail {
                let detailWidth = detail.displayWidth
                textWidth = max(0, rect.width - 2 - detailWidth - 1)
                grid.write(detail, row: row, col: rect.x + rect.width - 1 - detailWidth, width: detailWidth, style: .muted)
            }
            grid.write(" " + line.text, row: row, col: rect.x, width: textWidth, style: line.style)
            row += 1
        }
    }

    private static func drawPicker(_ state: ConsoleState, _ rect: Rect, besideReplies: Bool, _ grid: inout ScreenGrid) {
        guard !rect.isEmpty else { return }
        let picker = state.picker
        let focused = state.focus == .files
        let separator = besideReplies ? 1 : 0
        if separator == 1 {
            for y in rect.y..<rect.maxY { grid.write(y == rect.y ? "┬" : "│", row: y, col: rect.x, width: 1, style: .muted) }
        }
        let area = Rect(x: rect.x + separator, y: rect.y, width: rect.width - separator, height: rect.height)
        let filter = picker.filter.isEmpty ? "" : "  filter: \(picker.filter.sanitizedForDisplay)"
        let directory = picker.directory.sanitizedForDisplay
        let title = "Files " + directory.truncatedInMiddle(toWidth: max(8, area.width - 10 - filter.displayWidth)) + filter
        grid.fill(row: area.y, col: area.x, width: area.width, with: "─", style: .muted)
        grid.write("─ \(title) ", row: area.y, col: area.x, width: area.width, style: focused ? .accent : .emphasis)

        // The last row belongs to the transfer's progress bar or verdict when there is one.
        let transferRows = state.transfer == nil ? 0 : 1
        let listHeight = area.height - 1 - transferRows
        if let transfer = state.transfer, area.height >= 2 {
            drawTransfer(transfer, row: area.maxY - 1, col: area.x, width: area.width, &grid)
        }
        guard listHeight > 0 else { return }
        let visible = picker.visibleEntries
        if visible.isEmpty {
            grid.write(" " + (picker.problem ?? "nothing matches"), row: area.y + 1, col: area.x, width: area.width, style: .muted)
            return
        }
        let first = max(0, min(picker.selection - listHeight / 2, visible.count - listHeight))
        for (offset, entry) in visible[first..<min(visible.count, first + listHeight)].enumerated() {
            let index = first + offset
            let row = area.y + 1 + offset
            let selected = index == picker.selection
            let style: CellStyle = selected ? (focused ? .selected : .emphasis) : (entry.kind == .file ? .normal : .accent)
            let sizeText = entry.kind == .file ? ByteCount.format(entry.size) : (entry.kind == .parent ? "up" : "dir")
            let name = entry.kind == .file ? entry.name : entry.name + "/"
            let nameWidth = max(1, area.width - 12)
            if selected { grid.fill(row: row, col: area.x, width: area.width, style: style) }
            grid.write((selected ? "›" : " ") + name.sanitizedForDisplay.truncatedInMiddle(toWidth: nameWidth - 1), row: row, col: area.x, width: nameWidth, style: style)
            grid.write(sizeText.fitted(toWidth: 10, alignRight: true), row: row, col: area.x + nameWidth, width: area.width - nameWidth, style: style)
        }
    }

    private static func drawTransfer(_ transfer: ConsoleState.TransferRow, row: Int, col: Int, width: Int, _ grid: inout ScreenGrid) {
        if let verdict = transfer.verdict {
            let mark = transfer.succeeded == true ? "✓" : "✗"
            grid.write(" \(mark) \(transfer.name) \(verdict)", row: row, col: col, width: width, style: transfer.succeeded == true ? .good : .bad)
            return
        }
        let fraction = transfer.size.map { $0 > 0 ? Double(transfer.sent) / Double($0) : 1 } ?? 0
        let percent = "\(Int(fraction * 100))%".fitted(toWidth: 4, alignRight: true)
        let barWidth = max(4, min(20, width / 3))
        let filled = Int(Double(barWidth) * min(1, fraction))
        let bar = "[" + String(repeating: "█", count: filled) + String(repeating: "░", count: barWidth - filled) + "]"
        let used = grid.write(" " + bar + " " + percent + " ", row: row, col: col, width: width, style: .accent)
        grid.write(transfer.name, row: row, col: col + used, width: width - used, style: .normal)
    }

    // MARK: Footer and help

    private static func drawFooter(_ state: ConsoleState, _ rect: Rect, _ grid: inout ScreenGrid) {
        guard !rect.isEmpty else { return }
        var keys: [(String, String)]
        switch state.focus {
        case .server:
            keys = [("Tab", "client"), ("s", state.isListening ? "stop" : "start"), ("m", "mode"), ("↑↓", "log"), ("?", "help"), ("q", "quit")]
        case .target, .fileTarget:
            keys = [("Enter", "done"), ("Tab", "next"), ("Esc", "server pane"), ("F1", "help"), ("^C", "quit")]
        case .message:
            keys = [("Enter", "send"), ("Tab", "next"), ("Esc", "server pane"), ("F1", "help"), ("^C", "quit"), ("↑↓", "history")]
        case .files:
            keys = [("type", "filter"), ("↑↓", "select"), ("Enter", "open/send"), ("Bksp", "up"), ("^X", "cancel"), ("Esc", "back"), ("F1", "help")]
        }
        if state.confirmation != nil { keys = [("y", "yes"), ("n", "no"), ("Esc", "cancel")] }
        grid.fill(row: rect.y, col: rect.x, width: rect.width, style: .footer)
        var x = rect.x
        for (key, meaning) in keys {
            guard x < rect.maxX else { break }
            x += grid.write(" \(key)", row: rect.y, col: x, width: rect.maxX - x, style: .accent)
            x += grid.write(" \(meaning) ", row: rect.y, col: x, width: rect.maxX - x, style: .footer)
        }
    }

    static let helpLines = [
        "netconsole — keys",
        "",
        "Tab / Shift-Tab   next / previous field",
        "Esc               back to the server pane",
        "F1, ? (server)    this help; any key closes it",
        "q (server), Ctrl-C, F10   quit",
        "",
        "Server pane",
        "  s               stop or start listening",
        "  m               mode: echo + files, echo, files",
        "  ↑ ↓ PgUp PgDn   scroll the activity log; End follows",
        "  c               clear the log",
        "",
        "Client pane",
        "  Echo to / Files to   where messages and files go",
        "  Message: Enter sends, ↑ ↓ browse history",
        "  Files: type to filter, Enter opens a folder or",
        "         sends the file, Backspace goes up, ^X cancels",
    ]

    /// A small box in the middle of the screen: the question, what would be lost, and the answers.
    private static func drawConfirmation(_ confirmation: Confirmation, cols: Int, rows: Int, _ grid: inout ScreenGrid) {
        let answers = "y yes   n no"
        let lines = [""] + confirmation.detail + ["", answers]
        let contentWidth = max(confirmation.title.displayWidth + 2, lines.map(\.displayWidth).max() ?? 0)
        let width = min(cols, contentWidth + 4)
        let height = min(rows, lines.count + 2)
        guard width >= 8, height >= 3 else { return }
        let x = (cols - width) / 2
        let y = max(0, (rows - height) / 2)
        for row in y..<(y + height) { grid.fill(row: row, col: x, width: width, style: .help) }
        grid.write("┌" + String(repeating: "─", count: width - 2) + "┐", row: y, col: x, width: width, style: .help)
        grid.write(" \(confirmation.title) ", row: y, col: x + 2, width: width - 4, style: .help)
        grid.write("└" + String(repeating: "─", count: width - 2) + "┘", row: y + height - 1, col: x, width: width, style: .help)
        for row in (y + 1)..<(y + height - 1) {
            grid.write("│", row: row, col: x, width: 1, style: .help)
            grid.write("│", row: row, col: x + width - 1, width: 1, style: .help)
        }
        for (index, line) in lines.prefix(height - 2).enumerated() {
            grid.write(line, row: y + 1 + index, col: x + 2, width: width - 4, style: line == answers ? .accent : .help)
        }
    }

    private static func drawHelp(cols: Int, rows: Int, _ grid: inout ScreenGrid) {
        let contentWidth = helpLines.map(\.displayWidth).max() ?? 0
        let width = min(cols - 2, contentWidth + 4)
        let height = min(rows - 2, helpLines.count + 2)
        guard width > 10, height > 3 else { return }
        let x = (cols - width) / 2
        let y = (rows - height) / 2
        for row in y..<(y + height) { grid.fill(row: row, col: x, width: width, style: .help) }
        grid.write("┌" + String(repeating: "─", count: width - 2) + "┐", row: y, col: x, width: width, style: .help)
        grid.write("└" + String(repeating: "─", count: width - 2) + "┘", row: y + height - 1, col: x, width: width, style: .help)
        for row in (y + 1)..<(y + height - 1) {
            grid.write("│", row: row, col: x, width: 1, style: .help)
            grid.write("│", row: row, col: x + width - 1, width: 1, style: .help)
        }
        for (index, line) in helpLines.prefix(height - 2).enumerated() {
            grid.write(line, row: y + 1 + index, col: x + 2, width: width - 4, style: .help)
        }
    }
}

private extension String {
    /// "127.0.0.1:12345" as nc wants it: "127.0.0.1 12345".
    func replacingColon() -> String {
        guard let colon = lastIndex(of: ":") else { return self }
        var host = String(self[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return host + " " + self[index(after: colon)...]
    }
}
