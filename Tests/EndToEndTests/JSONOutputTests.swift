import Foundation
import NetEngine
import XCTest

/// `serve --json` and `send --json`: one JSON object per line that a script can parse, whatever a peer sent.
final class JSONOutputTests: XCTestCase {
    private func objects(_ text: String) throws -> [[String: Any]] {
        try text.split(separator: "\n").map { line in
            try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], String(line))
        }
    }

    func testServeAndSendSpeakOneJSONObjectPerLine() throws {
        let folder = try makeTemporaryDirectory(self)
        let server = try RunningProcess(["serve", "--files", folder.path, "--port", "0", "--json", "--no-fsync"])
        defer { server.interrupt() }
        let first = server.waitForStdout { $0.contains("\n") }
        let listening = try XCTUnwrap(try objects(first).first)
        XCTAssertEqual(listening["event"] as? String, "listening")
        let port = try XCTUnwrap((listening["address"] as? String)?.split(separator: ":").last.flatMap { UInt16($0) })

        // A name full of control bytes: the JSON stays one valid line and the name survives escaped.
        let source = try makeTemporaryDirectory(self).appendingPathComponent("re\u{1B}[2Jport\"q.txt")
        try Data("payload".utf8).write(to: source)
        let sent = try runToCompletion(["send", "--json", source.path, "--to", "127.0.0.1:\(port)"])
        XCTAssertEqual(sent.status, 0, sent.stderr)
        let sendEvents = try objects(String(decoding: sent.stdout, as: UTF8.self))
        XCTAssertEqual(sendEvents.map { $0["event"] as? String }, ["connected", "file_started", "progress", "file_confirmed", "finished"])
        XCTAssertEqual(sendEvents.last?["all_confirmed"] as? String, "true")
        XCTAssertEqual(sendEvents[3]["sha256"] as? String, hexString(FileTransferEncoder.sha256(of: Array("payload".utf8))))

        XCTAssertTrue(server.waitForStdout { $0.contains("connection_closed") }.contains("connection_closed"))
        let serverEvents = try objects(server.stdout)
        let kinds = serverEvents.compactMap { $0["event"] as? String }
        XCTAssertEqual(Array(kinds.prefix(1)), ["listening"])
        XCTAssertTrue(kinds.contains("connection_opened") && kinds.contains("upload_started") && kinds.contains("file_saved"), "\(kinds)")
        let started = try XCTUnwrap(serverEvents.first { $0["event"] as? String == "upload_started" })
        XCTAssertEqual(started["name"] as? String, "re_[2Jport\"q.txt", "the reduced name, quote and all, parsed back")
        XCTAssertEqual(server.stderr, "", "nothing on stderr in JSON mode")
    }
}
