import NetEngine
import NetText
import XCTest

/// The transcript's plain-text format (docs/TRANSCRIPT.md) and the safe text view of peer bytes.
final class TranscriptFormatterTests: XCTestCase {
    func testATranscriptHasAHeaderAndEachChunkInOrderWithTimeDirectionOffsetAndHex() throws {
        let peer = try SocketAddress.resolve(host: "127.0.0.1", port: 40000)[0]
        let local = try SocketAddress.resolve(host: "127.0.0.1", port: 12345)[0]
        let snapshot = ConnectionSnapshot(
            id: 9, service: "echo", peer: peer, local: local, age: 3, takenAt: 0, bytesIn: 20, bytesOut: 2, pendingOutput: 0,
            isClosed: false, tcp: nil, isCapturing: true,
            received: [PayloadChunk(received: true, offset: 2, time: 1_764_082_862.5, bytes: Array("abcdefghijklmnopqr".utf8))],
            sent: [PayloadChunk(received: false, offset: 0, time: 1_764_082_863.000_001, bytes: [0x00, 0xFF])])
        let text = TranscriptFormatter.text(of: snapshot, savedAt: 1_764_082_864)
        XCTAssertEqual(text, """
        # netconsole transcript 1
        # connection 9 echo
        # peer 127.0.0.1:40000
        # local 127.0.0.1:12345
        # saved 2025-11-25T15:01:04.000000Z
        # bytes in 20 out 2
        # kept in 18 from offset 2 out 2 from offset 0

        2025-11-25T15:01:02.500000Z in  offset 2 length 18
          00000002  61 62 63 64 65 66 67 68  69 6a 6b 6c 6d 6e 6f 70  |abcdefghijklmnop|
          00000012  71 72                                             |qr|

        2025-11-25T15:01:03.000001Z out offset 0 length 2
          00000000  00 ff                                             |..|

        """)
    }

    func testTheTextViewEscapesWhatCouldDriveOrConfuseATerminal() {
        XCTAssertEqual(PayloadText.lines(Array("one\ntwo\r\n\tend".utf8)), ["one\\n", "two\\r\\n", "\\tend"])
        XCTAssertEqual(PayloadText.lines([0x1B, 0x5B, 0x32, 0x4A, 0x07, 0x7F]), ["\\x1b[2J\\x07\\x7f"])
        XCTAssertEqual(PayloadText.lines(Array("café 日本 🙂".utf8)), ["café 日本 🙂"], "printable UTF-8 as it is")
        XCTAssertEqual(PayloadText.lines(Array("e\u{301} a\u{200D}b \u{202E}x \u{FE0F}".utf8)),
                       ["e\\u{301} a\\u{200d}b \\u{202e}x \\u{fe0f}"], "marks, joiners, bidi and variation selectors escaped")
        XCTAssertEqual(PayloadText.lines([0xC0, 0x80, 0xED, 0xA0, 0x80, 0xE2, 0x82]), ["\\xc0\\x80\\xed\\xa0\\x80\\xe2\\x82"],
                       "overlong, surrogate and cut sequences byte by byte")
        XCTAssertEqual(PayloadText.lines(Array("\u{85}\u{9B}".utf8)), ["\\u{85}\\u{9b}"], "C1 controls (a CSI) escaped")
    }
}
