/// A rectangle of cells.
public struct Rect: Equatable, Sendable {
    public var x: Int
    public var y: Int
    public var width: Int
    public var height: Int

    public init(x: Int, y: Int, width: Int, height: Int) {
        self.x = x
        self.y = y
        self.width = max(0, width)
        self.height = max(0, height)
    }

    public var maxX: Int { x + width }
    public var maxY: Int { y + height }
    public var isEmpty: Bool { width == 0 || height == 0 }

    /// The top `rows` rows, and what is left below them.
    func splitTop(_ rows: Int) -> (Rect, Rect) {
        let top = min(max(0, rows), height)
        return (Rect(x: x, y: y, width: width, height: top), Rect(x: x, y: y + top, width: width, height: height - top))
    }

    /// The left `columns` columns, and what is left right of them.
    func splitLeft(_ columns: Int) -> (Rect, Rect) {
        let left = min(max(0, columns), width)
        return (Rect(x: x, y: y, width: left, height: height), Rect(x: x + left, y: y, width: width - left, height: height))
    }

    public func intersects(_ other: Rect) -> Bool {
        !isEmpty && !other.isEmpty && x < other.maxX && other.x < maxX && y < other.maxY && other.y < maxY
    }
}

/// Where each part of the console goes for a terminal size. Below 80x24 parts shrink down to the minimum;
/// from 160 columns the two panes stand side by side.
public struct ConsoleLayout: Equatable, Sendable {
    /// Below this the connection table, the log, the fields and the replies no longer each get a header and a row.
    public static let minimumCols = 60
    public static let minimumRows = 16
    public static let sideBySideCols = 160

    public let cols: Int
    public let rows: Int
    public let sideBySide: Bool
    /// Too small to show anything useful: only a message is drawn.
    public let tooSmall: Bool

    public let serverPane: Rect
    public let serverTitle: Rect
    public let serverTotals: Rect
    public let connections: Rect
    public let log: Rect
    public let savedFiles: Rect

    public let clientPane: Rect
    public let clientTitle: Rect
    public let targetRow: Rect
    public let messageRow: Rect
    public let transcript: Rect
    public let picker: Rect

    public let footer: Rect

    public init(cols: Int, rows: Int) {
        self.cols = max(0, cols)
        self.rows = max(0, rows)
        tooSmall = cols < Self.minimumCols || rows < Self.minimumRows
        sideBySide = cols >= Self.sideBySideCols && rows >= 16
        let screen = Rect(x: 0, y: 0, width: cols, height: rows)
        let (body, footerRect) = screen.splitTop(rows - 1)
        footer = footerRect

        if sideBySide {
            (serverPane, clientPane) = body.splitLeft(cols * 58 / 100)
        } else {
            let clientHeight = min(max(8, body.height * 2 / 5), max(0, body.height - 6))
            (serverPane, clientPane) = body.splitTop(body.height - clientHeight)
        }

        // Server pane: title, totals, connection table, then the log beside (or above) the saved files.
        var rest: Rect
        (serverTitle, rest) = serverPane.splitTop(1)
        (serverTotals, rest) = rest.splitTop(1)
        let tableHeight = sideBySide ? max(3, rest.height * 2 / 5) : max(2, min(rest.height / 2, rest.height * 2 / 5))
        (connections, rest) = rest.splitTop(tableHeight)
        if rest.width >= 72 {
            let filesWidth = max(30, rest.width * 2 / 5)
            (log, savedFiles) = rest.splitLeft(rest.width - filesWidth)
        } else {
            (log, savedFiles) = rest.splitTop(rest.height - rest.height / 3)
        }

        // Client pane: title, the two target fields, the message line, then replies and the file picker.
        (clientTitle, rest) = clientPane.splitTop(1)
        (targetRow, rest) = rest.splitTop(1)
        (messageRow, rest) = rest.splitTop(1)
        if rest.height >= 14 {
            (transcript, picker) = rest.splitTop(rest.height * 2 / 5)
        } else {
            (transcript, picker) = rest.splitLeft(rest.width / 2)
        }
    }
}
