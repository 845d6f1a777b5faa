import Foundation
import NetConsoleUI
import NetEngine
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// The picker's marks and the send queue as pure state: marking, sending, each item's status, cancelling, and names
/// that are attacker bytes.
final class SendQueueStateTests: XCTestCase {
    private func makeFolder(_ files: [String] = ["a.txt", "b.txt", "c.txt"], folders: [String] = ["photos"]) throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("queue-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: folder) }
        for name in files { try Data(name.utf8).write(to: folder.appendingPathComponent(name)) }
        for name in folders { try FileManager.default.createDirectory(at: folder.appendingPathComponent(name), withIntermediateDirectories: true) }
        return folder
    }

    private func pickerState(_ folder: URL) -> ConsoleState {
        var state = ConsoleState(saveDirectory: "/srv", pickerDirectory: folder.path)
        state.focus = .files
        state.fileTarget.setText("127.0.0.1:9")
        return state
    }

    private func select(_ name: String, in state: inout ConsoleState) {
        guard let index = state.picker.visibleEntries.firstIndex(where: { $0.name == name }) else { return XCTFail("no \(name)") }
        state.picker.select(index)
    }

    /// Enter on a file sends the marks (on a folder or .. it still opens it).
    private func sendMarks(_ state: inout ConsoleState) -> ConsoleAction? {
        guard let index = state.picker.visibleEntries.firstIndex(where: { $0.kind == .file }) else { XCTFail("no file"); return nil }
        state.picker.select(index)
        return state.handle(.enter)
    }

    private func rows(_ state: ConsoleState, cols: Int = 80, rows: Int = 24, now: Double = 10) -> [String] {
        let screen = ConsoleRenderer.render(state, cols: cols, rows: rows, now: now)
        return (0..<screen.grid.rows).map { screen.grid.text(ofRow: $0) }
    }

    func testMarksWithALargeFileAskFirstAsOneFileDoes() throws {
        let folder = try makeFolder(["a.txt"], folders: [])
        let big = folder.appendingPathComponent("huge.bin")
        XCTAssertTrue(FileManager.default.createFile(atPath: big.path, contents: nil))
        XCTAssertEqual(truncate(big.path, 120 << 20), 0)
        var state = pickerState(folder)
        state.picker.reload()
        select("huge.bin", in: &state)
        _ = state.handle(.character(" "))
        select("a.txt", in: &state)
        _ = state.handle(.character(" "))
        XCTAssertNil(sendMarks(&state), "asks first")
        XCTAssertEqual(state.confirmation?.title, "Send 2 marked items?")
        XCTAssertTrue(state.confirmation?.detail.first?.contains("huge.bin is 120.0 MiB, over 100.0 MiB") == true, "\(state.confirmation?.detail ?? [])")
        XCTAssertTrue(state.sendQueue.items.isEmpty, "nothing queued before the answer")
        XCTAssertEqual(state.handle(.character("y")), .sendQueue(target: "127.0.0.1:9"))
        XCTAssertEqual(state.sendQueue.items.count, 2)
    }

    func testSpaceMarksAFileOrAFolderAndMovesDownAndAgainUnmarks() throws {
        var state = pickerState(try makeFolder())
        select("photos", in: &state)
        XCTAssertNil(state.handle(.character(" ")))
        XCTAssertEqual(state.sendQueue.marks.map(\.isFolder), [true])
        XCTAssertEqual(state.picker.selectedEntry?.name, "a.txt", "Space moves on, so marking several is Space Space Space")
        _ = state.handle(.character(" "))
        XCTAssertEqual(state.sendQueue.marks.map(\.name), ["photos", "a.txt"])
        XCTAssertEqual(state.picker.filter, "", "Space marks: it does not type into the filter")
        select("a.txt", in: &state)
        _ = state.handle(.character(" "))
        XCTAssertEqual(state.sendQueue.marks.map(\.name), ["photos"])
        select("..", in: &state)
        _ = state.handle(.character(" "))
        XCTAssertEqual(state.sendQueue.marks.map(\.name), ["photos"], "the way up is not something to send")
    }

    func testAFifoCannotBeMarkedAndSaysWhy() throws {
        let folder = try makeFolder([], folders: [])
        XCTAssertEqual(mkfifo(folder.appendingPathComponent("pipe").path, 0o644), 0)
        var state = pickerState(folder)
        state.picker.reload()
        select("pipe", in: &state)
        _ = state.handle(.character(" "))
        XCTAssertTrue(state.sendQueue.marks.isEmpty)
        XCTAssertTrue(state.transcript.lines.last?.text.contains("pipe: a FIFO") ?? false, "\(state.transcript.lines.map(\.text))")
    }

    func testControlAMarksAllShownWithTheFilterAndAgainUnmarksThem() throws {
        var state = pickerState(try makeFolder(["a.txt", "b.txt", "notes.md"]))
        _ = state.handle(.control("a"))
        XCTAssertEqual(Set(state.sendQueue.marks.map(\.name)), ["photos", "a.txt", "b.txt", "notes.md"])
        _ = state.handle(.control("a"))
        XCTAssertTrue(state.sendQueue.marks.isEmpty)
        for c in "txt" { _ = state.handle(.character(c)) }
        _ = state.handle(.control("a"))
        XCTAssertEqual(state.sendQueue.marks.map(\.name), ["a.txt", "b.txt"], "only what the filter shows")
    }

    func testMarkingAWholeLargeFolderCostsLinearTime() {
        var queue = SendQueue()
        let all = (0..<50_000).map { SendQueue.Mark(path: "/big/file-\($0)", rawPath: Array("/big/file-\($0)".utf8), isFolder: false) }
        let start = Date()
        queue.toggleAll(all)
        XCTAssertEqual(queue.marks.count, 50_000)
        XCTAssertTrue(queue.isMarked(Array("/big/file-49999".utf8)))
        queue.toggleAll(all)
        XCTAssertTrue(queue.marks.isEmpty)
        // Quadratic (each mark looked up in a list) takes minutes here; linear takes well under a second.
        XCTAssertLessThan(Date().timeIntervalSince(start), 5)
    }

    func testMarksShowInThePickerAndItsTitleCountsThem() throws {
        var state = pickerState(try makeFolder())
        select("b.txt", in: &state)
        _ = state.handle(.character(" "))
        let text = rows(state)
        XCTAssertTrue(text.contains { $0.contains("1 marked") }, text.joined(separator: "\n"))
        XCTAssertTrue(text.contains { $0.contains("*b.txt") }, text.joined(separator: "\n"))
        XCTAssertFalse(text.contains { $0.contains("*a.txt") })
    }

    func testEnterSendsTheMarksAsAQueueAndClearsThem() throws {
        let folder = try makeFolder()
        var state = pickerState(folder)
        _ = state.handle(.control("a"))
        select("c.txt", in: &state)
        XCTAssertEqual(state.handle(.enter), .sendQueue(target: "127.0.0.1:9"))
        XCTAssertTrue(state.sendQueue.marks.isEmpty)
        XCTAssertEqual(state.sendQueue.items.map(\.name), ["photos", "a.txt", "b.txt", "c.txt"])
        XCTAssertEqual(state.sendQueue.items.map(\.status), Array(repeating: .queued, count: 4))
        XCTAssertEqual(state.sendQueue.items[1].mark.path, folder.appendingPathComponent("a.txt").path)
        // With marks, Enter on a folder still opens it.
        _ = state.handle(.control("a"))
        select("photos", in: &state)
        XCTAssertNil(state.handle(.enter))
        XCTAssertTrue(state.picker.directory.hasSuffix("/photos"), state.picker.directory)
    }

    func testEachItemGoesFromQueuedToSendingWithARateToItsVerdict() throws {
        var state = pickerState(try makeFolder())
        _ = state.handle(.control("a"))
        _ = sendMarks(&state)
        var queue = state.sendQueue
        // photos/, a.txt, b.txt, c.txt
        let folder = try XCTUnwrap(state.startNextQueued(now: 0))
        XCTAssertNil(state.startNextQueued(now: 0), "one at a time")
        state.queueFolderListed(folder.id, files: 2)
        state.queueEvent(.folderConfirmed(index: 0, savedAs: "photos (1)"), id: folder.id, clock: "10:00:00", now: 0.1)
        state.queueEvent(.fileStarted(index: 1, path: "/x/photos/1.jpg", size: 100), id: folder.id, clock: "10:00:00", now: 0.1)
        state.queueEvent(.fileConfirmed(index: 1, savedAs: "photos (1)/1.jpg", sha256: "ab"), id: folder.id, clock: "10:00:00", now: 0.2)
        queue = state.sendQueue
        XCTAssertTrue(SendQueue.statusText(queue.items[0], now: 0.5).hasPrefix("sending 1/2 files "), SendQueue.statusText(queue.items[0], now: 0.5))
        state.queueEvent(.fileStarted(index: 2, path: "/x/photos/2.jpg", size: 100), id: folder.id, clock: "10:00:00", now: 0.3)
        state.queueEvent(.fileConfirmed(index: 2, savedAs: "photos (1)/2.jpg", sha256: "cd"), id: folder.id, clock: "10:00:00", now: 0.4)
        state.queueEvent(.finished(allConfirmed: true), id: folder.id, clock: "10:00:01", now: 1)
        XCTAssertEqual(state.sendQueue.items[0].status, .saved(as: "photos (1)/"))
        XCTAssertEqual(SendQueue.statusText(state.sendQueue.items[0], now: 1), "saved as photos (1)/ (2 files)")
        XCTAssertEqual(state.transcript.lines.last?.text, "✓ photos saved as photos (1)/ (2 files)")

        let a = try XCTUnwrap(state.startNextQueued(now: 10))
        XCTAssertEqual(SendQueue.statusText(state.sendQueue.items[1], now: 10), "sending 0% –/s")
        state.queueEvent(.connected(try SocketAddress.resolve(host: "127.0.0.1", port: 9)[0]), id: a.id, clock: "", now: 10)
        state.queueEvent(.fileStarted(index: 0, path: a.mark.path, size: 4 << 20), id: a.id, clock: "", now: 10)
        state.queueEvent(.progress(index: 0, sent: 2 << 20, size: 4 << 20), id: a.id, clock: "", now: 11)
        XCTAssertEqual(SendQueue.statusText(state.sendQueue.items[1], now: 11), "sending 50% 2.0 MiB/s")
        state.queueEvent(.fileConfirmed(index: 0, savedAs: "a (1).txt", sha256: "00"), id: a.id, clock: "", now: 12)
        state.queueEvent(.finished(allConfirmed: true), id: a.id, clock: "", now: 12)
        XCTAssertEqual(state.sendQueue.items[1].status, .saved(as: "a (1).txt"))

        let b = try XCTUnwrap(state.startNextQueued(now: 13))
        state.queueEvent(.fileStarted(index: 0, path: b.mark.path, size: 5), id: b.id, clock: "", now: 13)
        state.queueEvent(.fileRefused(index: 0, reason: "the folder is full\u{1b}[2J"), id: b.id, clock: "", now: 13)
        state.queueEvent(.finished(allConfirmed: false), id: b.id, clock: "", now: 13)
        XCTAssertEqual(SendQueue.statusText(state.sendQueue.items[2], now: 13), "refused: the folder is full\\u{1b}[2J", "the server's reason is shown escaped")

        let c = try XCTUnwrap(state.startNextQueued(now: 14))
        state.queueEvent(.failed("connection refused"), id: c.id, clock: "", now: 14)
        state.queueEvent(.finished(allConfirmed: false), id: c.id, clock: "", now: 14)
        XCTAssertEqual(state.sendQueue.items[3].status, .failed("connection refused"))
        XCTAssertFalse(state.sendQueue.isRunning)
        XCTAssertNil(state.startNextQueued(now: 15))
        // Late events of a finished item change nothing.
        state.queueEvent(.fileConfirmed(index: 0, savedAs: "late", sha256: "00"), id: c.id, clock: "", now: 16)
        XCTAssertEqual(state.sendQueue.items[3].status, .failed("connection refused"))
    }

    func testAResumedFileSaysWhereItResumed() throws {
        var state = pickerState(try makeFolder())
        select("a.txt", in: &state)
        _ = state.handle(.character(" "))
        _ = sendMarks(&state)
        let a = try XCTUnwrap(state.startNextQueued(now: 0))
        state.queueEvent(.fileStarted(index: 0, path: a.mark.path, size: 1000), id: a.id, clock: "", now: 0)
        state.queueEvent(.resumed(index: 0, offset: 480, size: 1000), id: a.id, clock: "", now: 0)
        state.queueEvent(.progress(index: 0, sent: 600, size: 1000), id: a.id, clock: "", now: 1)
        XCTAssertEqual(SendQueue.statusText(state.sendQueue.items[0], now: 1), "resuming at 48 %, sending 60% 120 B/s",
                       "the rate counts only what was sent now")
        state.queueEvent(.fileConfirmed(index: 0, savedAs: "a.txt", sha256: "00"), id: a.id, clock: "", now: 2)
        state.queueEvent(.finished(allConfirmed: true), id: a.id, clock: "", now: 2)
        XCTAssertEqual(SendQueue.statusText(state.sendQueue.items[0], now: 2), "saved as a.txt (resumed at 48 %)")
    }

    func testAFolderWithRefusedFilesSaysHowManyWereRefused() throws {
        var state = pickerState(try makeFolder())
        select("photos", in: &state)
        _ = state.handle(.character(" "))
        _ = sendMarks(&state)
        let folder = try XCTUnwrap(state.startNextQueued(now: 0))
        state.queueFolderListed(folder.id, files: 3)
        state.queueEvent(.fileConfirmed(index: 1, savedAs: "photos/1", sha256: "00"), id: folder.id, clock: "", now: 0)
        state.queueEvent(.fileRefused(index: 2, reason: "too large"), id: folder.id, clock: "", now: 0)
        XCTAssertEqual(state.sendQueue.items[0].status, .sending, "one refused file does not end the folder")
        state.queueEvent(.finished(allConfirmed: false), id: folder.id, clock: "", now: 1)
        XCTAssertEqual(state.sendQueue.items[0].status, .incomplete(as: "photos/"))
        XCTAssertEqual(SendQueue.statusText(state.sendQueue.items[0], now: 1), "incomplete: photos/ has 1 file, 1 refused")
        XCTAssertEqual(state.transcript.lines.last?.text, "✗ photos incomplete: photos/ has 1 file, 1 refused")
    }

    /// A folder whose listing skipped entries (links, special files) arrived in part: never a ✓ (it was "saved as"
    /// while `send` and the server both called it incomplete).
    func testAFolderWithSkippedEntriesIsIncompleteNotSaved() throws {
        var state = pickerState(try makeFolder())
        select("photos", in: &state)
        _ = state.handle(.character(" "))
        _ = sendMarks(&state)
        let folder = try XCTUnwrap(state.startNextQueued(now: 0))
        state.queueFolderListed(folder.id, files: 1, skipped: 2)
        state.queueEvent(.folderConfirmed(index: 0, savedAs: "photos (2)"), id: folder.id, clock: "", now: 0)
        state.queueEvent(.fileConfirmed(index: 1, savedAs: "photos (2)/1", sha256: "00"), id: folder.id, clock: "", now: 0)
        state.queueEvent(.finished(allConfirmed: true), id: folder.id, clock: "", now: 1)
        XCTAssertEqual(state.sendQueue.items[0].status, .incomplete(as: "photos (2)/"))
        XCTAssertEqual(state.transcript.lines.last?.text, "✗ photos incomplete: photos (2)/ has 1 file, 2 skipped")
        let grid = ConsoleRenderer.render(state, cols: 100, rows: 30, now: 1).grid
        let rows = (0..<grid.rows).map { grid.text(ofRow: $0) }
        XCTAssertTrue(rows.contains { $0.contains("✗ photos/") && $0.contains("incomplete") }, rows.joined(separator: "\n"))
        XCTAssertFalse(rows.contains { $0.contains("✓ photos") }, rows.joined(separator: "\n"))
    }

    func testAFolderWhoseEveryFileWasRefusedIsRefused() throws {
        var state = pickerState(try makeFolder())
        select("photos", in: &state)
        _ = state.handle(.character(" "))
        _ = sendMarks(&state)
        let folder = try XCTUnwrap(state.startNextQueued(now: 0))
        state.queueFolderListed(folder.id, files: 2)
        state.queueEvent(.fileRefused(index: 1, reason: "too large"), id: folder.id, clock: "", now: 0)
        state.queueEvent(.fileRefused(index: 2, reason: "too large"), id: folder.id, clock: "", now: 0)
        state.queueEvent(.finished(allConfirmed: false), id: folder.id, clock: "", now: 1)
        XCTAssertEqual(state.sendQueue.items[0].status, .refused("2 of 2 files"))
    }

    func testControlXCancelsTheItemBeingSentAndTheQueueGoesOn() throws {
        var state = pickerState(try makeFolder())
        _ = state.handle(.control("a"))
        _ = sendMarks(&state)
        XCTAssertNil(state.handle(.control("x")), "nothing is being sent yet")
        let first = try XCTUnwrap(state.startNextQueued(now: 0))
        XCTAssertEqual(state.handle(.control("x")), .cancelQueueItem(id: first.id))
        XCTAssertTrue(state.cancelQueued(first.id, clock: "", now: 1), "it was being sent: its connection must stop")
        XCTAssertEqual(state.sendQueue.items[0].status, .cancelled)
        let second = try XCTUnwrap(state.startNextQueued(now: 1))
        XCTAssertEqual(second.name, "a.txt")
        // The cancelled item's late events are ignored.
        state.queueEvent(.finished(allConfirmed: true), id: first.id, clock: "", now: 2)
        XCTAssertEqual(state.sendQueue.items[0].status, .cancelled)
        XCTAssertFalse(state.cancelQueued(state.sendQueue.items[2].id, clock: "", now: 2), "a queued one just goes")
        XCTAssertEqual(state.sendQueue.items.map(\.status), [.cancelled, .sending, .cancelled, .queued])
    }

    func testSpaceOnAQueuedItemTakesItOutAndF9CancelsTheWholeQueue() throws {
        var state = pickerState(try makeFolder())
        _ = state.handle(.control("a"))
        _ = sendMarks(&state)
        _ = state.startNextQueued(now: 0)
        select("b.txt", in: &state)
        XCTAssertNil(state.handle(.character(" ")))
        XCTAssertEqual(state.sendQueue.items.map(\.status), [.sending, .queued, .cancelled, .queued])
        XCTAssertTrue(state.sendQueue.marks.isEmpty, "taking it out does not mark it")
        XCTAssertEqual(state.handle(.function(9)), .cancelQueue)
        XCTAssertTrue(state.cancelQueued(nil, clock: "", now: 1))
        XCTAssertEqual(state.sendQueue.items.map(\.status), Array(repeating: .cancelled, count: 4))
        XCTAssertNil(state.handle(.function(9)), "nothing left to cancel")
        XCTAssertEqual(state.transcript.lines.last?.text, "✗ send queue cancelled")
    }

    func testQuitSaysTheQueuedItemsWouldNotBeSent() throws {
        var state = pickerState(try makeFolder())
        _ = state.handle(.control("a"))
        _ = sendMarks(&state)
        XCTAssertNil(state.handle(.control("c")))
        XCTAssertEqual(state.confirmation?.detail, ["4 queued items will not be sent"])
    }

    func testTheQueueShowsEachItemsStatusAt80x24AndTinySizes() throws {
        var state = pickerState(try makeFolder())
        _ = state.handle(.control("a"))
        _ = sendMarks(&state)
        let first = try XCTUnwrap(state.startNextQueued(now: 0))
        state.queueFolderListed(first.id, files: 4)
        let text = rows(state)
        XCTAssertTrue(text.contains { $0.contains("→ photos/") && $0.contains("sending 0/4 files") }, text.joined(separator: "\n"))
        XCTAssertTrue(text.contains { $0.contains("· a.txt") && $0.contains("queued") }, text.joined(separator: "\n"))
        XCTAssertTrue(text[23].contains("^X cancel"), text[23])
        for (cols, rowCount) in [(80, 24), (60, 16), (40, 12), (200, 50)] {
            for (index, row) in rows(state, cols: cols, rows: rowCount).enumerated() {
                XCTAssertLessThanOrEqual(row.displayWidth, cols, "\(cols)x\(rowCount) row \(index): \(row)")
            }
        }
    }

    /// At 80x24 the queue shows the item being sent and what waits after it, before older results; once all is
    /// done it keeps only the latest two results, and the files get their rows back.
    func testTheQueueShowsWhatIsSentAndWaitsBeforeOldResults() throws {
        var state = pickerState(try makeFolder(["a.txt", "b.txt", "c.txt", "d.txt", "e.txt", "f.txt"], folders: []))
        _ = state.handle(.control("a"))
        _ = sendMarks(&state)
        for _ in 0..<3 {
            let item = try XCTUnwrap(state.startNextQueued(now: 0))
            state.queueEvent(.fileConfirmed(index: 0, savedAs: item.mark.name, sha256: "00"), id: item.id, clock: "", now: 1)
            state.queueEvent(.finished(allConfirmed: true), id: item.id, clock: "", now: 1)
        }
        _ = try XCTUnwrap(state.startNextQueued(now: 2))
        // The picker (and its queue) is the right-hand column of the client pane.
        func picker(_ rows: [String]) -> [String] { rows.filter { $0.contains("│") }.map { String($0.split(separator: "│").last ?? "") } }
        var text = picker(rows(state))
        let queueRows = text.filter { $0.contains("✓ ") || $0.contains("→ ") || $0.contains("· ") }
        XCTAssertTrue(queueRows.first?.contains("→ d.txt") ?? false, queueRows.joined(separator: "\n"))
        XCTAssertTrue(queueRows.contains { $0.contains("· e.txt") && $0.contains("queued") }, queueRows.joined(separator: "\n"))
        // The file list says it too: → for the one being sent, · for those waiting.
        select("f.txt", in: &state)
        let list = picker(rows(state))
        XCTAssertTrue(list.contains { $0.hasPrefix("→d.txt") }, list.joined(separator: "\n"))
        XCTAssertTrue(list.contains { $0.hasPrefix("·e.txt") }, list.joined(separator: "\n"))
        XCTAssertFalse(list.contains { $0.hasPrefix("·c.txt") || $0.hasPrefix("→c.txt") }, "a finished one is not marked:\n" + list.joined(separator: "\n"))
        for _ in 0..<3 {
            if let item = state.sendQueue.items.first(where: { $0.status == .sending }) ?? state.startNextQueued(now: 3) {
                state.queueEvent(.fileConfirmed(index: 0, savedAs: item.mark.name, sha256: "00"), id: item.id, clock: "", now: 3)
                state.queueEvent(.finished(allConfirmed: true), id: item.id, clock: "", now: 3)
            }
        }
        XCTAssertTrue(state.sendQueue.items.allSatisfy(\.status.isDone))
        text = picker(rows(state))
        let results = text.filter { $0.contains("✓ ") && $0.contains("saved as") }
        XCTAssertEqual(results.count, 2, text.joined(separator: "\n"))
        XCTAssertTrue(results.last?.contains("f.txt") ?? false, "the latest last: \(results)")
    }

    func testHostileNamesAreShownEscapedAndTheStatusColumnHolds() throws {
        let folder = try makeFolder([], folders: [])
        let names: [[UInt8]] = [
            Array("evil\u{1b}[31mred.txt".utf8),
            Array("e\u{301}\u{301}\u{301}combining.txt".utf8),
            Array("👨‍👩‍👧‍👦family.txt".utf8),
            [0x62, 0x61, 0x64, 0xff, 0xfe, 0x2e, 0x62, 0x69, 0x6e],
            Array(("long-" + String(repeating: "x", count: 200) + ".txt").utf8),
        ]
        for name in names {
            let path = Array(folder.path.utf8) + [0x2F] + name + [0]
            let fd = path.withUnsafeBufferPointer { open(UnsafeRawPointer($0.baseAddress!).assumingMemoryBound(to: CChar.self), O_WRONLY | O_CREAT, 0o644) }
            XCTAssertGreaterThanOrEqual(fd, 0)
            close(fd)
        }
        var state = pickerState(folder)
        state.picker.reload()
        _ = state.handle(.control("a"))
        XCTAssertEqual(state.sendQueue.marks.count, 5)
        XCTAssertTrue(state.sendQueue.marks.contains { $0.rawPath.suffix(9) == [0x62, 0x61, 0x64, 0xff, 0xfe, 0x2e, 0x62, 0x69, 0x6e] },
                      "the bytes that open the file are kept as they are")
        _ = sendMarks(&state)
        XCTAssertTrue(state.sendQueue.items.contains { $0.name == "bad\\xff\\xfe.bin" }, "\(state.sendQueue.items.map(\.name))")
        XCTAssertFalse(state.sendQueue.items.contains { $0.name.unicodeScalars.contains { $0.value == 0x1b } }, "no escape reaches the screen")
        for cols in [80, 120] {
            let screen = ConsoleRenderer.render(state, cols: cols, rows: 40, now: 0)
            let text = (0..<screen.grid.rows).map { screen.grid.text(ofRow: $0) }
            let queueRows = text.filter { $0.contains("queued") }
            XCTAssertEqual(queueRows.count, 5, text.joined(separator: "\n"))
            for row in queueRows {
                XCTAssertLessThanOrEqual(row.displayWidth, cols, row)
                XCTAssertFalse(row.unicodeScalars.contains { $0.value == 0x1b || $0.value == 0xfffd }, row)
                // The status ends every row at the same column, whatever the name's scalars.
                XCTAssertTrue(row.trimmingCharacters(in: .whitespaces).hasSuffix("queued"), row)
            }
            let ends = queueRows.map { row -> Int in
                let prefix = row.components(separatedBy: " queued").first ?? row
                return prefix.displayWidth
            }
            XCTAssertEqual(Set(ends).count, 1, "the status column is aligned: \(queueRows)")
        }
    }
}
