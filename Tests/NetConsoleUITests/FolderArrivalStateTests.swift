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
        XCTAssertTrue(text.contains { $0.contains("1 file p") && $0.contains("os/") }, text.joined(separator: "\n"))
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

    func testAHostileTopIsShownEscaped() {
        var state = ConsoleState(saveDirectory: "/srv", pickerDirectory: "/tmp")
        state.apply(.connectionOpened(id: 1, service: "files", peer: peer), now: 0, clock: "10:00:00")
        state.apply(.uploadStarted(id: 1, name: "x\u{1b}[2J\u{202e}/f", size: 1), now: 0, clock: "10:00:00")
        let text = ConsoleState.stateText(state.connections[0])
        XCTAssertFalse(text.unicodeScalars.contains { $0.value == 0x1b || $0.value == 0x202e }, text)
        XCTAssertTrue(text.hasSuffix("x\\u{1b}[2J\\u{202e}/"), text)
    }
}
