import NetEngine
import NetText

/// The inspector's view of one connection: its latest snapshot, the payload as lines (hex + ASCII or text), where
/// the view is scrolled to, and what is being typed (a message for the peer, a file name to save to).
public struct Inspector: Equatable {
    public enum Prompt: Equatable, Sendable {
        /// A message to send to the peer from the server's side.
        case message
        /// Where to save the transcript.
        case saveAs
    }

    public struct Line: Equatable, Sendable {
        public var text: String
        public var style: CellStyle
    }

    public let connectionID: Int
    public internal(set) var snapshot: ConnectionSnapshot?
    /// Bytes per second each way between the last two snapshots.
    public internal(set) var rateIn: Double?
    public internal(set) var rateOut: Double?
    /// The connection is no longer open on the server (the last snapshot stays).
    public internal(set) var isGone = false
    public internal(set) var showsText = false
    /// The first payload line shown; `follows` keeps the newest lines in view as they arrive.
    public internal(set) var scroll = 0
    public internal(set) var follows = true
    public internal(set) var prompt: Prompt?
    public internal(set) var editor = LineEditor()
    /// The outcome of the last action (sent, saved, refused), shown above the footer.
    public internal(set) var status: String?
    public internal(set) var statusIsBad = false
    public internal(set) var lines: [Line] = []
    /// Rows the payload had at the last render, for paging.
    public var viewHeight = 10
    /// The screen's width: the hex dump takes as many bytes a line as fit (a line starts with a space).
    public var viewWidth = 80 {
        didSet { if HexDump.bytesPerLine(fitting: viewWidth - 1) != HexDump.bytesPerLine(fitting: oldValue - 1) { rebuildLines() } }
    }

    /// The client session whose connection this is (opened with F8), nil for a server-side connection.
    public internal(set) var sessionID: Int?

    public init(connectionID: Int, sessionID: Int? = nil) {
        self.connectionID = connectionID
        self.sessionID = sessionID
    }

    /// Takes a new snapshot: rates from the last one, lines rebuilt only when bytes moved.
    mutating func update(_ new: ConnectionSnapshot) {
        if let old = snapshot, new.takenAt > old.takenAt {
            let seconds = new.takenAt - old.takenAt
            rateIn = Double(new.bytesIn - old.bytesIn) / seconds
            rateOut = Double(new.bytesOut - old.bytesOut) / seconds
        }
        let moved = snapshot.map { $0.bytesIn != new.bytesIn || $0.bytesOut != new.bytesOut || $0.isCapturing != new.isCapturing } ?? true
        snapshot = new
        if moved { rebuildLines() }
    }

    mutating func toggleText() {
        showsText.toggle()
        rebuildLines()
        follows = true
    }

    /// The payload as the view shows it: a heading per chunk (time, direction, offset, length), then its bytes.
    mutating func rebuildLines() {
        var built: [Line] = []
        guard let snapshot else { return lines = [] }
        if !snapshot.isCapturing {
            built.append(Line(text: "payload is not being kept for this connection", style: .muted))
        } else if snapshot.received.isEmpty && snapshot.sent.isEmpty {
            built.append(Line(text: "no payload yet: the last \(ByteCount.format(Int64(PayloadRing.defaultCapacity))) each way will show here", style: .muted))
        }
        for chunk in snapshot.chunks {
            let direction = chunk.received ? "◀ in " : "▶ out"
            built.append(Line(text: "\(TranscriptFormatter.localClock(chunk.time)) \(direction) @\(chunk.offset) · \(chunk.bytes.count) byte\(chunk.bytes.count == 1 ? "" : "s")",
                              style: chunk.received ? .accent : .emphasis))
            let body = showsText ? PayloadText.lines(chunk.bytes) : HexDump.lines(chunk.bytes, startingAt: chunk.offset, bytesPerLine: HexDump.bytesPerLine(fitting: viewWidth - 1))
            built += body.map { Line(text: " " + $0, style: .normal) }
        }
        lines = built
        clampScroll()
    }

    var lastFirstLine: Int { max(0, lines.count - viewHeight) }

    mutating func clampScroll() {
        if follows { scroll = lastFirstLine }
        scroll = min(max(0, scroll), lastFirstLine)
    }

    mutating func scroll(_ command: ConsoleCommand) {
        let page = max(1, viewHeight - 1)
        switch command {
        case .lineUp: scroll -= 1
        case .lineDown: scroll += 1
        case .pageUp: scroll -= page
        case .pageDown: scroll += page
        case .first: scroll = 0
        default: scroll = lastFirstLine
        }
        scroll = min(max(0, scroll), lastFirstLine)
        follows = scroll == lastFirstLine
    }

    mutating func say(_ text: String, bad: Bool = false) {
        status = text.sanitizedForDisplay
        statusIsBad = bad
    }
}
