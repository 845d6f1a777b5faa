import NetEngine
import XCTest

/// The resumable upload (header version 4, `READY <offset>`), input by input, on both machines.
final class FileResumeMachineTests: XCTestCase {
    func testTheServersOffsetDecidesWhatIsSent() {
        let identity: [UInt8] = [1, 2, 3]
        var machine = FileClientMachine(files: ["f"], entries: [.resumableFile])
        XCTAssertEqual(machine.handle(.connected(peer: "p")), [.openFile(index: 0)])
        let actions = machine.handle(.fileOpened(name: "f", size: 10, identity: identity))
        XCTAssertEqual(actions.first, .send(FileTransferEncoder.treeHeader(path: "f", size: 10, kind: .resumableFile, identity: identity)))
        XCTAssertEqual(machine.handle(.received(Array("READY 4\n".utf8))).last, .resumePayload(index: 0, from: 4))

        machine = FileClientMachine(files: ["f"], entries: [.resumableFile])
        _ = machine.handle(.connected(peer: "p"))
        _ = machine.handle(.fileOpened(name: "f", size: 10, identity: identity))
        XCTAssertEqual(machine.handle(.received(Array("READY 0\n".utf8))).last, .streamPayload(index: 0), "nothing kept: from the start")

        machine = FileClientMachine(files: ["f"], entries: [.resumableFile])
        _ = machine.handle(.connected(peer: "p"))
        _ = machine.handle(.fileOpened(name: "f", size: 10, identity: identity))
        guard case let .finish(failure, _, _)? = machine.handle(.received(Array("READY 11\n".utf8))).last else {
            return XCTFail("an offset past the end is not a reply to trust")
        }
        XCTAssertTrue(failure?.contains("unexpected reply") ?? false, "\(String(describing: failure))")
    }

    func testAKeptPartIsContinuedAndABreakKeepsIt() {
        var machine = FileServerMachine(settings: .init(maxSize: 100))
        let header = FileTransferEncoder.treeHeader(path: "f.bin", size: 10, kind: .resumableFile, identity: [9])
        var offset = 0
        var actions = header.withUnsafeBytes { input in
            var all: [FileServerMachine.Action] = []
            while let more = machine.receive(input, offset: &offset) { all += more }
            return all
        }
        XCTAssertEqual(actions.last, .openResumable(name: "f.bin", folder: [], size: 10, identity: [9]))
        XCTAssertEqual(machine.opened(refusal: nil, offset: 6), [.reply(.readyAt(6))])
        XCTAssertEqual(machine.current?.received, 6, "the kept part counts as received")
        // Only the four missing bytes, then the trailer (over the whole file) follow.
        let rest: [UInt8] = [7, 8, 9, 10]
        let stream = rest + FileTransferEncoder.trailer(sha256: [UInt8](repeating: 1, count: 32))
        offset = 0
        actions = stream.withUnsafeBytes { input in
            var all: [FileServerMachine.Action] = []
            while let more = machine.receive(input, offset: &offset) { all += more }
            return all
        }
        XCTAssertEqual(actions.first, .store(0..<4))
        XCTAssertEqual(actions.last, .publish(name: "f.bin", sha256: [UInt8](repeating: 1, count: 32)))

        machine = FileServerMachine(settings: .init(maxSize: 100))
        offset = 0
        header.withUnsafeBytes { input in while machine.receive(input, offset: &offset) != nil {} }
        _ = machine.opened(refusal: nil, offset: 0)
        XCTAssertEqual(machine.peerEnded().first, .keep, "the connection broke: what arrived is kept")
    }
}
