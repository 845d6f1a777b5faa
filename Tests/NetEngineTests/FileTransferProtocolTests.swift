import Crypto
import NetEngine
import XCTest

/// The framing codec on its own: no sockets, just bytes in and events out.
final class FileTransferProtocolTests: XCTestCase {
    /// What a decoder made of a stream, with payload bytes joined per file.
    struct Decoded: Equatable {
        var headers: [FileHeader] = []
        var payloads: [[UInt8]] = []
        var digests: [[UInt8]] = []
    }

    static func encode(_ files: [(name: String, payload: [UInt8])]) -> [UInt8] {
        var stream: [UInt8] = []
        for file in files {
            stream += FileTransferEncoder.header(name: file.name, size: Int64(file.payload.count))
            stream += file.payload
            stream += FileTransferEncoder.trailer(sha256: Array(SHA256.hash(data: file.payload)))
        }
        return stream
    }

    /// Feeds `stream` in chunks of the given sizes (cycled) and adds what the decoder yields to `result`.
    static func decode(_ stream: [UInt8], chunkSizes: [Int] = [Int.max], decoder: inout FileTransferDecoder,
                       into result: inout Decoded) throws {
        var position = 0
        var chunkIndex = 0
        while position < stream.count {
            let size = min(chunkSizes[chunkIndex % chunkSizes.count], stream.count - position)
            chunkIndex += 1
            try stream[position..<(position + size)].withUnsafeBytes { chunk in
                var offset = 0
                while let event = try decoder.next(chunk, offset: &offset) {
                    switch event {
                    case let .header(header):
                        result.headers.append(header)
                        result.payloads.append([])
                    case let .data(slice):
                        result.payloads[result.payloads.count - 1] += Array(slice)
                    case let .trailer(digest):
                        result.digests.append(digest)
                    }
                }
                XCTAssertEqual(offset, chunk.count, "the decoder must use every byte it is given")
            }
            position += size
        }
    }

    static func decode(_ stream: [UInt8], chunkSizes: [Int] = [Int.max], decoder: inout FileTransferDecoder) throws -> Decoded {
        var result = Decoded()
        try decode(stream, chunkSizes: chunkSizes, decoder: &decoder, into: &result)
        return result
    }

    static func decode(_ stream: [UInt8], chunkSizes: [Int] = [Int.max]) throws -> Decoded {
        var decoder = FileTransferDecoder()
        return try decode(stream, chunkSizes: chunkSizes, decoder: &decoder)
    }

    let sample: [(name: String, payload: [UInt8])] = [
        ("empty.txt", []),
        ("one.bin", [0x00]),
        ("héllo wörld ✓.txt", Array("ünïcødé text\nsecond line\n".utf8)),
        ("random.bin", randomBytes(count: 70_000, seed: 42)),
    ]

    private func expected(_ files: [(name: String, payload: [UInt8])]) -> Decoded {
        Decoded(headers: files.map { FileHeader(name: $0.name, size: Int64($0.payload.count)) },
                payloads: files.map(\.payload),
                digests: files.map { Array(SHA256.hash(data: $0.payload)) })
    }

    // MARK: Round trips

    func testSeveralFilesRoundTripWhateverTheChunking() throws {
        let stream = Self.encode(sample)
        let want = expected(sample)
        XCTAssertEqual(try Self.decode(stream), want)
        XCTAssertEqual(try Self.decode(stream, chunkSizes: [1]), want)
        XCTAssertEqual(try Self.decode(stream, chunkSizes: [7, 1, 3, 4096, 15, 36, 65536]), want)
    }

    func testHeaderLayoutIsTheDocumentedOne() {
        let header = FileTransferEncoder.header(name: "ab", size: 0x0102)
        XCTAssertEqual(header, Array("NCFT".utf8) + [1, 0, 2, 0, 0, 0, 0, 0, 0, 1, 2] + Array("ab".utf8))
        let trailer = FileTransferEncoder.trailer(sha256: [UInt8](repeating: 7, count: 32))
        XCTAssertEqual(trailer, Array("NCFE".utf8) + [UInt8](repeating: 7, count: 32))
    }

    func testEveryTruncationPointWaitsForMoreAndThenCompletes() throws {
        let files = [("a.txt", Array("hello".utf8)), ("b.txt", Array("world!".utf8))]
        let stream = Self.encode(files)
        let want = expected(files)
        for cut in 0...stream.count {
            var decoder = FileTransferDecoder()
            var decoded = Decoded()
            try Self.decode(Array(stream[..<cut]), decoder: &decoder, into: &decoded)
            if cut < stream.count {
                XCTAssertLessThan(decoded.digests.count, 2, "a truncated stream must not look complete (cut \(cut))")
            }
            try Self.decode(Array(stream[cut...]), decoder: &decoder, into: &decoded)
            XCTAssertEqual(decoded, want, "cut \(cut)")
            XCTAssertTrue(decoder.isBetweenFiles, "cut \(cut)")
        }
    }

    func testBetweenFilesOnlyAtFileBoundaries() throws {
        let stream = Self.encode([("a", Array("xyz".utf8))])
        for cut in 0...stream.count {
            var decoder = FileTransferDecoder()
            _ = try Self.decode(Array(stream[..<cut]), decoder: &decoder)
            XCTAssertEqual(decoder.isBetweenFiles, cut == 0 || cut == stream.count, "cut \(cut)")
        }
    }

    func testPayloadSlicesPointIntoTheInputAndAHugeDeclaredSizeIsNotAllocated() throws {
        // A header announcing Int64.max bytes decodes at once; what follows is handed out as views of the input.
        var decoder = FileTransferDecoder()
        let header = FileTransferEncoder.header(name: "huge", size: Int64.max)
        let data = [UInt8](repeating: 0xAB, count: 1 << 20)
        try header.withUnsafeBytes { bytes in
            var offset = 0
            guard case let .header(decoded)? = try decoder.next(bytes, offset: &offset) else { return XCTFail("no header") }
            XCTAssertEqual(decoded.size, Int64.max)
        }
        try data.withUnsafeBytes { bytes in
            var offset = 0
            guard case let .data(slice)? = try decoder.next(bytes, offset: &offset) else { return XCTFail("no data") }
            XCTAssertEqual(slice.baseAddress, bytes.baseAddress, "payload must not be copied")
            XCTAssertEqual(slice.count, bytes.count)
            XCTAssertNil(try decoder.next(bytes, offset: &offset))
        }
        XCTAssertEqual(decoder.remainingPayload, Int64.max - Int64(data.count))
    }

    func testSkippingARefusedFileExpectsTheNextHeader() throws {
        var decoder = FileTransferDecoder()
        let first = FileTransferEncoder.header(name: "big.iso", size: 1 << 40)
        let second = Self.encode([("small.txt", Array("ok".utf8))])
        try first.withUnsafeBytes { bytes in
            var offset = 0
            guard case .header? = try decoder.next(bytes, offset: &offset) else { return XCTFail("no header") }
        }
        decoder.skipCurrentFile()
        XCTAssertTrue(decoder.isBetweenFiles)
        let decoded = try Self.decode(second, decoder: &decoder)
        XCTAssertEqual(decoded.headers, [FileHeader(name: "small.txt", size: 2)])
        XCTAssertEqual(decoded.payloads, [Array("ok".utf8)])
    }

    // MARK: Bad input

    private func decodingError(_ bytes: [UInt8]) -> FileTransferError? {
        do {
            _ = try Self.decode(bytes)
            return nil
        } catch let error as FileTransferError {
            return error
        } catch {
            XCTFail("unexpected error type \(error)")
            return nil
        }
    }

    func testGarbageIsRefusedAtItsFirstWrongByte() throws {
        var decoder = FileTransferDecoder()
        let http = Array("GET / HTTP/1.1\r\n\r\n".utf8)
        try http.withUnsafeBytes { bytes in
            var offset = 0
            XCTAssertThrowsError(try decoder.next(bytes, offset: &offset)) { error in
                XCTAssertEqual((error as? FileTransferError)?.code, 400)
                XCTAssertTrue("\(error)".contains("--raw"), "\(error)")
            }
            XCTAssertEqual(offset, 1, "refused at the first byte, not after reading more")
            // A failed stream stays failed.
            XCTAssertThrowsError(try decoder.next(bytes, offset: &offset))
        }
        XCTAssertEqual(decodingError(Array("NCFX".utf8))?.code, 400)
    }

    func testUnsupportedVersionIsRefused() {
        var header = FileTransferEncoder.header(name: "a", size: 1)
        header[4] = 3
        let error = decodingError(header)
        XCTAssertEqual(error?.code, 400)
        XCTAssertTrue(error?.message.contains("version 3") ?? false, "\(String(describing: error))")
    }

    func testAbsurdLengthsAreRefused() {
        var longName = FileTransferEncoder.header(name: "", size: 0)
        longName[5] = 0xFF
        longName[6] = 0xFF
        XCTAssertEqual(decodingError(longName)?.code, 400, "a 65535-byte name is over the limit")

        var hugeSize = FileTransferEncoder.header(name: "a", size: 0)
        for index in 7..<15 { hugeSize[index] = 0xFF }
        XCTAssertEqual(decodingError(hugeSize)?.code, 400, "2^64-1 is not a file size")

        let limitName = String(repeating: "n", count: FileTransferProtocol.maxNameLength)
        XCTAssertNil(decodingError(FileTransferEncoder.header(name: limitName, size: 0)), "a name at the limit is fine")
        let overLimit = FileTransferEncoder.header(name: limitName + "é", size: 0)
        XCTAssertEqual(overLimit.count, FileTransferProtocol.fixedHeaderLength + FileTransferProtocol.maxNameLength,
                       "the encoder cuts names to the limit")
    }

    func testBytesBeyondTheDeclaredSizeBreakTheTrailer() {
        var stream = FileTransferEncoder.header(name: "a", size: 2) + [1, 2, 3]
        stream += FileTransferEncoder.trailer(sha256: [UInt8](repeating: 0, count: 32))
        XCTAssertEqual(decodingError(stream)?.code, 400)
    }

    func testInvalidUTF8NamesAreRepairedNotTrusted() throws {
        var stream = Array("NCFT".utf8) + [1, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0] + [0x61, 0xFF, 0x62]
        stream += FileTransferEncoder.trailer(sha256: Array(SHA256.hash(data: [UInt8]())))
        let decoded = try Self.decode(stream)
        XCTAssertEqual(decoded.headers.first?.name, "a\u{FFFD}b")
    }

    func testRandomGarbageNeverCrashesTheDecoder() {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> UInt64 {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return state
        }
        let valid = Self.encode(sample.prefix(3).map { $0 })
        var refused = 0
        var accepted = 0
        for round in 0..<3000 {
            var bytes: [UInt8]
            switch round % 3 {
            case 0:
                // Pure noise, sometimes behind a real magic so the later checks get exercised.
                bytes = (0..<Int(next() % 300)).map { _ in UInt8(truncatingIfNeeded: next()) }
                if round % 2 == 0 { bytes = Array("NCFT".utf8) + [1] + bytes }
            case 1:
                // A valid stream with a few bytes flipped.
                bytes = valid
                for _ in 0..<(1 + Int(next() % 4)) {
                    bytes[Int(next() % UInt64(bytes.count))] ^= UInt8(truncatingIfNeeded: next() | 1)
                }
            default:
                // A valid stream cut at a random point.
                bytes = Array(valid[..<Int(next() % UInt64(valid.count))])
            }
            let chunks = [1 + Int(next() % 64), 1 + Int(next() % 512)]
            do {
                let decoded = try Self.decode(bytes, chunkSizes: chunks)
                XCTAssertLessThanOrEqual(decoded.digests.count, decoded.headers.count)
                for (index, payload) in decoded.payloads.enumerated() {
                    XCTAssertLessThanOrEqual(Int64(payload.count), decoded.headers[index].size)
                }
                accepted += 1
            } catch is FileTransferError {
                refused += 1
            } catch {
                XCTFail("round \(round): unexpected error \(error)")
            }
        }
        XCTAssertGreaterThan(refused, 500, "most garbage must be refused")
        XCTAssertGreaterThan(accepted, 500, "truncated valid streams are just incomplete")
    }

    // MARK: Replies

    func testRepliesAreSingleLinesThatParseBack() {
        let replies: [FileTransferReply] = [.ready, .saved(name: "notes (1).txt"), .error(code: 413, message: "too big: 2.0 GiB")]
        for reply in replies {
            XCTAssertTrue(reply.line.hasSuffix("\n"))
            XCTAssertEqual(reply.line.filter { $0 == "\n" }.count, 1)
            XCTAssertEqual(FileTransferReply(line: reply.line), reply)
        }
        XCTAssertEqual(FileTransferReply.ready.line, "READY\n")
        XCTAssertEqual(FileTransferReply.error(code: 400, message: "bad\nheader\u{1B}[2J").line, "ERR 400 bad header [2J\n")
        XCTAssertEqual(FileTransferReply(line: "ERR 503 server busy\r\n"), .error(code: 503, message: "server busy"))
        XCTAssertNil(FileTransferReply(line: "HTTP/1.1 200 OK"))
        XCTAssertNil(FileTransferReply(line: "OK "))
        XCTAssertNil(FileTransferReply(line: "ERR x"))
    }
}
