/// What a cell looks like; the terminal layer maps each style to colours or, without colours, to attributes.
public enum CellStyle: UInt8, CaseIterable, Sendable {
    case normal
    case muted
    case emphasis
    case paneTitle
    case focusedPaneTitle
    case columnHeader
    case selected
    case good
    case bad
    case accent
    case field
    case focusedField
    case footer
    case help
    /// A key named in the footer bar; without colour it stays part of the (reversed) bar.
    case footerKey
    /// The answers in a question's box; without colour, reversed like the box.
    case boxKey
    /// The title of the part that has focus (a list, the picker); without colour it must differ from the others.
    case focusedSection
}

/// One terminal cell: a grapheme cluster and its style. The cells right of a wide cluster hold "" (covered).
public struct Cell: Equatable, Sendable {
    public var text: String
    public var style: CellStyle

    public static let blank = Cell(text: " ", style: .normal)
    public var isCovered: Bool { text.isEmpty }
}

/// A rows × cols text screen the console renders into; the terminal layer copies it out, tests read it back.
public struct ScreenGrid: Equatable, Sendable {
    public let rows: Int
    public let cols: Int
    public private(set) var cells: [Cell]

    public init(rows: Int, cols: Int) {
        self.rows = max(0, rows)
        self.cols = max(0, cols)
        cells = Array(repeating: .blank, count: self.rows * self.cols)
    }

    public subscript(row: Int, col: Int) -> Cell {
        cells[row * cols + col]
    }

    /// Writes `text` at (`row`, `col`) within `width` columns (to the right edge by default), cutting it with "…"
    /// when it does not fit. Returns the columns used.
    @discardableResult
    public mutating func write(_ text: String, row: Int, col: Int, width: Int? = nil, style: CellStyle = .normal) -> Int {
        guard row >= 0, row < rows, col < cols else { return 0 }
        let start = max(0, col)
        let limit = min(cols - start, width ?? (cols - start))
        guard limit > 0 else { return 0 }
        let shown = text.truncated(toWidth: limit)
        var x = start
        for character in shown {
            let w = DisplayWidth.of(character)
            if w == 0 {
                // Combining marks join the previous cell's cluster.
                if x > start { appendToCell(row: row, col: x - 1, character) }
                continue
            }
            if x + w > start + limit { break }
            setCell(row: row, col: x, Cell(text: String(character), style: style))
            for covered in 1..<max(1, w) { setCell(row: row, col: x + covered, Cell(text: "", style: style)) }
            x += w
        }
        return x - start
    }

    /// Paints `width` cells of `row` from `col` with `character` in `style`.
    public mutating func fill(row: Int, col: Int, width: Int, with character: Character = " ", style: CellStyle = .normal) {
        guard row >= 0, row < rows else { return }
        let from = max(0, col)
        let to = min(cols, col + width)
        guard from < to else { return }
        for x in from..<to { setCell(row: row, col: x, Cell(text: String(character), style: style)) }
    }

    /// Sets the style of cells without changing their text (for highlighting a row).
    public mutating func restyle(row: Int, col: Int, width: Int, style: CellStyle) {
        guard row >= 0, row < rows else { return }
        let from = max(0, col)
        let to = min(cols, col + width)
        guard from < to else { return }
        for x in from..<to { cells[row * cols + x].style = style }
    }

    /// The characters of `row` as the terminal shows them.
    public func text(ofRow row: Int) -> String {
        var line = ""
        for x in 0..<cols { line += self[row, x].text }
        return line
    }

    /// Every row, trailing spaces trimmed, joined with newlines.
    public var text: String {
        (0..<rows).map { row -> String in
            var line = Substring(text(ofRow: row))
            while line.last == " " { line.removeLast() }
            return String(line)
        }.joined(separator: "\n")
    }

    private mutating func setCell(row: Int, col: Int, _ cell: Cell) {
        guard col >= 0, col < cols else { return }
        let index = row * cols + col
        // Overwriting part of a wide cluster blanks the rest of it.
        if cells[index].isCovered || DisplayWidth.of(cells[index].text) > 1 { blankCluster(row: row, col: col) }
        cells[index] = cell
    }

    /// Replaces the wide cluster that covers (`row`, `col`) with blanks in its style.
    private mutating func blankCluster(row: Int, col: Int) {
        let rowStart = row * cols
        var owner = col
        while owner > 0 && cells[rowStart + owner].isCovered { owner -= 1 }
        var x = owner
        repeat {
            cells[rowStart + x] = Cell(text: " ", style: cells[rowStart + x].style)
            x += 1
        } while x < cols && cells[rowStart + x].isCovered
    }

    private mutating func appendToCell(row: Int, col: Int, _ character: Character) {
        var index = row * cols + col
        if cells[index].isCovered && col > 0 { index -= 1 }
        cells[index].text.append(character)
    }
}
