import Foundation
import NetConsoleUI
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// The file picker on real folders: kinds, names that are not UTF-8, going up, reading again.
final class FilePickerTests: XCTestCase {
    private func makeFolder() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("picker-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: folder) }
        return folder
    }

    /// Creates a file whose name is `bytes` (which need not be UTF-8) in `folder`.
    private func createFile(named bytes: [UInt8], in folder: URL, contents: String) {
        let path = Array(folder.path.utf8) + [0x2F] + bytes + [0]
        let fd = path.withUnsafeBufferPointer { open(UnsafeRawPointer($0.baseAddress!).assumingMemoryBound(to: CChar.self), O_WRONLY | O_CREAT, 0o644) }
        XCTAssertGreaterThanOrEqual(fd, 0)
        _ = Array(contents.utf8).withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
    }

    func testFifosSocketsAndLinksAreMarkedAndCannotBeSent() throws {
        let folder = try makeFolder()
        XCTAssertEqual(mkfifo(folder.appendingPathComponent("pipe").path, 0o644), 0)
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let socketPath = folder.appendingPathComponent("sock").path
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            for (index, byte) in socketPath.utf8.enumerated() { buffer[index] = byte }
        }
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) } }
        XCTAssertEqual(bound, 0)
        try Data("x".utf8).write(to: folder.appendingPathComponent("real.txt"))
        try FileManager.default.createSymbolicLink(atPath: folder.appendingPathComponent("shortcut").path, withDestinationPath: "real.txt")

        var picker = FilePicker(directory: folder.path)
        XCTAssertEqual(picker.visibleEntries.map(\.markedName), ["../", "pipe|", "real.txt", "shortcut@", "sock="])
        XCTAssertEqual(picker.visibleEntries.map(\.sizeText), ["up", "fifo", "1 B", "1 B", "socket"])
        _ = picker.handle(.down)
        XCTAssertEqual(picker.handle(.enter), .refused("pipe: a FIFO (named pipe), not a file"))
        _ = picker.handle(.down)
        _ = picker.handle(.down)
        XCTAssertEqual(picker.handle(.enter), .picked(path: folder.path + "/shortcut"), "a link to a file is sent as the file")
    }

    func testANameThatIsNotUTF8IsShownEscapedAndPickedByItsBytes() throws {
        let folder = try makeFolder()
        let name: [UInt8] = Array("photo ".utf8) + [0xFF] + Array(".jpg".utf8)
        createFile(named: name, in: folder, contents: "pixels")
        var picker = FilePicker(directory: folder.path)
        XCTAssertEqual(picker.visibleEntries.map(\.name), ["..", "photo \\xff.jpg"])
        _ = picker.handle(.down)
        XCTAssertEqual(picker.handle(.enter), .pickedBytes(path: folder.path + "/photo \\xff.jpg", rawPath: Array(folder.path.utf8) + [0x2F] + name))
        XCTAssertEqual(FileEntry(name: "x", kind: .file, rawName: [0x61, 0xC3, 0xA9, 0xE2, 0x82, 0x62]).name, "x", "given names stay")
        let folderName: [UInt8] = [0x64, 0xFE]
        XCTAssertEqual(mkdir(Array(folder.path.utf8).map { CChar(bitPattern: $0) } + [47] + folderName.map { CChar(bitPattern: $0) } + [0], 0o755), 0)
        picker.reload()
        XCTAssertEqual(picker.visibleEntries.map(\.name), ["..", "d\\xfe", "photo \\xff.jpg"])
        picker.select(1)
        XCTAssertEqual(picker.handle(.enter), .refused("d\\xfe: a folder whose name is not UTF-8 cannot be opened here"))
        XCTAssertEqual(picker.directory, FilePicker(directory: folder.path).directory)
    }

    func testGoingUpSelectsTheFolderLeftAndReadingAgainKeepsTheSelection() throws {
        let folder = try makeFolder()
        for name in ["alpha", "beta", "gamma"] {
            try FileManager.default.createDirectory(at: folder.appendingPathComponent(name), withIntermediateDirectories: true)
        }
        var picker = FilePicker(directory: folder.appendingPathComponent("gamma").path)
        _ = picker.handle(.backspace)
        XCTAssertEqual(picker.selectedEntry?.name, "gamma")
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("aardvark"), withIntermediateDirectories: true)
        XCTAssertTrue(picker.reloadIfChanged(), "a new folder changes the folder's time")
        XCTAssertEqual(picker.selectedEntry?.name, "gamma", "the selection stays on its name")
        XCTAssertEqual(picker.visibleEntries.count, 5)
        XCTAssertFalse(picker.reloadIfChanged())
    }

    func testAFolderThatCannotBeReadSaysWhy() throws {
        let folder = try makeFolder()
        let gone = folder.appendingPathComponent("gone")
        try FileManager.default.createDirectory(at: gone, withIntermediateDirectories: true)
        var picker = FilePicker(directory: gone.path)
        XCTAssertNil(picker.problem)
        try FileManager.default.removeItem(at: gone)
        picker.reload()
        XCTAssertEqual(picker.problem, "cannot read this folder: No such file or directory")
        let screen = ConsoleRenderer.render(ConsoleState(saveDirectory: "/tmp", pickerDirectory: gone.path), cols: 80, rows: 24, now: 0).grid.text
        XCTAssertTrue(screen.contains("cannot read this folder: No such f"), screen)
    }

    func testAFileOver100MiBIsSentOnlyAfterAYes() throws {
        let folder = try makeFolder()
        for (name, size) in [("big.iso", 200 << 20), ("small.txt", 10)] {
            let path = folder.appendingPathComponent(name).path
            XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: nil))
            XCTAssertEqual(truncate(path, off_t(size)), 0)
        }
        var state = ConsoleState(saveDirectory: "/tmp", pickerDirectory: folder.path)
        state.fileTarget.setText("127.0.0.1:4001")
        state.focus = .files
        for character in "big" { _ = state.handle(.character(character)) }
        XCTAssertNil(state.handle(.enter))
        XCTAssertEqual(state.confirmation?.title, "Send big.iso?")
        XCTAssertEqual(state.confirmation?.detail.first, "200.0 MiB (209715200 bytes), over 100.0 MiB: it will take a while")
        XCTAssertNil(state.handle(.character("n")))
        _ = state.handle(.enter)
        XCTAssertEqual(state.handle(.character("y")), .sendFile(target: "127.0.0.1:4001", path: folder.path + "/big.iso"))
        _ = state.handle(.control("u"))
        for character in "small" { _ = state.handle(.character(character)) }
        XCTAssertEqual(state.handle(.enter), .sendFile(target: "127.0.0.1:4001", path: folder.path + "/small.txt"), "no question for a small file")
    }
}
