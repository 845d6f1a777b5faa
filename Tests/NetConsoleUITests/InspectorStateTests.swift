import Foundation
import NetConsoleUI
import NetEngine
import NetText
import XCTest

/// The inspector and the --ask popup as view state, with no terminal and no socket.
final class InspectorStateTests: XCTestCase {
    private let peer = try! SocketAddress.resolve(host: "127.0.0.1", port: 50123)[0]
    private let local = try! SocketAddress.resolve(host: "127.0.0.1", port: 12345)[0]

    private func inspecting() -> ConsoleState {
        var state = ConsoleState(saveDirectory: "/tmp", pickerDirectory: "/tmp")
        state.apply(.connectionOpened(id: 7, service: "echo", peer: peer), now: 1, clock: "t")
        _ = state.handle(.escape)
        XCTAssertEqual(state.handle(.character("i")), .inspect(id: 7))
        state.inspectorViewHeight = 12
        return state
    }

    private func snapshot(in received: [UInt8], out sent: [UInt8] = [], at takenAt: Double = 10, tcp: TCPInfo? = nil,
                          pending: Int = 0) -> ConnectionSnapshot {
        ConnectionSnapshot(id: 7, service: "echo", peer: peer, local: local, age: 62, takenAt: takenAt, bytesIn: received.count,
                           bytesOut: sent.count, pendingOutput: pending, isClosed: false, tcp: tcp, isCapturing: true,
                           received: received.isEmpty ? [] : [PayloadChunk(received: true, offset: 0, time: 1_700_000_000, bytes: received)],
                           sent: sent.isEmpty ? [] : [PayloadChunk(received: false, offset: 0, time: 1_700_000_001, bytes: sent)])
    }

    private let tcp = TCPInfo(state: 1, roundTrip: 0.000_123, roundTripVariance: 0.000_05, congestionWindow: 10, slowStartThreshold: nil,
                              retransmits: 0, totalRetransmits: 2, unacknowledged: 1, deliveryRate: 1_000_000, maxSegmentSize: 65483,
                              receiveQueue: 3, sendQueue: 0)

    private func screen(_ state: ConsoleState, cols: Int = 80, rows: Int = 24) -> [String] {
        let grid = ConsoleRenderer.render(state, cols: cols, rows: rows, now: 5).grid
        return (0..<grid.rows).map { grid.text(ofRow: $0) }
    }

    func testThePayloadShowsInHexAndAsSafeText() {
        var state = inspecting()
        let hostile = Array("hi\u{1B}[2J\n".utf8) + [0xFF, 0xC0, 0x80] + Array("e\u{301}a\u{200D}b".utf8)
        state.updateInspector(snapshot(in: Array("known payload".utf8) + hostile, out: Array("ok\n".utf8), tcp: tcp))
        var text = screen(state)
        XCTAssertTrue(text[0].contains("Inspector · #7 echo · 127.0.0.1:50123 → 127.0.0.1:12345 · open 1m02s"), text[0])
        XCTAssertTrue(text[2].contains("TCP ESTABLISHED · rtt 0.12 ms"), text[2])
        XCTAssertTrue(text[3].contains("2 in all · unacked 1"), text[3])
        XCTAssertTrue(text[1].contains("recv-Q 3 B"), text[1])
        XCTAssertTrue(text.contains { $0.contains("00000000  6b 6e 6f 77 6e 20 70 61  79 6c 6f 61 64 68 69 1b  |known payloadhi.|") },
                      text.joined(separator: "\n"))
        XCTAssertTrue(text.contains { $0.contains("◀ in  @0 · 31 bytes") })
        XCTAssertTrue(text.contains { $0.contains("▶ out @0 · 3 bytes") })

        XCTAssertNil(state.handle(.character("x")))
        text = screen(state)
        XCTAssertTrue(text.contains { $0.contains("known payloadhi\\x1b[2J\\n") }, text.joined(separator: "\n"))
        XCTAssertTrue(text.contains { $0.contains("\\xff\\xc0\\x80e\\u{301}a\\u{200d}b") }, "marks, joiners and bad UTF-8 escaped:\n" + text.joined(separator: "\n"))
        XCTAssertFalse(text.joined().unicodeScalars.contains { $0.value == 0x1B || $0.value == 0x301 || $0.value == 0x200D })
        for row in text { XCTAssertLessThanOrEqual(row.displayWidth, 80) }
    }

    func testScrollingFollowsTheNewestBytesUntilMovedUp() {
        var state = inspecting()
        state.updateInspector(snapshot(in: [UInt8](repeating: 0x41, count: 16 * 40)))
        let lines = state.inspector!.lines.count
        XCTAssertEqual(lines, 41, "a heading and 40 hex rows")
        XCTAssertEqual(state.inspector?.scroll, lines - 12, "the newest rows in view")
        _ = state.handle(.pageUp)
        XCTAssertEqual(state.inspector?.scroll, lines - 12 - 11)
        XCTAssertEqual(state.inspector?.follows, false)
        _ = state.handle(.character("g"))
        XCTAssertEqual(state.inspector?.scroll, 0)
        state.updateInspector(snapshot(in: [UInt8](repeating: 0x41, count: 16 * 50), at: 11))
        XCTAssertEqual(state.inspector?.scroll, 0, "moved up: new bytes do not pull the view down")
        XCTAssertEqual(state.inspector?.rateIn ?? 0, 160, accuracy: 0.1, "160 bytes in one second")
        _ = state.handle(.end)
        XCTAssertEqual(state.inspector?.follows, true)
        XCTAssertEqual(state.inspector?.scroll, state.inspector!.lines.count - 12)
    }

    func testTypingSendsALineAndAPasteNeverRunsKeys() {
        var state = inspecting()
        state.updateInspector(snapshot(in: []))
        XCTAssertNil(state.handle(.character("s")))
        XCTAssertEqual(state.inspector?.prompt, .message)
        for character in "reset" { XCTAssertNil(state.handle(.character(character)), "letters are text in the prompt") }
        XCTAssertEqual(state.handle(.enter), .sendToConnection(id: 7, bytes: Array("reset\n".utf8)))
        XCTAssertNil(state.inspector?.prompt)

        XCTAssertNil(state.handle(.paste("rcw")), "a paste outside the prompt is text, not r, c and w")
        XCTAssertNil(state.confirmation)
        XCTAssertEqual(state.inspector?.prompt, .message)
        XCTAssertNil(state.handle(.escape), "Esc drops the message")
        XCTAssertNil(state.inspector?.prompt)
        XCTAssertNotNil(state.inspector, "and stays in the inspector")
        XCTAssertNil(state.handle(.alt("r")), "Alt keys do nothing")
        XCTAssertNil(state.confirmation)
    }

    func testResetAndCloseAskFirstWhenDataWouldBeLost() {
        var state = inspecting()
        state.updateInspector(snapshot(in: [], tcp: tcp, pending: 5))
        XCTAssertNil(state.handle(.character("r")))
        XCTAssertEqual(state.confirmation?.title, "Reset connection #7?")
        XCTAssertEqual(state.confirmation?.detail.last, "5 bytes not yet delivered are dropped")
        XCTAssertNil(state.handle(.character("n")))
        XCTAssertNil(state.confirmation)
        XCTAssertNil(state.handle(.character("r")))
        XCTAssertEqual(state.handle(.character("y")), .resetConnection(id: 7))

        XCTAssertNil(state.handle(.character("c")), "unread bytes in the receive queue: a close would reset, so it asks")
        XCTAssertTrue(state.confirmation?.detail.first?.contains("3 bytes received and not yet read") ?? false)
        XCTAssertEqual(state.handle(.enter), .closeConnection(id: 7))
        var quiet = tcp
        quiet.receiveQueue = 0
        state.updateInspector(snapshot(in: [1], tcp: quiet))
        XCTAssertEqual(state.handle(.character("c")), .closeConnection(id: 7), "nothing to lose: no question")
    }

    func testSaveAsksForANameAndAClosedConnectionStaysOnScreen() {
        var state = inspecting()
        state.updateInspector(snapshot(in: Array("abc".utf8), tcp: tcp))
        XCTAssertTrue(screen(state).contains { $0.contains("ESTABLISHED") }, "the kernel's view while open")
        XCTAssertNil(state.handle(.character("w")))
        XCTAssertEqual(state.inspector?.prompt, .saveAs)
        XCTAssertEqual(state.inspector?.editor.text, "netconsole-7.transcript")
        _ = state.handle(.control("u"))
        _ = state.handle(.paste("/tmp/t.txt\nrm -rf"))
        XCTAssertEqual(state.handle(.enter), .saveTranscript(id: 7, path: "/tmp/t.txt"), "a name is one line")

        state.inspectedConnectionGone(7)
        XCTAssertEqual(state.inspector?.isGone, true)
        XCTAssertNil(state.handle(.character("r")))
        XCTAssertNil(state.confirmation, "nothing to reset")
        XCTAssertTrue(screen(state)[0].contains("closed"))
        XCTAssertTrue(screen(state).contains { $0.contains("00000000  61 62 63") }, "the last bytes seen stay")
        XCTAssertTrue(screen(state).contains { $0.contains("TCP: the socket is closed") }, "its last TCP_INFO is not shown as current")
        XCTAssertFalse(screen(state).contains { $0.contains("ESTABLISHED") })
    }

    func testTheInspectorFitsSmallScreensAndListsItsKeys() {
        var state = inspecting()
        state.updateInspector(snapshot(in: [UInt8](0...255), tcp: tcp))
        for (cols, rows) in [(80, 24), (60, 16), (200, 50)] {
            let text = screen(state, cols: cols, rows: rows)
            XCTAssertEqual(text.count, rows)
            for row in text { XCTAssertLessThanOrEqual(row.displayWidth, cols) }
            XCTAssertTrue(text[rows - 1].contains("back"), text[rows - 1])
        }
        let help = KeyBindings.helpLines(for: .server, inspecting: true)
        XCTAssertTrue(help[2].hasPrefix("Inspector"), help[2])
        for key in ["x Tab", "s Enter", "Esc q", "c ", "r ", "w "] {
            XCTAssertTrue(help.contains { $0.hasPrefix("  " + key) }, "\(key) in the help")
        }
    }

    /// Inspecting an upload says which file and how far it is, not only its bytes.
    func testAnUploadConnectionsInspectorNamesTheFileAndItsProgress() {
        var state = inspecting()
        state.apply(.uploadStarted(id: 7, name: "report\u{1b}[2J.pdf", size: 1000), now: 2, clock: "t")
        state.apply(.uploadProgress(id: 7, received: 250, size: 1000), now: 3, clock: "t")
        state.updateInspector(snapshot(in: Array("payload".utf8)))
        let text = screen(state, cols: 120)
        XCTAssertTrue(text[0].contains("Inspector · #7 echo · upload 25% report\\u{1b}[2J.pdf · 127.0.0.1:50123"), text[0])
    }

    /// A narrow screen gets hex lines it can show whole, 8 bytes each, instead of 16-byte lines cut at the edge
    /// (every byte and its ASCII column stay readable).
    func testTheHexDumpTakesAsManyBytesALineAsTheScreenShows() {
        var state = inspecting()
        state.updateInspector(snapshot(in: Array("0123456789abcdefghij".utf8)))
        for (cols, first) in [(80, "00000000  30 31 32 33 34 35 36 37  38 39 61 62 63 64 65 66  |0123456789abcdef|"),
                              (78, "00000000  30 31 32 33 34 35 36 37  |01234567|"),
                              (60, "00000000  30 31 32 33 34 35 36 37  |01234567|")] {
            state.inspectorViewWidth = cols
            let text = screen(state, cols: cols, rows: 24)
            XCTAssertTrue(text.contains { $0 == " " + first || $0.hasPrefix(" " + first) }, "\(cols) columns:\n" + text.joined(separator: "\n"))
            XCTAssertTrue(text.contains { $0.contains("|ghij|") }, "the last bytes are shown whole at \(cols) columns")
            for row in text { XCTAssertLessThanOrEqual(row.displayWidth, cols) }
        }
    }

    // MARK: --ask

    func testUploadsWaitInAQueueForYOrN() {
        var state = ConsoleState(saveDirectory: "/tmp", pickerDirectory: "/tmp")
        state.askUpload(UploadAsk(number: 1, connectionID: 3, name: "report\u{1B}[31m.pdf", size: 2048, peer: "127.0.0.1:5000", deadline: 65))
        state.askUpload(UploadAsk(number: 2, connectionID: 4, name: "second.bin", size: 1, peer: "127.0.0.1:5001", deadline: 70))
        let text = screen(state).joined(separator: "\n")
        XCTAssertTrue(text.contains("Accept this upload?"), text)
        XCTAssertTrue(text.contains("report\\u{1b}[31m.pdf"), "the name is escaped")
        XCTAssertTrue(text.contains("2.0 KiB (2048 bytes) from 127.0.0.1:5000"))
        XCTAssertTrue(text.contains("refused by itself in 60 s"))
        XCTAssertTrue(text.contains("1 more waiting after it"))
        XCTAssertNil(state.handle(.character("h")), "typing meant for a field does not answer it")
        XCTAssertEqual(state.uploadAsks.count, 2)
        XCTAssertEqual(state.handle(.character("y")), .answerUpload(number: 1, accept: true))
        XCTAssertEqual(state.handle(.character("n")), .answerUpload(number: 2, accept: false))
        XCTAssertTrue(state.uploadAsks.isEmpty)
        state.askUpload(UploadAsk(number: 3, connectionID: 5, name: "late", size: 1, peer: "p", deadline: 1))
        state.dropUploadAsks([3])
        XCTAssertFalse(screen(state).joined().contains("Accept this upload?"), "a question the server gave up on goes away")
    }
}

/// `HexDump` at 16, 8 and 4 bytes a line: each line as wide as `bytesPerLine(fitting:)` reckons.
final class HexDumpWidthTests: XCTestCase {
    func testEachWidthFitsAndShowsEveryByte() {
        let bytes = [UInt8](0..<37)
        for (width, perLine) in [(200, 16), (78, 16), (77, 8), (45, 8), (44, 4), (10, 4)] {
            XCTAssertEqual(HexDump.bytesPerLine(fitting: width), perLine, "\(width) columns")
            let lines = HexDump.lines(bytes, bytesPerLine: perLine)
            XCTAssertEqual(lines.count, (bytes.count + perLine - 1) / perLine)
            XCTAssertTrue(lines.dropLast().allSatisfy { $0.count == lines[0].count }, "full lines are all as wide")
            XCTAssertLessThanOrEqual(lines[0].count, max(width, 30))
            XCTAssertTrue(lines.last!.hasSuffix("$|"), lines.last!)
        }
        XCTAssertEqual(HexDump.lines([0x41], bytesPerLine: 8), ["00000000  41                       |A|"])
    }
}
