import Crypto
import Foundation
import NetEngine
import XCTest

/// The file server with a shared secret, over real sockets: the right secret is saved, a missing or wrong one is
/// refused before a byte is stored, and raw uploads are refused.
extension FileTransferServerTests {
    private func secretServer(in folder: URL, secret: String) throws -> ServerFixture {
        var options = FileServerOptions(directory: folder.path, fsync: false)
        options.secret = try SharedSecret(Array(secret.utf8))
        let store = UploadStore(options: options)
        let fixture = try ServerFixture(service: "files") { FramedOrRawUploadHandler(store: store) }
        addTeardownBlock { fixture.shutdown() }
        return fixture
    }

    /// Sends the header, then at once (without waiting for READY) the payload and trailer; returns the first answer.
    private func pushUpload(_ header: [UInt8], payload: [UInt8], to port: UInt16) throws -> String {
        let socket = try Socket.connect(host: "127.0.0.1", port: port)
        try? socket.sendAll(header + payload + FileTransferEncoder.trailer(sha256: Array(SHA256.hash(data: payload))))
        return try receiveLine(socket)
    }

    func testTheRightSecretIsSaved() throws {
        let folder = try makeFolder()
        let server = try secretServer(in: folder, secret: "open sesame")
        let source = try write(Array("payload".utf8), to: try makeFolder("src"), as: "note.txt")
        let client = try LoopThread()
        defer { client.shutdown() }
        let done = DispatchSemaphore(value: 0)
        var events: [FileSendEvent] = []
        let secret = try SharedSecret(Array("open sesame".utf8))
        try client.sync {
            let sender = FileSender(loop: client.loop, endpoint: server.endpoint, files: [source]) { event in
                events.append(event)
                if case .finished = event { done.signal() }
            }
            sender.secret = secret
            sender.start()
        }
        XCTAssertEqual(done.wait(timeout: .now() + 10), .success)
        XCTAssertEqual(try client.sync { self.confirmed(events) }, ["note.txt"])
        XCTAssertEqual(bytes(folder, "note.txt"), Array("payload".utf8))
    }

    func testAWrongOrMissingSecretIsRefusedBeforeAByteIsStored() throws {
        let folder = try makeFolder()
        let server = try secretServer(in: folder, secret: "open sesame")
        let payload = [UInt8](repeating: 0x41, count: 200_000)
        let wrong = try SharedSecret(Array("open sesame!".utf8))
        XCTAssertEqual(try pushUpload(FileTransferEncoder.header(name: "a.bin", size: Int64(payload.count), secret: wrong),
                                      payload: payload, to: server.port),
                       "ERR 401 wrong secret")
        XCTAssertEqual(try pushUpload(FileTransferEncoder.header(name: "b.bin", size: Int64(payload.count)), payload: payload, to: server.port),
                       "ERR 401 this server needs the shared secret: send with --secret-file FILE")
        XCTAssertTrue(server.recorder.wait { events in
            events.filter { if case .uploadRejected = $0 { return true } else { return false } }.count == 2
        })
        XCTAssertFalse(server.recorder.events.contains { if case .uploadStarted = $0 { return true } else { return false } },
                       "a refused header never starts an upload")
        XCTAssertEqual(entries(folder), [])
    }

    func testARawUploadIsRefusedByAServerWithASecret() throws {
        let folder = try makeFolder()
        let server = try secretServer(in: folder, secret: "open sesame")
        let socket = try server.connect()
        try socket.sendAll("just some bytes\n")
        socket.shutdown(.write)
        XCTAssertEqual(try receiveLine(socket),
                       "ERR 401 raw uploads are refused: this server needs the shared secret (netconsole send --secret-file FILE)")
        let empty = try server.connect()
        empty.shutdown(.write)
        XCTAssertTrue(try receiveLine(empty).hasPrefix("ERR 401 raw uploads are refused"), "not even an empty one")
        XCTAssertEqual(entries(folder), [])
    }
}
