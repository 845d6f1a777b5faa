import NetEngine
import XCTest

/// The framed client's sequencing, input by input, with no socket and no file.
final class FileClientMachineTests: XCTestCase {
    typealias Machine = FileClientMachine
    private let settings = Machine.Settings(replyTimeout: 60, firstAnswerTimeout: 2)
    private let digest = [UInt8](repeating: 7, count: 32)

    private func lines(_ text: String) -> Machine.Input { .received(Array(text.utf8)) }

    /// Runs `steps` (input, the actions it must give) in order on a fresh machine for `files`.
    private func run(_ files: [String], _ steps: [(Machine.Input, [Machine.Action])], file: StaticString = #filePath, line: UInt = #line) {
        var machine = Machine(files: files, settings: settings)
        for (number, (input, expected)) in steps.enumerated() {
            XCTAssertEqual(machine.handle(input), expected, "step \(number): \(input)", file: file, line: line)
        }
    }

    private let notAFileServer = "127.0.0.1:9 did not answer the file header within 2 s: "
        + "it is not a netconsole file server (for netcat, socat or a raw file server use --raw), or it is stalled"

    func testTwoFilesOnOneConnection() {
        run(["/a/one.txt", "two.bin"], [
            (.connected(peer: "127.0.0.1:9"), [.openFile(index: 0)]),
            (.fileOpened(name: "one.txt", size: 3), [
                .send(FileTransferEncoder.header(name: "one.txt", size: 3)),
                .setDeadline(seconds: 2, message: notAFileServer)]),
            (lines("READY\n"), [
                .setDeadline(seconds: 60, message: "the server took no data for 60 s while sending /a/one.txt"),
                .streamPayload(index: 0)]),
            (.payloadProgress(sent: 3), [.setDeadline(seconds: 60, message: "the server took no data for 60 s while sending /a/one.txt")]),
            (.payloadComplete(sha256: digest), [
                .send(FileTransferEncoder.trailer(sha256: digest)),
                .setDeadline(seconds: 60, message: "no answer after /a/one.txt was sent within 60 s")]),
            (lines("OK one (1).txt\n"), [.confirmed(index: 0, savedAs: "one (1).txt", sha256: digest), .openFile(index: 1)]),
            // The peer has answered now: the second header gets the full reply timeout.
            (.fileOpened(name: "two.bin", size: 0), [
                .send(FileTransferEncoder.header(name: "two.bin", size: 0)),
                .setDeadline(seconds: 60, message: "no answer to the header of two.bin within 60 s")]),
            (lines("READ"), []),
            (lines("Y\n"), [
                .setDeadline(seconds: 60, message: "the server took no data for 60 s while sending two.bin"),
                .streamPayload(index: 1)]),
            (.payloadComplete(sha256: digest), [
                .send(FileTransferEncoder.trailer(sha256: digest)),
                .setDeadline(seconds: 60, message: "no answer after two.bin was sent within 60 s")]),
            (lines("OK two.bin\n"), [.confirmed(index: 1, savedAs: "two.bin", sha256: digest),
                                     .finish(failure: nil, allConfirmed: true, reset: false)]),
            (lines("OK late\n"), []),
        ])
    }

    func testARefusedHeaderSendsNoPayloadAndTheNextFileGoes() {
        run(["big", "small"], [
            (.connected(peer: "p"), [.openFile(index: 0)]),
            (.fileOpened(name: "big", size: 1 << 40), [
                .send(FileTransferEncoder.header(name: "big", size: 1 << 40)),
                .setDeadline(seconds: 2, message: "p did not answer the file header within 2 s: "
                             + "it is not a netconsole file server (for netcat, socat or a raw file server use --raw), or it is stalled")]),
            (lines("ERR 413 big is 1 TiB, larger than this server's limit of 1 GiB\n"), [
                .refused(index: 0, reason: "413 big is 1 TiB, larger than this server's limit of 1 GiB"), .openFile(index: 1)]),
            (.fileUnavailable(reason: "permission denied"), [
                .refused(index: 1, reason: "small: permission denied"), .finish(failure: nil, allConfirmed: false, reset: false)]),
        ])
    }

    func testCodesAfterWhichTheServerClosesEndTheSession() {
        for code in [400, 401, 408, 503] {
            run(["f"], [
                (.connected(peer: "p"), [.openFile(index: 0)]),
                (.fileOpened(name: "f", size: 1), [
                    .send(FileTransferEncoder.header(name: "f", size: 1)),
                    .setDeadline(seconds: 2, message: "p did not answer the file header within 2 s: "
                                 + "it is not a netconsole file server (for netcat, socat or a raw file server use --raw), or it is stalled")]),
                (lines("ERR \(code) why\n"), [.refused(index: 0, reason: "\(code) why"),
                                              .finish(failure: "the server ended the session: \(code) why", allConfirmed: false, reset: false)]),
            ])
        }
    }

    func testSilenceAfterTheFirstHeaderResetsButLaterSilenceDoesNot() {
        var machine = Machine(files: ["f"], settings: settings)
        _ = machine.handle(.connected(peer: "p"))
        _ = machine.handle(.fileOpened(name: "f", size: 1))
        XCTAssertEqual(machine.handle(.deadlinePassed(reason: "silent")), [.finish(failure: "silent", allConfirmed: false, reset: true)])

        machine = Machine(files: ["f"], settings: settings)
        _ = machine.handle(.connected(peer: "p"))
        _ = machine.handle(.fileOpened(name: "f", size: 1))
        _ = machine.handle(lines("READY\n"))
        XCTAssertEqual(machine.handle(.deadlinePassed(reason: "stalled")), [.finish(failure: "stalled", allConfirmed: false, reset: false)])
        XCTAssertEqual(machine.handle(.cancel), [], "nothing after the end")
    }

    func testAPeerThatSpeaksSomethingElseIsCaughtAtItsFirstByte() {
        var machine = Machine(files: ["f"], settings: settings)
        _ = machine.handle(.connected(peer: "p"))
        _ = machine.handle(.fileOpened(name: "f", size: 1))
        XCTAssertEqual(machine.handle(lines("RE")), [], "could still be READY")
        XCTAssertEqual(machine.handle(lines("X")), [.finish(
            failure: "unexpected reply from the server: 'REX'; is it a netconsole file server (try --raw)?",
            allConfirmed: false, reset: false)])

        machine = Machine(files: ["f"], settings: settings)
        _ = machine.handle(.connected(peer: "p"))
        _ = machine.handle(.fileOpened(name: "f", size: 1))
        XCTAssertEqual(machine.handle(lines("OK f\n")), [.finish(
            failure: "unexpected reply from the server: 'OK f'; is it a netconsole file server (try --raw)?",
            allConfirmed: false, reset: false)], "OK before the payload is out of order")
    }

    func testAnErrorWhileStreamingStopsTheFile() {
        var machine = Machine(files: ["f"], settings: settings)
        _ = machine.handle(.connected(peer: "p"))
        _ = machine.handle(.fileOpened(name: "f", size: 10))
        _ = machine.handle(lines("READY\n"))
        XCTAssertEqual(machine.handle(lines("ERR 408 too slow\n")), [
            .refused(index: 0, reason: "408 too slow"), .finish(failure: "the server stopped f part way", allConfirmed: false, reset: false)])
    }

    func testALostConnectionPrefersTheServersLastWord() {
        var machine = Machine(files: ["f"], settings: settings)
        _ = machine.handle(.connected(peer: "p"))
        _ = machine.handle(.fileOpened(name: "f", size: 10))
        _ = machine.handle(lines("READY\n"))
        XCTAssertEqual(machine.handle(lines("ERR 507 disk")), [], "no newline yet")
        XCTAssertEqual(machine.handle(.connectionLost("connection reset by peer")), [
            .refused(index: 0, reason: "507 disk"), .finish(failure: "the server closed the connection: 507 disk", allConfirmed: false, reset: false)])

        machine = Machine(files: ["f"], settings: settings)
        _ = machine.handle(.connected(peer: "p"))
        _ = machine.handle(.fileOpened(name: "f", size: 10))
        XCTAssertEqual(machine.handle(.peerClosed), [
            .finish(failure: "the server closed the connection while sending f", allConfirmed: false, reset: false)])
    }

    func testAFileThatChangedEndsTheSessionBeforeItsTrailer() {
        var machine = Machine(files: ["f", "g"], settings: settings)
        _ = machine.handle(.connected(peer: "p"))
        _ = machine.handle(.fileOpened(name: "f", size: 10))
        _ = machine.handle(lines("READY\n"))
        XCTAssertEqual(machine.handle(.payloadFailed(reason: "f changed")), [.finish(failure: "f changed", allConfirmed: false, reset: false)])
        XCTAssertTrue(machine.isFinished)
    }

    func testTheSecretGoesInEveryHeader() throws {
        let secret = try SharedSecret(Array("s3cret".utf8))
        var machine = Machine(files: ["f"], settings: Machine.Settings(secret: secret))
        _ = machine.handle(.connected(peer: "p"))
        XCTAssertEqual(machine.handle(.fileOpened(name: "f", size: 1)).first,
                       .send(FileTransferEncoder.header(name: "f", size: 1, secret: secret)))
    }
}
