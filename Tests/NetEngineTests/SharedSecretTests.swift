import Crypto
import Foundation
import NetEngine
import XCTest

/// The shared secret on its own: loading its file, comparing, and the version 2 header that carries it.
final class SharedSecretTests: XCTestCase {
    private func secretFile(_ contents: String) throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("netconsole-secret-\(UUID().uuidString)")
        try Data(contents.utf8).write(to: url)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url.path
    }

    func testTheFirstLineTrimmedIsTheSecret() throws {
        let table: [(String, String)] = [
            ("s3cret\n", "s3cret"),
            ("s3cret", "s3cret"),
            ("  s3cret \t\r\nsecond line\n", "s3cret"),
            ("pass phrase with spaces\n", "pass phrase with spaces"),
            ("ключ\n", "ключ"),
        ]
        for (contents, expected) in table {
            let secret = try SharedSecret.load(fromFile: try secretFile(contents))
            XCTAssertEqual(secret.bytes, Array(expected.utf8), contents)
        }
    }

    func testUnusableSecretFilesAreClearErrors() throws {
        let folder = FileManager.default.temporaryDirectory.path
        let table: [(String, String)] = [
            (try secretFile(""), "is empty: its first line must hold the secret"),
            (try secretFile(" \t \nsecret on the second line\n"), "is empty: its first line must hold the secret"),
            (try secretFile(String(repeating: "x", count: 256)), "the secret is 256 bytes, longer than the limit of 255"),
            ("/nonexistent/netconsole-secret", "cannot read the secret file /nonexistent/netconsole-secret: no such file"),
            (folder, "cannot read the secret file \(folder): it is a folder"),
        ]
        for (path, expected) in table {
            XCTAssertThrowsError(try SharedSecret.load(fromFile: path), path) { error in
                XCTAssertTrue("\(error)".contains(expected), "\(path): \(error)")
            }
        }
    }

    func testMatchingIsExact() throws {
        let secret = try SharedSecret(Array("correct horse".utf8))
        XCTAssertTrue(secret.matches(Array("correct horse".utf8)))
        for wrong in ["correct hors", "correct horse ", "Correct horse", "", "correct horsf"] {
            XCTAssertFalse(secret.matches(Array(wrong.utf8)), wrong)
        }
    }

    func testAVersion2HeaderCarriesTheSecretBeforeTheName() throws {
        let secret = try SharedSecret(Array("k3y".utf8))
        let header = FileTransferEncoder.header(name: "a.txt", size: 2, secret: secret)
        XCTAssertEqual(Array(header[0..<5]), Array("NCFT".utf8) + [2])
        XCTAssertEqual(Array(header[5..<7]), [0, 5], "name length")
        XCTAssertEqual(Array(header[7..<15]), [0, 0, 0, 0, 0, 0, 0, 2], "size")
        XCTAssertEqual(header[15], 3, "secret length")
        XCTAssertEqual(Array(header[16...]), Array("k3ya.txt".utf8))
        XCTAssertEqual(FileTransferEncoder.header(name: "a.txt", size: 2)[4], 1, "no secret: version 1 as before")

        let stream = header + Array("hi".utf8) + FileTransferEncoder.trailer(sha256: Array(SHA256.hash(data: Array("hi".utf8))))
        for chunk in [1, 2, 7, 16, Int.max] {
            var decoder = FileTransferDecoder()
            var headers: [FileHeader] = []
            var payload: [UInt8] = []
            var position = 0
            while position < stream.count {
                let end = min(stream.count, position + min(chunk, stream.count))
                try stream[position..<end].withUnsafeBytes { bytes in
                    var offset = 0
                    while let event = try decoder.next(bytes, offset: &offset) {
                        switch event {
                        case let .header(header): headers.append(header)
                        case let .data(slice): payload += Array(slice)
                        case .trailer: break
                        }
                    }
                }
                position = end
            }
            XCTAssertEqual(headers, [FileHeader(name: "a.txt", size: 2, secret: Array("k3y".utf8))], "chunks of \(chunk)")
            XCTAssertEqual(payload, Array("hi".utf8))
        }
    }

    func testAVersion2HeaderWithAnEmptySecretIsRefused() {
        var header = FileTransferProtocol.headerMagic + [2, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]
        header += Array("a".utf8)
        var decoder = FileTransferDecoder()
        XCTAssertThrowsError(try header.withUnsafeBytes { bytes in
            var offset = 0
            _ = try decoder.next(bytes, offset: &offset)
        }) { error in
            XCTAssertEqual((error as? FileTransferError)?.code, 400)
            XCTAssertTrue("\(error)".contains("needs a secret of 1 to 255 bytes"), "\(error)")
        }
    }
}
