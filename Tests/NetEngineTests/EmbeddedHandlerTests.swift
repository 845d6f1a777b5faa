import Crypto
import Foundation
import NetEngine
import XCTest

/// The server handlers with no socket and no server: bytes in, bytes out, through `EmbeddedConnection`.
final class EmbeddedHandlerTests: XCTestCase {
    private func makeFolder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("netconsole-embedded-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    private func store(_ folder: URL, configure: (inout FileServerOptions) -> Void = { _ in }) -> UploadStore {
        var options = FileServerOptions(directory: folder.path, fsync: false)
        configure(&options)
        return UploadStore(options: options)
    }

    private func upload(_ name: String, _ payload: [UInt8], digest: [UInt8]? = nil) -> (header: [UInt8], rest: [UInt8]) {
        (FileTransferEncoder.header(name: name, size: Int64(payload.count)),
         payload + FileTransferEncoder.trailer(sha256: digest ?? FileTransferEncoder.sha256(of: payload)))
    }

    private func entries(_ folder: URL) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).sorted()
    }

    // MARK: Echo

    func testEchoWritesBackAndStopsReadingWhileThePeerDoesNot() throws {
        let embedded = try EmbeddedConnection(handler: EchoHandler())
        embedded.receive("hello")
        XCTAssertEqual(embedded.takeWrittenText(), "hello")

        embedded.setPeerReadCapacity(3)
        embedded.receive("abcdef")
        XCTAssertEqual(embedded.takeWrittenText(), "abc", "the peer took three bytes")
        XCTAssertEqual(embedded.connection.pendingOutputCount, 3)
        embedded.receive("ghi")
        XCTAssertEqual(embedded.connection.bytesIn, 11, "nothing more is read while output is pending")
        embedded.setPeerReadCapacity(Int.max)
        XCTAssertEqual(embedded.takeWrittenText(), "defghi", "flushed, then the waiting bytes are read and echoed")

        embedded.receiveEnd()
        XCTAssertTrue(embedded.isClosed)
        XCTAssertEqual(embedded.closeError, .some(nil), "an orderly close")
    }

    // MARK: Framed uploads

    func testAFramedUploadAndAPipelinedSecondOne() throws {
        let folder = try makeFolder()
        let embedded = try EmbeddedConnection(handler: FileUploadHandler(store: store(folder)))
        let first = upload("one.txt", Array("first".utf8))
        let second = upload("two.txt", Array("second".utf8))
        embedded.receive(first.header)
        XCTAssertEqual(embedded.takeWrittenText(), "READY\n")
        // The trailer and the next header in one read: the next file waits for the first one's answer.
        embedded.receive(first.rest + second.header)
        var written = ""
        XCTAssertTrue(embedded.runLoop { written += embedded.takeWrittenText(); return written.contains("READY") })
        XCTAssertEqual(written, "OK one.txt\nREADY\n")
        embedded.receive(second.rest)
        XCTAssertTrue(embedded.runLoop { written += embedded.takeWrittenText(); return written.hasSuffix("OK two.txt\n") })
        XCTAssertEqual(entries(folder), ["one.txt", "two.txt"])
        XCTAssertEqual(try String(contentsOf: folder.appendingPathComponent("two.txt"), encoding: .utf8), "second")
        XCTAssertTrue(embedded.events.contains { if case .fileSaved = $0 { return true } else { return false } })
    }

    func testAWrongChecksumIsRefusedAndTheConnectionGoesOn() throws {
        let folder = try makeFolder()
        let embedded = try EmbeddedConnection(handler: FileUploadHandler(store: store(folder)))
        let bad = upload("bad.bin", [1, 2, 3], digest: [UInt8](repeating: 0, count: 32))
        embedded.receive(bad.header)
        embedded.receive(bad.rest)
        var written = ""
        XCTAssertTrue(embedded.runLoop { written += embedded.takeWrittenText(); return written.contains("ERR") })
        XCTAssertTrue(written.hasPrefix("READY\nERR 422 checksum mismatch"), written)
        XCTAssertFalse(embedded.isClosed)
        XCTAssertEqual(entries(folder), [])
    }

    func testAHeaderThatNeverCompletesIsToldWhyAtItsDeadline() throws {
        let folder = try makeFolder()
        let embedded = try EmbeddedConnection(handler: FileUploadHandler(store: store(folder)), limits: ServerLimits(headerTimeout: 30))
        embedded.receive(Array(FileTransferEncoder.header(name: "slow", size: 1).prefix(5)))
        XCTAssertEqual(embedded.deadlineReason, "no complete file header within 30 s")
        embedded.passDeadline()
        XCTAssertEqual(embedded.takeWrittenText(), "ERR 408 no complete file header within 30 s\n")
        XCTAssertTrue(embedded.isClosed)
        XCTAssertEqual(embedded.closeError??.code, ETIMEDOUT)
    }

    /// One byte over a 1 GiB limit: rounded, both sizes would read "1.0 GiB".
    func testARefusalSaysExactBytesWhenRoundedSizesLookEqual() throws {
        let embedded = try EmbeddedConnection(handler: FileUploadHandler(store: store(try makeFolder()) { $0.maxSize = 1 << 30 }))
        embedded.receive(FileTransferEncoder.header(name: "big.iso", size: (1 << 30) + 1))
        XCTAssertEqual(embedded.takeWrittenText(),
                       "ERR 413 big.iso is 1073741825 bytes, larger than this server's limit of 1073741824 bytes\n")
        embedded.receive(FileTransferEncoder.header(name: "bigger.iso", size: 3 << 30))
        XCTAssertEqual(embedded.takeWrittenText(), "ERR 413 bigger.iso is 3.0 GiB, larger than this server's limit of 1.0 GiB\n")
        XCTAssertEqual(ByteCount.formatApart(2048, 1024).0, "2.0 KiB")
    }

    func testGarbageIsABadRequestAndTheEnd() throws {
        let embedded = try EmbeddedConnection(handler: FileUploadHandler(store: store(try makeFolder())))
        embedded.receive("GET / HTTP/1.1\r\n\r\n")
        XCTAssertTrue(embedded.takeWrittenText().hasPrefix("ERR 400 "))
        XCTAssertTrue(embedded.isClosed)
    }

    // MARK: Raw uploads

    func testARawUploadIsSavedAtTheEndOfTheStream() throws {
        let folder = try makeFolder()
        let embedded = try EmbeddedConnection(handler: RawUploadHandler(store: store(folder)), readBufferSize: 1024)
        let payload = randomBytes(count: 10_000, seed: 5)
        embedded.receive(payload)
        XCTAssertEqual(embedded.connection.bytesIn, 10_000, "read in 1 KiB blocks, all of it")
        embedded.receiveEnd()
        var written = ""
        XCTAssertTrue(embedded.runLoop { written += embedded.takeWrittenText(); return embedded.isClosed })
        XCTAssertTrue(written.hasPrefix("OK upload-"), written)
        let name = String(written.dropFirst(3).dropLast())
        XCTAssertEqual(try Data(contentsOf: folder.appendingPathComponent(name)), Data(payload))
    }

    func testAnEmptyRawConnectionLeavesNothing() throws {
        let folder = try makeFolder()
        let embedded = try EmbeddedConnection(handler: RawUploadHandler(store: store(folder)))
        embedded.receiveEnd()
        XCTAssertEqual(embedded.takeWrittenText(), "ERR 408 nothing received; an empty upload is not saved\n")
        XCTAssertTrue(embedded.isClosed)
        XCTAssertEqual(entries(folder), [])
    }

    // MARK: Framed or raw

    func testTheMagicSplitAcrossReadsIsStillFramed() throws {
        let folder = try makeFolder()
        let embedded = try EmbeddedConnection(handler: FramedOrRawUploadHandler(store: store(folder)))
        let file = upload("split.txt", Array("split".utf8))
        for byte in file.header { embedded.receive([byte]) }
        XCTAssertEqual(embedded.takeWrittenText(), "READY\n")
        embedded.receive(file.rest)
        var written = ""
        XCTAssertTrue(embedded.runLoop { written += embedded.takeWrittenText(); return written == "OK split.txt\n" }, written)
    }

    func testAnythingElseIsRawEvenTheStartOfTheMagic() throws {
        for payload in ["NC", "hello, plain bytes\n", "NCFX almost"] {
            let folder = try makeFolder()
            let embedded = try EmbeddedConnection(handler: FramedOrRawUploadHandler(store: store(folder)))
            for byte in Array(payload.utf8) { embedded.receive([byte]) }
            embedded.receiveEnd()
            var written = ""
            XCTAssertTrue(embedded.runLoop { written += embedded.takeWrittenText(); return embedded.isClosed }, payload)
            XCTAssertTrue(written.hasPrefix("OK upload-"), "\(payload): \(written)")
            let saved = entries(folder)
            XCTAssertEqual(saved.count, 1)
            XCTAssertEqual(try String(contentsOf: folder.appendingPathComponent(saved[0]), encoding: .utf8), payload)
        }
    }

    // MARK: A session with any peer

    func testASessionReportsWhatArrivesAndEndsWithAHalfClose() throws {
        var received: [UInt8] = []
        var peerFinished = false
        var closed: SocketError?? = nil
        let session = SessionHandler { event in
            switch event {
            case .opened: break
            case .received(let bytes): received += bytes
            case .peerFinished: peerFinished = true
            case .closed(let error): closed = .some(error)
            }
        }
        let embedded = try EmbeddedConnection(handler: session)
        session.send(Array("GET / HTTP/1.0\r\n\r\n".utf8))
        XCTAssertEqual(embedded.takeWrittenText(), "GET / HTTP/1.0\r\n\r\n")
        session.finishSending()
        XCTAssertTrue(embedded.connection.isWriteShutDown, "our FIN is out")
        embedded.receive("HTTP/1.0 200 OK\r\n")
        XCTAssertEqual(String(decoding: received, as: UTF8.self), "HTTP/1.0 200 OK\r\n", "answers still arrive after our FIN")
        XCTAssertTrue(closed == nil, "still open")
        embedded.receiveEnd()
        XCTAssertTrue(peerFinished)
        XCTAssertEqual(closed, .some(nil), "both sides done: an orderly end")
    }
}
