import NetEngine
import XCTest

/// The framed server's sequencing, input by input, with no socket and no folder.
final class FileServerMachineTests: XCTestCase {
    typealias Machine = FileServerMachine

    /// Everything `machine` does with `bytes` until it needs more input or waits for an answer; `offset` ends past
    /// what it used.
    private func feed(_ machine: inout Machine, _ bytes: [UInt8], offset: inout Int) -> [Machine.Action] {
        bytes.withUnsafeBytes { input in
            var actions: [Machine.Action] = []
            while let more = machine.receive(input, offset: &offset) { actions += more }
            return actions
        }
    }

    private func feed(_ machine: inout Machine, _ bytes: [UInt8]) -> [Machine.Action] {
        var offset = 0
        return feed(&machine, bytes, offset: &offset)
    }

    private let headerDeadline = Machine.Action.expectHeader

    func testOneFileFromHeaderToAnswer() {
        var machine = Machine(settings: .init(maxSize: 100))
        XCTAssertEqual(machine.start(), [.expectHeader])
        let header = FileTransferEncoder.header(name: "../notes.txt", size: 5)
        let payload = Array("hello".utf8)
        let trailer = FileTransferEncoder.trailer(sha256: FileTransferEncoder.sha256(of: payload))
        let stream = header + payload + trailer
        var offset = 0
        XCTAssertEqual(feed(&machine, stream, offset: &offset), [.clearDeadline, .started(name: "notes.txt", size: 5), .open(name: "notes.txt", folder: [], size: 5)])
        XCTAssertEqual(offset, header.count, "nothing past the header is taken before the file is open")
        XCTAssertFalse(machine.takesInput)
        XCTAssertEqual(machine.opened(refusal: nil), [.reply(.ready)])
        XCTAssertEqual(feed(&machine, stream, offset: &offset), [
            .store(header.count..<header.count + 5), .clearDeadline,
            .publish(name: "notes.txt", sha256: FileTransferEncoder.sha256(of: payload))])
        XCTAssertEqual(offset, stream.count)
        XCTAssertTrue(machine.isPublishing)
        XCTAssertNil(stream.withUnsafeBytes { var at = 0; return machine.receive($0, offset: &at) }, "no input while publishing")
        XCTAssertEqual(machine.published(.saved(name: "notes.txt")), [.reply(.saved(name: "notes.txt")), headerDeadline])
        XCTAssertEqual(machine.peerEnded(), [.close], "between files: an orderly end")
    }

    func testTooLargeAndUnopenableFilesAreRefusedAndTheConnectionGoesOn() {
        var machine = Machine(settings: .init(maxSize: 10))
        XCTAssertEqual(feed(&machine, FileTransferEncoder.header(name: "big", size: 11)), [
            .clearDeadline, .started(name: "big", size: 11),
            .rejected("413 big is 11 B, larger than this server's limit of 10 B"),
            .reply(.error(code: 413, message: "big is 11 B, larger than this server's limit of 10 B")), headerDeadline])
        XCTAssertEqual(feed(&machine, FileTransferEncoder.header(name: "ok", size: 1)),
                       [.clearDeadline, .started(name: "ok", size: 1), .open(name: "ok", folder: [], size: 1)])
        XCTAssertEqual(machine.opened(refusal: (507, "no space")), [.rejected("507 no space"), .reply(.error(code: 507, message: "no space")), headerDeadline])
        XCTAssertTrue(machine.takesInput, "the next bytes are the next header")
        XCTAssertEqual(feed(&machine, FileTransferEncoder.header(name: "next", size: 0)),
                       [.clearDeadline, .started(name: "next", size: 0), .open(name: "next", folder: [], size: 0)])
    }

    func testAWriteFailureDrainsTheFileThenRefusesIt() {
        var machine = Machine(settings: .init(maxSize: 100))
        let payload: [UInt8] = [1, 2, 3, 4]
        _ = feed(&machine, FileTransferEncoder.header(name: "f", size: 4))
        _ = machine.opened(refusal: nil)
        XCTAssertEqual(feed(&machine, Array(payload[0..<2])), [.store(0..<2)])
        XCTAssertEqual(machine.storeFailed("cannot write f: disk full"), [.discard])
        XCTAssertEqual(machine.storeFailed("again"), [], "once")
        XCTAssertEqual(feed(&machine, Array(payload[2...]) + FileTransferEncoder.trailer(sha256: FileTransferEncoder.sha256(of: payload))), [
            .rejected("cannot write f: disk full"), .reply(.error(code: 507, message: "cannot write f: disk full")), headerDeadline])
    }

    func testTheSecretIsCheckedBeforeAnythingElse() throws {
        let secret = try SharedSecret(Array("right".utf8))
        for offered in [nil, try SharedSecret(Array("wrong".utf8))] {
            var machine = Machine(settings: .init(maxSize: 1, secret: secret))
            let message = offered == nil ? "this server needs the shared secret: send with --secret-file FILE" : "wrong secret"
            XCTAssertEqual(feed(&machine, FileTransferEncoder.header(name: "f", size: 1 << 40, secret: offered)), [
                .clearDeadline, .rejected("401 \(message)"), .reply(.error(code: 401, message: message)), .close])
            XCTAssertTrue(machine.isStopped)
        }
        var machine = Machine(settings: .init(maxSize: 1, secret: secret))
        XCTAssertEqual(feed(&machine, FileTransferEncoder.header(name: "f", size: 1, secret: secret)).last, .open(name: "f", folder: [], size: 1))
    }

    func testGarbageIsABadRequestAndTheEnd() {
        var machine = Machine(settings: .init(maxSize: 1))
        let actions = feed(&machine, Array("GET / HTTP/1.1\r\n".utf8))
        XCTAssertEqual(actions.count, 3)
        XCTAssertEqual(actions.last, .close)
        guard case let .reply(.error(code, _)) = actions[1] else { return XCTFail("\(actions)") }
        XCTAssertEqual(code, 400)
    }

    func testEndsAndDeadlinesInTheMiddleOfAFile() {
        var machine = Machine(settings: .init(maxSize: 100))
        _ = feed(&machine, FileTransferEncoder.header(name: "f", size: 10))
        _ = machine.opened(refusal: nil)
        _ = feed(&machine, [1, 2, 3])
        XCTAssertEqual(machine.current?.received, 3)
        XCTAssertEqual(machine.peerEnded(), [
            .discard, .rejected("connection ended after 3 of 10 bytes of f"),
            .reply(.error(code: 408, message: "connection ended after 3 of 10 bytes of f")), .close])

        machine = Machine(settings: .init(maxSize: 100))
        _ = feed(&machine, Array(FileTransferEncoder.header(name: "f", size: 10).prefix(5)))
        XCTAssertEqual(machine.peerEnded(), [
            .rejected("connection ended in the middle of a file header"),
            .reply(.error(code: 408, message: "connection ended in the middle of a file header")), .close])

        machine = Machine(settings: .init(maxSize: 100))
        _ = feed(&machine, FileTransferEncoder.header(name: "f", size: 10))
        _ = machine.opened(refusal: nil)
        XCTAssertEqual(machine.deadlinePassed(reason: "no data for 60 s"), [
            .discard, .rejected("408 no data for 60 s"), .reply(.error(code: 408, message: "no data for 60 s")), .drop(reason: "no data for 60 s")])
        XCTAssertEqual(machine.tooSlow("late"), [], "stopped")

        machine = Machine(settings: .init(maxSize: 100))
        _ = feed(&machine, FileTransferEncoder.header(name: "f", size: 10))
        _ = machine.opened(refusal: nil)
        XCTAssertEqual(machine.connectionClosed(why: "connection reset by peer"),
                       [.discard, .rejected("f: connection reset by peer before the upload finished")])
    }

    func testAFileWithAWrongTrailerMagicIsABadRequest() {
        var machine = Machine(settings: .init(maxSize: 100))
        _ = feed(&machine, FileTransferEncoder.header(name: "f", size: 1))
        _ = machine.opened(refusal: nil)
        let actions = feed(&machine, [9, 9, 9])
        XCTAssertEqual(actions.first, .store(0..<1))
        XCTAssertEqual(actions.dropFirst().first, .discard, "the temporary file goes")
        XCTAssertEqual(actions.last, .close)
    }
}
