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
    /// How to reach one of the console's own servers from another terminal: its echo server (else its file server),
    /// with a client that speaks TLS when the servers do; empty when none listens.
    static func tryCommand(_ state: ConsoleState) -> String {
        let listening = state.services.filter(\.listening)
        guard let service = listening.first(where: { $0.name == ConsoleState.echoService }) ?? listening.first,
              let address = service.address else { return "" }
        var endpoint = address
        for wildcard in ["0.0.0.0:", "[::]:"] where endpoint.hasPrefix(wildcard) { endpoint = "127.0.0.1:" + endpoint.dropFirst(wildcard.count) }
        if state.tlsFingerprint != nil { return ": try  openssl s_client -quiet -connect \(endpoint)" }
        return ": try  nc \(endpoint.replacingColon())"
    }

    public static func render(_ state: ConsoleState, cols: Int, rows: Int, now: Double) -> RenderedScreen {
        let layout = ConsoleLayout(cols: cols, rows: rows)
        var grid = ScreenGrid(rows: rows, cols: cols)
        if layout.tooSmall {
            let lines = ["Terminal too small:", "\(cols)x\(rows), needs \(ConsoleLayout.minimumCols)x\(ConsoleLayout.minimumRows).",
                         "Enlarge it, or q quits."]
            for (index, line) in lines.enumerated() { grid.write(line, row: index, col: 0) }
            if let confirmation = state.confirmation ?? state.uploadAskConfirmation(now: now) { drawConfirmation(confirmation, cols: cols, rows: rows, &grid) }
            return RenderedScreen(grid: grid, cursor: nil)
        }
        var cursor: (row: Int, col: Int)?
        drawServerTitle(state, layout.serverTitle, &grid)
        // Filtered and sorted once per frame: with thousands of connections this is the costly part.
        let listed = state.listedConnections
        drawTotals(state, listed, layout.serverTotals, tableHeight: max(1, layout.connections.height - 1), &grid)
        drawConnections(state, listed, layout.connections, now: now, &grid)
        drawLog(state, layout.log, &grid)
        drawSavedFiles(state, layout.savedFiles, besideLog: layout.savedFiles.y == layout.log.y, &grid)
        drawClientTitle(state, layout.clientTitle, &grid)
        drawTargets(state, layout.targetRow, &grid, cursor: &cursor)
        drawMessage(state, layout.messageRow, &grid, cursor: &cursor)
        drawTranscript(state, layout.transcript, &grid)
        drawPicker(state, layout.picker, besideReplies: layout.picker.y == layout.transcript.y, now: now, &grid)
        drawFooter(state, layout.footer, &grid)
        if let inspector = state.inspector {
            cursor = nil
            InspectorRenderer.draw(inspector, state: state, cols: cols, rows: rows, now: now, &grid, cursor: &cursor)
        }
        if state.showHelp {
            drawHelp(state, cols: cols, rows: rows, &grid)
            cursor = nil
        }
        if let viewer = state.viewer {
            drawViewer(viewer, cols: cols, rows: rows, &grid)
            cursor = nil
        }
        if let confirmation = state.confirmation ?? state.uploadAskConfirmation(now: now) {
            drawConfirmation(confirmation, cols: cols, rows: rows, &grid)
            cursor = nil
        }
        return RenderedScreen(grid: grid, cursor: cursor)
    }

    /// The first row of a list that keeps its selection in the middle (the picker, the saved files).
    static func centeredFirst(selected: Int, count: Int, height: Int) -> Int {
        max(0, min(selected - height / 2, count - height))
    }

    /// Rows the scrolling parts show, so paging keys move by a screenful.
    public static func viewHeights(cols: Int, rows: Int) -> (log: Int, picker: Int, connections: Int, replies: Int, saved: Int) {
        let layout = ConsoleLayout(cols: cols, rows: rows)
        return (max(1, layout.log.height - 1), max(1, layout.picker.height - 2), max(1, layout.connections.height - 1),
                max(1, layout.transcript.height - 1), max(1, layout.savedFiles.height - 1))
    }

    // MARK: Server pane

    private static func titleBar(_ title: String, focused: Bool, _ rect: Rect, _ grid: inout ScreenGrid) -> Int {
        guard !rect.isEmpty else { return 0 }
        let style: CellStyle = focused ? .focusedPaneTitle : .paneTitle
        grid.fill(row: rect.y, col: rect.x, width: rect.width, style: style)
        return grid.write(" \(title) ", row: rect.y, col: rect.x, width: rect.width, style: style)
    }

    private static func drawServerTitle(_ state: ConsoleState, _ rect: Rect, _ grid: inout ScreenGrid) {
        let focused = !state.focus.isClientPane
        let used = titleBar("SERVER", focused: focused, rect, &grid)
        let style: CellStyle = focused ? .focusedPaneTitle : .paneTitle
        var parts: [String] = []
        let echo = state.services.first { $0.name == ConsoleState.echoService }
        for service in state.services where state.serviceSelection.includes(service.name) || service.listening {
            let address = service.address ?? "-"
            if service.name == ConsoleState.udpEchoService, let echo, echo.address == service.address, echo.listening == service.listening {
                // UDP beside TCP echo on the same address: said with it, so the title stays short.
                if let index = parts.firstIndex(where: { $0.hasPrefix(ConsoleState.echoService + " ") }) { parts[index] += " +udp" }
                continue
            }
            parts.append("\(service.name) \(address) \(service.listening ? "on" : "off")")
        }
        parts.append("mode: \(state.serviceSelection.rawValue)")
        // The start of the fingerprint, enough to compare by eye; the whole one is in the server log.
        if let fingerprint = state.tlsFingerprint { parts.append("TLS \(fingerprint.prefix(23))…") }
        grid.write(" " + parts.joined(separator: " · "), row: rect.y, col: rect.x + used, width: rect.width - used, style: style)
    }

    /// Totals on the left; on the right the list's sort, filter and position ("12/303"), which stay visible.
    private static func drawTotals(_ state: ConsoleState, _ listed: [ConsoleState.ConnectionRow], _ rect: Rect, tableHeight: Int,
                                   _ grid: inout ScreenGrid) {
        guard !rect.isEmpty else { return }
        let text = "\(state.openConnectionCount) open · \(state.acceptedTotal) accepted · in \(ByteCount.format(state.bytesInTotal))"
            + " · out \(ByteCount.format(state.bytesOutTotal)) · \(state.savedFiles.count) saved"
        var right: [String] = []
        if state.connectionSort != .number { right.append("sort: \(state.connectionSort.rawValue)") }
        if state.editingConnectionFilter || !state.connectionFilter.text.isEmpty {
            right.append("filter: " + state.connectionFilter.text.sanitizedForDisplay.truncated(toWidth: 16) + (state.editingConnectionFilter ? "▏" : ""))
        }
        if !listed.isEmpty {
            let selected = state.selectedConnectionIndex(in: listed)
            let window = connectionWindow(state, count: listed.count, selected: selected, height: tableHeight)
            if let selected {
                right.append("\(selected + 1)/\(listed.count)")
            } else {
                right.append("\(window.first + 1)-\(window.first + window.count)/\(listed.count)")
            }
        }
        let rightText = right.joined(separator: " · ")
        let rightWidth = rightText.displayWidth
        let leftWidth = max(0, rect.width - (rightWidth > 0 ? rightWidth + 2 : 0))
        grid.write(" " + text, row: rect.y, col: rect.x, width: leftWidth, style: .emphasis)
        if rightWidth > 0 && rightWidth < rect.width {
            grid.write(rightText, row: rect.y, col: rect.maxX - rightWidth - 1, width: rightWidth, style: state.editingConnectionFilter ? .accent : .muted)
        }
    }

    /// The rows of the connection list shown: from the state's scroll position, moved only as far as needed to
    /// keep the selection in view when rows came or went.
    static func connectionWindow(_ state: ConsoleState, count: Int, selected: Int?, height: Int) -> (first: Int, count: Int) {
        let height = max(1, height)
        var first = min(state.connectionScroll, max(0, count - height))
        if let selected {
            if selected < first { first = selected }
            if selected >= first + height { first = selected - height + 1 }
        }
        return (first, min(height, count - first))
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

    private static func drawConnections(_ state: ConsoleState, _ all: [ConsoleState.ConnectionRow], _ rect: Rect, now: Double,
                                        _ grid: inout ScreenGrid) {
        guard rect.height >= 1 else { return }
        let inner = rect.width - 1
        let fixed = 5 + 5 + 9 + 9 + 10 + 6 + 8  // id, service, in, out, rate, age, the separating spaces
        let flexible = max(10, inner - fixed)
        let peerWidth = min(47, max(15, flexible / 2))
        let stateWidth = max(5, flexible - peerWidth)
        let columns = [
            Column(title: "#", width: 5, alignRight: false), Column(title: "PEER", width: peerWidth, alignRight: false),
            Column(title: "SVC", width: 5, alignRight: false), Column(title: "STATE", width: stateWidth, alignRight: false),
            Column(title: "IN", width: 9, alignRight: true), Column(title: "OUT", width: 9, alignRight: true),
            Column(title: "RATE", width: 10, alignRight: true), Column(title: "AGE", width: 6, alignRight: true),
        ]
        grid.fill(row: rect.y, col: rect.x, width: rect.width, style: .columnHeader)
        drawRow(columns.map(\.title), columns, row: rect.y, in: rect, style: .columnHeader, &grid)
        let space = rect.height - 1
        guard space > 0 else { return }
        if all.isEmpty {
            let summary: String
            if !state.connections.isEmpty {
                summary = "nothing matches the filter (/ changes it, Esc in it clears it)"
            } else if state.acceptedTotal == 0 {
                summary = "no connections yet" + tryCommand(state)
            } else {
                summary = "none open · \(state.acceptedTotal) accepted" + tryCommand(state)
            }
            grid.write(" " + summary, row: rect.y + 1, col: rect.x, width: rect.width, style: .muted)
            return
        }
        let selected = state.selectedConnectionIndex(in: all)
        let window = connectionWindow(state, count: all.count, selected: selected, height: space)
        let focused = state.focus == .server
        for (offset, connection) in all[window.first..<(window.first + window.count)].enumerated() {
            let row = rect.y + 1 + offset
            let closed = connection.closedAt != nil
            let stateText = ConsoleState.stateText(connection, width: stateWidth)
            let age = (connection.closedAt ?? now) - connection.openedAt
            let rate = closed ? "-" : connection.rate.bytesPerSecond(now: now).map(ConsoleState.formatRate) ?? "-"
            let cells = [connection.udp?.label ?? "\(connection.id)", connection.peer, connection.service, stateText,
                         ConsoleState.formatBytes(connection.bytesIn), ConsoleState.formatBytes(connection.bytesOut), rate,
                         ConsoleState.formatAge(age)]
            var style: CellStyle = closed ? .muted : .normal
            if window.first + offset == selected {
                style = focused ? .selected : .emphasis
                grid.fill(row: row, col: rect.x, width: rect.width, style: style)
            }
            drawRow(cells, columns, row: row, in: rect, style: style, &grid)
        }
    }

    private static func sectionTitle(_ title: String, _ rect: Rect, _ grid: inout ScreenGrid, focused: Bool = false) {
        guard !rect.isEmpty else { return }
        grid.fill(row: rect.y, col: rect.x, width: rect.width, with: "─", style: .muted)
        grid.write("─ \(title) ", row: rect.y, col: rect.x, width: rect.width, style: focused ? .focusedSection : .emphasis)
    }

    private static func drawLog(_ state: ConsoleState, _ rect: Rect, _ grid: inout ScreenGrid) {
        let height = rect.height - 1
        let following = state.log.isFollowing && state.log.selected == nil
        let position = state.log.lines.isEmpty ? "" : " " + state.log.position(height: height)
        sectionTitle((following ? "Activity" : "Activity (End follows)") + position, rect, &grid, focused: state.focus == .log)
        var row = rect.y + 1
        let first = state.log.firstVisibleIndex(height: height)
        for (offset, line) in state.log.visibleLines(height: height).enumerated() {
            let selected = first + offset == state.log.selected
            let style: CellStyle? = selected ? (state.focus == .log ? .selected : .emphasis) : nil
            if let style { grid.fill(row: row, col: rect.x, width: rect.width - 1, style: style) }
            let used = grid.write(line.time + " ", row: row, col: rect.x, width: rect.width, style: style ?? .muted)
            grid.write(line.text, row: row, col: rect.x + used, width: rect.width - used - 1, style: style ?? line.style)
            row += 1
        }
    }

    private static func drawSavedFiles(_ state: ConsoleState, _ rect: Rect, besideLog: Bool, _ grid: inout ScreenGrid) {
        let separator = besideLog ? 1 : 0
        let area = Rect(x: rect.x + separator, y: rect.y, width: rect.width - separator, height: rect.height)
        if separator == 1 {
            for y in rect.y..<rect.maxY { grid.write(y == rect.y ? "┬" : "│", row: y, col: rect.x, width: 1, style: .muted) }
        }
        let files = state.savedFiles
        // Shown newest first; the selection is an index into the oldest-first list.
        let selected = state.selectedSavedFile.map { files.count - 1 - $0 }
        let position = files.isEmpty ? "" : "\((selected ?? 0) + 1)/\(files.count) "
        let directory = state.saveDirectory.sanitizedForDisplay
        sectionTitle("Saved files \(position)→ \(directory)", area, &grid, focused: state.focus == .saved)
        let space = area.height - 1
        guard space > 0 else { return }
        if files.isEmpty {
            grid.write(" none yet", row: area.y + 1, col: area.x, width: area.width, style: .muted)
            return
        }
        let first = centeredFirst(selected: selected ?? 0, count: files.count, height: space)
        for offset in 0..<min(space, files.count - first) {
            let shown = first + offset
            let file = files[files.count - 1 - shown]
            let row = area.y + 1 + offset
            let isSelected = shown == selected
            let style: CellStyle? = isSelected ? (state.focus == .saved ? .selected : .emphasis) : nil
            if let style { grid.fill(row: row, col: area.x, width: area.width, style: style) }
            let meta = savedFileMeta(file, nameRoom: area.width - 1)
            let nameWidth = max(4, area.width - meta.displayWidth - 1)
            grid.write(" " + file.name.truncatedInMiddle(toWidth: nameWidth - 1).fitted(toWidth: nameWidth - 1), row: row, col: area.x, width: nameWidth, style: style ?? .normal)
            grid.write(meta, row: row, col: area.x + nameWidth, width: area.width - nameWidth, style: style ?? .muted)
        }
    }

    /// Size, SHA-256 prefix and time of a saved file; on a narrow pane the time and then the digest give way so
    /// the name keeps at least 12 columns.
    private static func savedFileMeta(_ file: ConsoleState.SavedFileRow, nameRoom: Int) -> String {
        let size = " \(ByteCount.format(file.size).fitted(toWidth: 9, alignRight: true))"
        // A folder has no digest of its own: its file count stands where a file's digest does.
        let digest = file.files.map { "\($0) file\($0 == 1 ? "" : "s")" } ?? String(file.sha256.prefix(8))
        let candidates = [size + " \(digest) \(file.time)", size + " \(digest)", size]
        return candidates.first { nameRoom - $0.displayWidth >= 12 } ?? size
    }

    // MARK: Client pane

    private static func drawClientTitle(_ state: ConsoleState, _ rect: Rect, _ grid: inout ScreenGrid) {
        let used = titleBar("CLIENT", focused: state.focus.isClientPane, rect, &grid)
        let style: CellStyle = state.focus.isClientPane ? .focusedPaneTitle : .paneTitle
        let sessions = state.sessionList.isEmpty ? " sessions to any TCP server, and files" : " " + sessionTabs(state, width: rect.width - clientTitleUsed)
        grid.write(sessions, row: rect.y, col: rect.x + used, width: rect.width - used, style: style)
    }

    /// Draws "label [field]" and returns the cursor position when the field has focus.
    static func drawField(_ label: String, _ editor: LineEditor, focused: Bool, row: Int, col: Int, width: Int,
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
        if let c = drawField(" Connect to: ", state.target, focused: state.focus == .target, row: rect.y, col: rect.x, width: half - 1, &grid) { cursor = c }
        if let c = drawField(" Files to: ", state.fileTarget, focused: state.focus == .fileTarget, row: rect.y, col: rect.x + half, width: rect.width - half, &grid) { cursor = c }
    }

    private static func drawMessage(_ state: ConsoleState, _ rect: Rect, _ grid: inout ScreenGrid, cursor: inout (row: Int, col: Int)?) {
        guard !rect.isEmpty else { return }
        if let search = state.historySearch {
            drawSearch(search, history: state.message.history, rect, &grid, cursor: &cursor)
            return
        }
        if let c = drawField(" Message: ", state.message, focused: state.focus == .message, row: rect.y, col: rect.x, width: rect.width, &grid) { cursor = c }
        if let hint = state.messageHint {
            if state.message.text.isEmpty {
                let start = rect.x + " Message: ".displayWidth
                grid.write(hint, row: rect.y, col: start, width: rect.maxX - start, style: .focusedField)
            } else {
                // The text stays to be fixed; the reason goes after it (as much as fits), or over its end when the
                // line is full, so an Enter that sends nothing never does so in silence.
                let shown = "  ← " + hint
                let after = rect.x + " Message: ".displayWidth + state.message.text.displayWidth
                let start = max(rect.x, min(after, rect.maxX - min(shown.displayWidth, max(0, rect.width - 12))))
                grid.write(shown, row: rect.y, col: start, width: rect.maxX - start, style: .bad)
            }
        }
    }

    /// The message row while Ctrl-R searches: the query, then the message it found.
    private static func drawSearch(_ search: HistorySearch, history: [String], _ rect: Rect, _ grid: inout ScreenGrid,
                                   cursor: inout (row: Int, col: Int)?) {
        let label = search.failed ? " Search (no older): " : " Search: "
        var used = grid.write(label, row: rect.y, col: rect.x, width: rect.width, style: .emphasis)
        let query = search.query.sanitizedForDisplay
        let queryWidth = min(max(8, query.displayWidth + 1), max(1, rect.width / 3))
        grid.fill(row: rect.y, col: rect.x + used, width: queryWidth, style: .focusedField)
        grid.write(query.truncated(toWidth: queryWidth - 1), row: rect.y, col: rect.x + used, width: queryWidth, style: .focusedField)
        cursor = (rect.y, rect.x + used + min(query.displayWidth, queryWidth - 1))
        used += queryWidth
        let found = search.match.map { "→ " + ConsoleState.lineBreaksShown(history[$0]) } ?? "no message contains that"
        grid.write(" " + found, row: rect.y, col: rect.x + used, width: rect.width - used, style: search.match == nil ? .bad : .normal)
    }

    private static func drawTranscript(_ state: ConsoleState, _ rect: Rect, _ grid: inout ScreenGrid) {
        let height = rect.height - 1
        let list = state.transcript
        let position = list.lines.isEmpty ? "" : " " + list.position(height: height)
        sectionTitle("Replies" + (list.isFollowing && list.selected == nil ? "" : " (End follows)") + position + sessionSummary(state),
                     rect, &grid, focused: state.focus == .replies)
        // Each chunk's time where there is room for it.
        let timeWidth = rect.width >= 60 ? 9 : 0
        var row = rect.y + 1
        let first = list.firstVisibleIndex(height: height)
        for (offset, line) in list.visibleLines(height: height).enumerated() {
            if first + offset == list.selected {
                grid.fill(row: row, col: rect.x, width: rect.width - 1, style: state.focus == .replies ? .selected : .emphasis)
            }
            var textWidth = rect.width - 1
            if let detail = line.detail {
                let detailWidth = detail.displayWidth
                textWidth = max(0, rect.width - 2 - detailWidth - 1)
                grid.write(detail, row: row, col: rect.x + rect.width - 1 - detailWidth, width: detailWidth,
                           style: first + offset == list.selected ? grid[row, rect.x].style : .muted)
            }
            let selectedStyle: CellStyle? = first + offset == list.selected ? grid[row, rect.x].style : nil
            if timeWidth > 0 {
                grid.write(" " + line.time, row: row, col: rect.x, width: min(textWidth, timeWidth), style: selectedStyle ?? .muted)
            }
            grid.write(" " + line.text, row: row, col: rect.x + timeWidth, width: textWidth - timeWidth, style: selectedStyle ?? line.style)
            row += 1
        }
    }

    /// Rows the transfer takes at the bottom of the picker `width` columns wide: the progress in one row when its
    /// figures fit beside the bar and the name, else the figures in a row of their own; one for a verdict.
    static func transferRows(_ state: ConsoleState, width: Int, now: Double) -> Int {
        guard let transfer = state.transfer else { return 0 }
        if transfer.verdict != nil { return 1 }
        return transfer.figures(now: now).displayWidth + 30 + 12 <= width ? 1 : 2
    }

    /// The picker's area less its separator from the replies beside it.
    static func pickerArea(_ layout: ConsoleLayout) -> Rect {
        let separator = layout.picker.y == layout.transcript.y ? 1 : 0
        return Rect(x: layout.picker.x + separator, y: layout.picker.y, width: layout.picker.width - separator, height: layout.picker.height)
    }

    /// Which of the picker's visible entries the `offset`th row under its title shows, as `drawPicker` lays it out.
    static func pickerEntry(atRow offset: Int, in state: ConsoleState) -> Int? {
        let area = pickerArea(ConsoleLayout(cols: state.screenCols, rows: state.screenRows))
        // Only the figures' width depends on the time; a second either way does not change the rows.
        let now = state.transfer.map { $0.endedAt ?? $0.startedAt + 1 } ?? 0
        let transferHeight = min(transferRows(state, width: area.width, now: now), max(0, area.height - 1))
        let listHeight = area.height - 1 - transferHeight - min(queueRows(state, height: area.height), max(0, area.height - 1 - transferHeight))
        let problemRows = state.picker.problem == nil ? 0 : 1
        let rows = listHeight - problemRows
        guard offset >= problemRows, offset < listHeight, rows > 0 else { return nil }
        return centeredFirst(selected: state.picker.selection, count: state.picker.visibleEntries.count, height: rows) + offset - problemRows
    }

    private static func drawPicker(_ state: ConsoleState, _ rect: Rect, besideReplies: Bool, now: Double, _ grid: inout ScreenGrid) {
        guard !rect.isEmpty else { return }
        let picker = state.picker
        let focused = state.focus == .files
        let separator = besideReplies ? 1 : 0
        if separator == 1 {
            for y in rect.y..<rect.maxY { grid.write(y == rect.y ? "┬" : "│", row: y, col: rect.x, width: 1, style: .muted) }
        }
        let area = Rect(x: rect.x + separator, y: rect.y, width: rect.width - separator, height: rect.height)
        let count = picker.visibleEntries.count
        let position = count == 0 ? "" : " \(min(picker.selection + 1, count))/\(count)"
        let marked = state.sendQueue.marks.isEmpty ? "" : "  \(state.sendQueue.marks.count) marked"
        let filter = (picker.filter.isEmpty ? "" : "  filter: \(picker.filter.sanitizedForDisplay)") + position + marked
        let directory = picker.directory.sanitizedForDisplay
        let title = "Files " + directory.truncatedInMiddle(toWidth: max(8, area.width - 10 - filter.displayWidth)) + filter
        grid.fill(row: area.y, col: area.x, width: area.width, with: "─", style: .muted)
        grid.write("─ \(title) ", row: area.y, col: area.x, width: area.width, style: focused ? .focusedSection : .emphasis)

        // The last rows belong to the transfer's progress or verdict when there is one.
        let transferRows = min(transferRows(state, width: area.width, now: now), max(0, area.height - 1))
        let queueRows = min(queueRows(state, height: area.height), max(0, area.height - 1 - transferRows))
        let listHeight = area.height - 1 - transferRows - queueRows
        if let transfer = state.transfer, transferRows > 0 {
            drawTransfer(transfer, rows: transferRows, row: area.maxY - transferRows, col: area.x, width: area.width, now: now, &grid)
        }
        drawQueue(state.sendQueue, rows: queueRows, row: area.maxY - transferRows - queueRows, col: area.x, width: area.width, now: now, &grid)
        guard listHeight > 0 else { return }
        let visible = picker.visibleEntries
        // Why the folder shows nothing comes first, above the way out (..).
        var top = area.y + 1
        if let problem = picker.problem {
            grid.write(" " + problem.sanitizedForDisplay, row: top, col: area.x, width: area.width, style: .bad)
            top += 1
        } else if visible.isEmpty {
            grid.write(" nothing matches", row: top, col: area.x, width: area.width, style: .muted)
            return
        }
        let rowsLeft = area.y + 1 + listHeight - top
        guard rowsLeft > 0 else { return }
        let first = centeredFirst(selected: picker.selection, count: visible.count, height: rowsLeft)
        // Items queued or being sent show so in the list too (once a frame: a whole folder may be queued).
        var inQueue: [[UInt8]: String] = [:]
        for item in state.sendQueue.items where !item.status.isDone { inQueue[item.mark.rawPath] = item.status == .sending ? "→" : "·" }
        for (offset, entry) in visible[first..<min(visible.count, first + rowsLeft)].enumerated() {
            let index = first + offset
            let row = top + offset
            let selected = index == picker.selection
            let kindStyle: CellStyle
            switch entry.kind {
            case .file: kindStyle = .normal
            case .parent, .directory: kindStyle = .accent
            case .dangling: kindStyle = .bad
            case .fifo, .socket, .device: kindStyle = .muted
            }
            let style: CellStyle = selected ? (focused ? .selected : .emphasis) : kindStyle
            let sizeText = entry.sizeText
            let name = entry.markedName
            let sizeWidth = max(10, sizeText.displayWidth)
            let nameWidth = max(1, area.width - sizeWidth - 2)
            if selected { grid.fill(row: row, col: area.x, width: area.width, style: style) }
            let rawPath = picker.rawPath(of: entry)
            let marker = state.sendQueue.isMarked(rawPath) ? "*" : inQueue[rawPath] ?? (selected ? "›" : " ")
            grid.write(marker + name.sanitizedForDisplay.truncatedInMiddle(toWidth: nameWidth - 1), row: row, col: area.x, width: nameWidth, style: style)
            grid.write(sizeText.fitted(toWidth: sizeWidth, alignRight: true), row: row, col: area.x + nameWidth, width: area.width - nameWidth, style: style)
        }
    }

    private static func drawTransfer(_ transfer: ConsoleState.TransferRow, rows: Int, row: Int, col: Int, width: Int, now: Double,
                                     _ grid: inout ScreenGrid) {
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
        let figures = transfer.figures(now: now)
        if rows == 1 {
            let nameWidth = width - used - figures.displayWidth - 2
            grid.write(transfer.name.truncatedInMiddle(toWidth: max(1, nameWidth)), row: row, col: col + used, width: nameWidth, style: .normal)
            grid.write(figures, row: row, col: col + width - figures.displayWidth - 1, width: figures.displayWidth, style: .normal)
        } else {
            grid.write(transfer.name, row: row, col: col + used, width: width - used, style: .normal)
            let shown = figures.displayWidth < width - 1 ? figures : transfer.figures(now: now, compact: true)
            grid.write(" " + shown, row: row + 1, col: col, width: width, style: .normal)
        }
    }

    // MARK: Footer and help

    private static func drawFooter(_ state: ConsoleState, _ rect: Rect, _ grid: inout ScreenGrid) {
        guard !rect.isEmpty else { return }
        var keys = KeyBindings.footer(for: state.focus).map { binding -> (String, String) in
            let word = binding.command == .toggleListening && !state.isListening ? "start" : binding.footer ?? ""
            return (binding.label.split(separator: " ").first.map(String.init) ?? binding.label, word)
        }
        if state.isTransferring || state.sendQueue.isRunning { keys.insert(("^X", "cancel"), at: 0) }
        if state.historySearch != nil { keys = [("type", "find"), ("^R", "older"), ("Enter", "take"), ("Esc", "put back")] }
        if state.editingConnectionFilter { keys = [("type", "filter"), ("Enter", "done"), ("Esc", "clear")] }
        if state.showHelp { keys = [("↑↓", "scroll"), ("any key", "close")] }
        if state.viewer != nil { keys = [("any key", "close")] }
        if state.confirmation != nil { keys = [("y", "yes"), ("n", "no"), ("Esc", "cancel")] }
        if state.confirmation == nil && !state.uploadAsks.isEmpty { keys = [("y", "accept"), ("n", "refuse")] }
        // Too long for the screen: drop entries from the end, but keep help and quit, which must always be found.
        let essential: Set<String> = ["help", "quit"]
        func width(_ entries: [(String, String)]) -> Int { entries.reduce(0) { $0 + $1.0.displayWidth + $1.1.displayWidth + 3 } }
        while width(keys) > rect.width, let drop = keys.lastIndex(where: { !essential.contains($0.1) }) { keys.remove(at: drop) }
        grid.fill(row: rect.y, col: rect.x, width: rect.width, style: .footer)
        var x = rect.x
        for (key, meaning) in keys {
            guard x < rect.maxX else { break }
            x += grid.write(" \(key)", row: rect.y, col: x, width: rect.maxX - x, style: .footerKey)
            x += grid.write(" \(meaning) ", row: rect.y, col: x, width: rect.maxX - x, style: .footer)
        }
    }

    /// A small box in the middle of the screen: the question, what would be lost, and the answers.
    static func drawConfirmation(_ confirmation: Confirmation, cols: Int, rows: Int, _ grid: inout ScreenGrid) {
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
            grid.write(line, row: y + 1 + index, col: x + 2, width: width - 4, style: line == answers ? .boxKey : .help)
        }
    }

    /// A box in the middle of the screen with `lines` from `first` on.
    private static func drawBox(_ title: String, _ lines: [String], first: Int, maxWidth: Int, cols: Int, rows: Int, _ grid: inout ScreenGrid) {
        let contentWidth = max(title.displayWidth + 4, lines.map(\.displayWidth).max() ?? 0)
        let width = min(cols - 2, maxWidth, contentWidth + 4)
        let height = min(rows - 2, lines.count + 2)
        guard width > 10, height > 2 else { return }
        let x = (cols - width) / 2
        let y = (rows - height) / 2
        for row in y..<(y + height) { grid.fill(row: row, col: x, width: width, style: .help) }
        grid.write("┌" + String(repeating: "─", count: width - 2) + "┐", row: y, col: x, width: width, style: .help)
        grid.write(" \(title) ", row: y, col: x + 2, width: width - 4, style: .help)
        grid.write("└" + String(repeating: "─", count: width - 2) + "┘", row: y + height - 1, col: x, width: width, style: .help)
        for row in (y + 1)..<(y + height - 1) {
            grid.write("│", row: row, col: x, width: 1, style: .help)
            grid.write("│", row: row, col: x + width - 1, width: 1, style: .help)
        }
        let shown = height - 2
        let start = min(max(0, first), max(0, lines.count - shown))
        for (index, line) in lines[start..<min(lines.count, start + shown)].enumerated() {
            grid.write(line, row: y + 1 + index, col: x + 2, width: width - 4, style: .help)
        }
        if lines.count > shown {
            let where_ = " \(start + 1)-\(start + shown)/\(lines.count) "
            grid.write(where_, row: y + height - 1, col: x + width - 2 - where_.displayWidth, width: where_.displayWidth, style: .help)
        }
    }

    /// How wide a box's text can be on a screen `cols` wide, and how many of its lines show on one `rows` high (the
    /// help and the line viewer; `drawBox` frames them).
    public static func boxTextWidth(cols: Int) -> Int { max(10, min(cols - 6, 96)) }
    static func boxTextRows(rows: Int) -> Int { max(1, rows - 4) }

    private static func drawHelp(_ state: ConsoleState, cols: Int, rows: Int, _ grid: inout ScreenGrid) {
        let width = boxTextWidth(cols: cols)
        drawBox("Help", KeyBindings.helpLines(for: state.focus, inspecting: state.inspector != nil, width: width),
                first: state.helpScroll, maxWidth: width + 4, cols: cols, rows: rows, &grid)
    }

    /// A line shown whole: wrapped at spaces to the box, which is as wide as the screen allows.
    private static func drawViewer(_ viewer: LineViewer, cols: Int, rows: Int, _ grid: inout ScreenGrid) {
        let width = boxTextWidth(cols: cols)
        var lines: [String] = []
        var current = ""
        for word in viewer.text.split(separator: " ", omittingEmptySubsequences: false).map(String.init) {
            let joined = current.isEmpty ? word : current + " " + word
            if joined.displayWidth <= width {
                current = joined
                continue
            }
            if !current.isEmpty { lines.append(current) }
            current = ""
            // A word longer than the box is cut where the box ends.
            for character in word {
                if (current + String(character)).displayWidth > width {
                    lines.append(current)
                    current = ""
                }
                current.append(character)
            }
        }
        lines.append(current)
        drawBox(viewer.title, lines + ["", "any key closes"], first: 0, maxWidth: width + 4, cols: cols, rows: rows, &grid)
    }
}

private extension String {
    /// "127.0.0.1:12345" as nc wants it: "127.0.0.1 12345".
    func replacingColon() -> String {
        if lowercased().hasPrefix("udp://") { return "-u " + String(dropFirst(6)).replacingColon() }
        if lowercased().hasPrefix("tcp://") { return String(dropFirst(6)).replacingColon() }
        guard let colon = lastIndex(of: ":") else { return self }
        var host = String(self[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return host + " " + self[index(after: colon)...]
    }
}
