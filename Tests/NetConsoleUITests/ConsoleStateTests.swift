import Foundation
import NetConsoleUI
import NetEngine
import XCTest

final class ConsoleStateTests: XCTestCase {
    func testLogFollowsTheNewestLineAndScrollsBack() {
        var log = ActivityLog(capacity: 100)
        for index in 0..<50 { log.append("line \(index)", time: "t") }
        XCTAssertEqual(log.visibleLines(height: 10).map(\.text), (40..<50).map { "line \($0)" })
        log.scroll(by: 5, height: 10)
        XCTAssertFalse(log.isFollowing)
        XCTAssertEqual(log.visibleLines(height: 10).last?.text, "line 44")
        log.append("line 50", time: "t")
        XCTAssertEqual(log.visibleLines(height: 10).last?.text, "line 44", "a scrolled-back view stays put when lines arrive")
        log.scroll(by: 1000, height: 10)
        XCTAssertEqual(log.visibleLines(height: 10).first?.text, "line 0")
        log.scrollToNewest()
        XCTAssertEqual(log.visibleLines(height: 10).last?.text, "line 50")
    }

    func testLogIsBounded() {
        var log = ActivityLog(capacity: 10)
        for index in 0..<25 { log.append("\(index)", time: "t") }
        XCTAssertEqual(log.lines.count, 10)
        XCTAssertEqual(log.lines.first?.text, "15")
    }

    func testPickerFiltersCaseInsensitivelyAndPicksAFile() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("picker-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("Photos"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        for name in ["notes.txt", "Report.PDF", "report-old.pdf", ".hidden"] {
            try Data("x".utf8).write(to: folder.appendingPathComponent(name))
        }
        var picker = FilePicker(directory: folder.path)
        XCTAssertEqual(picker.visibleEntries.map(\.name), ["..", "Photos", "notes.txt", "report-old.pdf", "Report.PDF"],
                       "parent, folders, then files by case-insensitive name")
        for character in "rep" { _ = picker.handle(.character(character)) }
        XCTAssertEqual(Set(picker.visibleEntries.map(\.name)), ["Report.PDF", "report-old.pdf"])
        _ = picker.handle(.down)
        guard case let .picked(path) = picker.handle(.enter) else { return XCTFail("Enter on a file must pick it") }
        XCTAssertTrue(path.hasSuffix("/" + picker.visibleEntries[1].name), path)
        _ = picker.handle(.control("u"))
        for character in "pho" { _ = picker.handle(.character(character)) }
        XCTAssertEqual(picker.handle(.enter), .none, "Enter on a folder opens it")
        XCTAssertTrue(picker.directory.hasSuffix("/Photos"), picker.directory)
        _ = picker.handle(.backspace)
        XCTAssertEqual(picker.directory, FilePicker(directory: folder.path).directory, "Backspace with no filter goes up")
        for character in ".hid" { _ = picker.handle(.character(character)) }
        XCTAssertEqual(picker.visibleEntries.map(\.name), [".hidden"], "dot files only when asked for")
    }

    func testPickerPathsAreNormalisedAndSizesAndLinksRead() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("picker-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("a/b"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try Data(repeating: 7, count: 1234).write(to: folder.appendingPathComponent("a/data.bin"))
        try FileManager.default.createSymbolicLink(atPath: folder.appendingPathComponent("a/link-to-b").path,
                                                   withDestinationPath: folder.appendingPathComponent("a/b").path)
        try FileManager.default.createSymbolicLink(atPath: folder.appendingPathComponent("a/dangling").path,
                                                   withDestinationPath: "/nonexistent/\(UUID().uuidString)")

        let messy = folder.path + "//a/./b/../"
        let picker = FilePicker(directory: messy)
        XCTAssertEqual(picker.directory, folder.appendingPathComponent("a").path, "'.', '..' and '//' resolved, no trailing slash")
        XCTAssertEqual(picker.visibleEntries.map(\.name), ["..", "b", "link-to-b", "dangling", "data.bin"],
                       "a link to a folder is a folder; a dangling link is listed as one")
        XCTAssertEqual(picker.visibleEntries.map(\.markedName), ["../", "b/", "link-to-b@/", "dangling@", "data.bin"])
        XCTAssertEqual(picker.visibleEntries[3].sizeText, "broken link")
        XCTAssertEqual(picker.visibleEntries.last?.size, 1234)
        XCTAssertEqual(picker.path(of: FileEntry(name: "data.bin", kind: .file)), folder.path + "/a/data.bin")

        XCTAssertEqual(FilePicker(directory: "/../..").directory, "/", "nothing above the root")
        XCTAssertEqual(FilePicker(directory: "/").visibleEntries.first?.name == "..", false, "the root has no parent entry")
        let relative = FilePicker(directory: ".").directory
        XCTAssertEqual(relative, FileManager.default.currentDirectoryPath, "a relative path starts at the current folder")
        var unreadable = FilePicker(directory: folder.path + "/missing")
        XCTAssertEqual(unreadable.problem, "cannot read this folder: No such file or directory")
        _ = unreadable.handle(.backspace)
        XCTAssertEqual(unreadable.directory, folder.path)
        XCTAssertNil(unreadable.problem)
    }

    func testLineEditorHistoryWithUpAndDown() {
        var editor = LineEditor()
        for text in ["first", "second"] {
            for character in text { _ = editor.handle(.character(character)) }
            XCTAssertEqual(editor.commit(), text)
        }
        _ = editor.handle(.up)
        XCTAssertEqual(editor.text, "second")
        _ = editor.handle(.up)
        XCTAssertEqual(editor.text, "first")
        _ = editor.handle(.down)
        XCTAssertEqual(editor.text, "second")
    }

    func testEnterInTheMessageFieldAsksToSendAnEcho() {
        var state = ConsoleState(saveDirectory: "/tmp", pickerDirectory: "/tmp")
        state.apply(.listening(service: "echo", address: try! SocketAddress.resolve(host: "127.0.0.1", port: 4000)[0]), now: 0, clock: "t")
        XCTAssertNil(state.handle(.enter), "an empty line sends nothing")
        XCTAssertEqual(state.focus, .message)
        for character in "héllo" { _ = state.handle(.character(character)) }
        XCTAssertEqual(state.handle(.enter), .sendEcho(target: "127.0.0.1:4000", message: "héllo"))
        XCTAssertEqual(state.message.text, "")
    }

    func testQuitFromTheServerPaneAndCtrlCAnywhere() {
        var state = ConsoleState(saveDirectory: "/tmp", pickerDirectory: "/tmp")
        XCTAssertNil(state.handle(.character("q")), "q is text in the message field")
        _ = state.handle(.escape)
        XCTAssertEqual(state.handle(.character("q")), .quit)
        XCTAssertEqual(state.handle(.control("c")), .quit)
    }

    func testConnectionBytesAndTotalsFollowEvents() {
        var state = ConsoleState(saveDirectory: "/tmp", pickerDirectory: "/tmp")
        let peer = try! SocketAddress.resolve(host: "127.0.0.1", port: 5000)[0]
        state.apply(.connectionOpened(id: 7, service: "echo", peer: peer), now: 0, clock: "t")
        state.apply(.bytesReceived(id: 7, count: 10), now: 0, clock: "t")
        state.apply(.bytesSent(id: 7, count: 10), now: 0, clock: "t")
        XCTAssertEqual(state.openConnectionCount, 1)
        XCTAssertEqual(state.bytesInTotal, 10)
        state.apply(.connectionClosed(id: 7, peer: peer, bytesIn: 10, bytesOut: 10, reason: nil), now: 1, clock: "t")
        XCTAssertEqual(state.openConnectionCount, 0)
    }
}
