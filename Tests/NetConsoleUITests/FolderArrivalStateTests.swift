import NetConsoleUI
import NetEngine
import XCTest

/// The server pane's view of a folder tree arriving: one row for the tree, and the saved list gains the folder.
final class FolderArrivalStateTests: XCTestCase {
    private let peer = try! SocketAddress.resolve(host: "127.0.0.1", port: 50123)[0]

    private func rows(_ state: ConsoleState, cols: Int = 80, rows: Int = 24) -> [String] {
        let screen = ConsoleRenderer.render(state, cols: cols, rows: rows, now: 5)
        return (0..<screen.grid.rows).map { screen.grid.text(ofRow: $0) }
    }

    private func arriving() -> ConsoleState {
        var state = ConsoleState(saveDirectory: "/srv", pickerDirectory: "/tmp")
        state.apply(.connectionOpened(id: 7, service: "files", peer: peer), now: 0, clock: "10:00:00")
        state.apply(.uploadStarted(id: 7, name: "photos/2024/a.jpg", size: 1000), now: 1, clock: "10:00:01")
        state.apply(.fileSaved(id: 7, path: "/srv/photos/2024/a.jpg", size: 1000, sha256: "aa"), now: 1, clock: "10:00:01")
        state.apply(.uploadStarted(id: 7, name: "photos/b.jpg", size: 3000), now: 2, clock: "10:00:02")
        state.apply(.uploadProgress(id: 7, received: 1500, size: 3000), now: 2, clock: "10:00:02")
        return state
    }

    func testAnArrivingFolderIsOneRowWithItsFileCount() {
        let state = arriving()
        XCTAssertEqual(state.connections.count, 1)
        XCTAssertEqual(state.connections[0].folder?.files, 1)
        XCTAssertEqual(ConsoleState.stateText(state.connections[0]), "1 file photos/")
        XCTAssertTrue(state.savedFiles.isEmpty, "a tree's files are counted in its row, not listed one by one")
        let text = rows(state)
        XCTAssertTrue(text.contains { $0.contains(" 1 file ph") && $0.contains("/ ") }, text.joined(separator: "\n"))
    }

    func testTheTreesEndPutsTheFolderInTheSavedList() {
        var state = arriving()
        state.apply(.fileSaved(id: 7, path: "/srv/photos/b.jpg", size: 3000, sha256: "bb"), now: 3, clock: "10:00:03")
        XCTAssertEqual(ConsoleState.stateText(state.connections[0]), "2 files photos/")
        var summary = FileServerMachine.TreeSummary(top: "photos (1)")
        summary.files = 2
        summary.bytes = 4000
        summary.folders = 2
        state.apply(.treeReceived(id: 7, summary: summary), now: 3, clock: "10:00:03")
        XCTAssertNil(state.connections[0].folder)
        XCTAssertEqual(state.savedFiles.map(\.name), ["photos (1)/"])
        XCTAssertEqual(state.savedFiles.first?.files, 2)
        let text = rows(state)
        XCTAssertTrue(text.contains { $0.contains("photos (1)/") && $0.contains("2 files") }, text.joined(separator: "\n"))
        // A file on its own after the tree is listed as before.
        state.apply(.uploadStarted(id: 7, name: "notes.txt", size: 5), now: 4, clock: "10:00:04")
        state.apply(.fileSaved(id: 7, path: "/srv/notes.txt", size: 5, sha256: "cc"), now: 4, clock: "10:00:04")
        XCTAssertEqual(state.savedFiles.map(\.name), ["photos (1)/", "notes.txt"])
        XCTAssertEqual(ConsoleState.stateText(state.connections[0]), "open")
    }

    func testARefusedFileOfTheTreeCountsAsFailed() {
        var state = arriving()
        state.apply(.uploadRejected(id: 7, reason: "photos/b.jpg: too large"), now: 3, clock: "10:00:03")
        XCTAssertEqual(ConsoleState.stateText(state.connections[0]), "1 file 1 failed photos/")
    }

    /// At 80 columns the STATE column is narrow: the counts and an upload's percentage stay whole and the name is cut
    /// ("upload 2…bin" read like 2 %, "1/307 fi…1)/" hid the count).
    func testANarrowStateColumnKeepsTheCountsAndCutsTheName() {
        var state = ConsoleState(saveDirectory: "/srv", pickerDirectory: "/tmp")
        state.apply(.connectionOpened(id: 7, service: "files", peer: peer), now: 0, clock: "10:00:00")
        state.apply(.uploadStarted(id: 7, name: "a-rather-long-name-of-a-big-file-300.bin", size: 1000), now: 0, clock: "10:00:00")
        state.apply(.uploadProgress(id: 7, received: 660, size: 1000), now: 1, clock: "10:00:01")
        XCTAssertEqual(ConsoleState.stateText(state.connections[0], width: 20), "upload 66% a-rath…in")
        XCTAssertEqual(ConsoleState.stateText(state.connections[0], width: 12), "upload 66% …")
        XCTAssertEqual(ConsoleState.stateText(state.connections[0], width: 10), "upload 66%")
        XCTAssertEqual(ConsoleState.stateText(state.connections[0], width: 8), "66%", "too narrow for the word: the number")
        XCTAssertEqual(ConsoleState.stateText(state.connections[0], width: 5), "66%")
        state.apply(.connectionOpened(id: 8, service: "files", peer: peer), now: 0, clock: "10:00:00")
        var tree = FileServerMachine.TreeSummary(top: "holiday photos (3)")
        tree.announced = TreeTotal(files: 307, bytes: 1)
        state.apply(.treeStarted(id: 8, summary: tree), now: 0, clock: "10:00:00")
        let folder = state.connections.first { $0.id == 8 }!
        XCTAssertEqual(ConsoleState.stateText(folder, width: 18), "0/307 files holi…/")
        XCTAssertEqual(ConsoleState.stateText(folder, width: 11), "0/307 files")
        XCTAssertEqual(ConsoleState.stateText(folder, width: 6), "0/307")
        let shown = rows(state, cols: 80).filter { $0.contains("127.0.0.1:50123 files") }
        XCTAssertEqual(shown.count, 2, shown.joined(separator: "\n"))
        XCTAssertTrue(shown.contains { $0.contains(" upload 66%") }, shown.joined(separator: "\n"))
        XCTAssertTrue(shown.contains { $0.contains(" 0/307 file") }, shown.joined(separator: "\n"))
    }

    /// Quitting while a folder arrives names the folder and what arrived of it, not the one file being received.
    func testQuittingDuringAFolderSaysTheFolderIsLeftIncomplete() {
        var state = ConsoleState(saveDirectory: "/srv", pickerDirectory: "/tmp")
        state.apply(.connectionOpened(id: 7, service: "files", peer: peer), now: 0, clock: "10:00:00")
        var tree = FileServerMachine.TreeSummary(top: "photos (1)")
        tree.announced = TreeTotal(files: 3, bytes: 4000)
        state.apply(.treeStarted(id: 7, summary: tree), now: 0, clock: "10:00:00")
        state.apply(.uploadStarted(id: 7, name: "photos/a.jpg", size: 1000), now: 1, clock: "10:00:01")
        state.apply(.fileSaved(id: 7, path: "/srv/photos (1)/a.jpg", size: 1000, sha256: "aa"), now: 1, clock: "10:00:01")
        state.apply(.uploadStarted(id: 7, name: "photos/big.bin", size: 3000), now: 2, clock: "10:00:02")
        _ = state.handle(.escape)
        XCTAssertNil(state.handle(.control("c")))
        XCTAssertEqual(state.confirmation?.detail, ["1 open connection will be closed",
                                                    "folder photos (1)/ (1/3 files so far) will be left incomplete"])
    }

    func testAnAnnouncedTotalIsShownAsDoneOfTotalAndALyingOneNeverGoesBelowDone() {
        var state = ConsoleState(saveDirectory: "/srv", pickerDirectory: "/tmp")
        state.apply(.connectionOpened(id: 7, service: "files", peer: peer), now: 0, clock: "10:00:00")
        var tree = FileServerMachine.TreeSummary(top: "photos (1)")
        tree.folders = 1
        tree.announced = TreeTotal(files: 2, bytes: 4000)
        state.apply(.treeStarted(id: 7, summary: tree), now: 0, clock: "10:00:00")
        XCTAssertEqual(ConsoleState.stateText(state.connections[0]), "0/2 files photos (1)/", "the row starts with the tree")
        XCTAssertTrue(state.log.lines.contains { $0.text.contains("folder photos (1) arriving: 2 files (3.9 KiB) announced") })
        state.apply(.uploadStarted(id: 7, name: "photos/a.jpg", size: 1000), now: 1, clock: "10:00:01")
        state.apply(.fileSaved(id: 7, path: "/srv/photos (1)/a.jpg", size: 1000, sha256: "aa"), now: 1, clock: "10:00:01")
        XCTAssertEqual(ConsoleState.stateText(state.connections[0]), "1/2 files photos (1)/")
        XCTAssertTrue(rows(state).contains { $0.contains(" 1/2 files …/ ") }, rows(state).joined(separator: "\n"))
        state.apply(.uploadStarted(id: 7, name: "photos/b.jpg", size: 1), now: 2, clock: "10:00:02")
        state.apply(.uploadRejected(id: 7, reason: "photos/b.jpg: too large"), now: 2, clock: "10:00:02")
        XCTAssertEqual(ConsoleState.stateText(state.connections[0]), "1/2 files 1 failed photos (1)/")
        // The sender said two; three more arrive: done stops at the total.
        for name in ["c", "d", "e"] {
            state.apply(.uploadStarted(id: 7, name: "photos/\(name)", size: 1), now: 3, clock: "10:00:03")
            state.apply(.fileSaved(id: 7, path: "/srv/photos (1)/\(name)", size: 1, sha256: "cc"), now: 3, clock: "10:00:03")
        }
        XCTAssertEqual(state.connections[0].folder?.files, 4)
        XCTAssertEqual(ConsoleState.stateText(state.connections[0]), "2/2 files 1 failed photos (1)/")
    }

    func testExtremeTotalsAndAnOlderSendersTree() {
        var row = ConsoleState.FolderArrivalRow(top: "t", total: 1)
        XCTAssertEqual(row.text, "0/1 file t/")
        row.files = 5
        XCTAssertEqual(row.text, "1/1 file t/")
        row.total = 0
        XCTAssertEqual(row.text, "0/0 files t/")
        row.total = .max
        XCTAssertEqual(row.text, "5/9223372036854775807 files t/")
        row.total = nil
        XCTAssertEqual(row.text, "5 files t/", "no total announced: today's text")
        // A tree whose sender announced nothing still starts its row at its top folder, in today's words.
        var state = ConsoleState(saveDirectory: "/srv", pickerDirectory: "/tmp")
        state.apply(.connectionOpened(id: 2, service: "files", peer: peer), now: 0, clock: "10:00:00")
        state.apply(.treeStarted(id: 2, summary: FileServerMachine.TreeSummary(top: "old")), now: 0, clock: "10:00:00")
        XCTAssertEqual(ConsoleState.stateText(state.connections[0]), "0 files old/")
        state.apply(.uploadStarted(id: 2, name: "old/a", size: 1), now: 1, clock: "10:00:01")
        state.apply(.fileSaved(id: 2, path: "/srv/old/a", size: 1, sha256: "aa"), now: 1, clock: "10:00:01")
        XCTAssertEqual(ConsoleState.stateText(state.connections[0]), "1 file old/")
    }

    func testAHostileTopIsShownEscaped() {
        var state = ConsoleState(saveDirectory: "/srv", pickerDirectory: "/tmp")
        state.apply(.connectionOpened(id: 1, service: "files", peer: peer), now: 0, clock: "10:00:00")
        state.apply(.uploadStarted(id: 1, name: "x\u{1b}[2J\u{202e}/f", size: 1), now: 0, clock: "10:00:00")
        let text = ConsoleState.stateText(state.connections[0])
        XCTAssertFalse(text.unicodeScalars.contains { $0.value == 0x1b || $0.value == 0x202e }, text)
        XCTAssertTrue(text.hasSuffix("x\\u{1b}[2J\\u{202e}/"), text)
    }
}
