import Foundation
@testable import NetEngine
import XCTest

/// Names are attacker-chosen bytes: a separator followed by a combining mark, ZWJ or variation selector is one
/// `Character` but still a `/` to the kernel, so every rule must hold on scalars, for any name.
final class HostileNameTests: XCTestCase {
    /// A deterministic corpus of names built from the pieces that broke `Character`-based rules.
    static func corpus(count: Int, seed: UInt64) -> [String] {
        let pieces = ["/", "\\", ".", "..", " ", "\u{0}", "\u{301}", "\u{200D}", "\u{FE0F}", "\u{20E3}", "\u{202E}",
                      "\u{2066}", "\u{200F}", "\u{2215}", "\u{FF0F}", "\u{2044}", "a", "é", "e\u{301}", "👨‍👩‍👧",
                      "👍🏽", "🇺🇦", "\n", "\r", "\t", "\u{1B}[2J", "\u{7F}", "\u{85}", "\u{FFFD}", "\u{2028}",
                      "\u{3000}", "\u{A0}", "\u{200B}", "linkdir", "sub", "x.txt", ".bashrc", "\u{FEFF}", "\u{1160}"]
        var state = seed | 1
        func next() -> Int {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return Int(truncatingIfNeeded: state & 0x7FFF_FFFF)
        }
        var names: [String] = []
        for _ in 0..<count {
            var name = ""
            for _ in 0..<(1 + next() % 8) { name += pieces[next() % pieces.count] }
            names.append(name)
        }
        // Invalid UTF-8, decoded the way the protocol decoder does (each bad sequence becomes U+FFFD).
        for index in 0..<(count / 10) {
            let bytes: [UInt8] = [0x2F, 0xC3, 0x28, 0x2E, 0xFF, 0x2F, 0x2E, 0xE2, 0x80, UInt8(index & 0xFF), 0x61]
            names.append(String(decoding: bytes, as: UTF8.self))
        }
        return names
    }

    /// What every saved name must be, whatever was sent.
    static func assertSafe(_ safe: String, from name: String, file: StaticString = #filePath, line: UInt = #line) {
        let scalars = Array(safe.unicodeScalars)
        let shown = name.unicodeScalars.map { String($0.value, radix: 16) }.joined(separator: " ")
        XCTAssertFalse(scalars.isEmpty, "empty from \(shown)", file: file, line: line)
        XCTAssertFalse(safe.utf8.contains(0x2F), "'/' in '\(safe)' from \(shown)", file: file, line: line)
        XCTAssertFalse(safe.utf8.contains(0x5C), "'\\' in '\(safe)' from \(shown)", file: file, line: line)
        XCTAssertFalse(safe.utf8.contains(0), "NUL in '\(safe)' from \(shown)", file: file, line: line)
        XCTAssertNotEqual(scalars.first, ".", "hidden '\(safe)' from \(shown)", file: file, line: line)
        XCTAssertLessThanOrEqual(safe.utf8.count, SafeFileName.maxLength, file: file, line: line)
        XCTAssertFalse(scalars.contains { $0.value < 0x20 || $0.value == 0x7F || (0x80..<0xA0).contains($0.value) },
                       "control character in '\(safe)' from \(shown)", file: file, line: line)
        XCTAssertFalse(scalars.contains { [0x202E, 0x2066, 0x200F, 0x2215, 0xFF0F, 0x2044, 0xFEFF].contains($0.value) },
                       "direction mark or look-alike slash in '\(safe)' from \(shown)", file: file, line: line)
        if let first = scalars.first {
            XCTAssertFalse(first.properties.isWhitespace || first.properties.generalCategory == .nonspacingMark
                           || first.properties.isGraphemeExtend, "'\(safe)' starts with \(first.value) from \(shown)",
                           file: file, line: line)
        }
        if let last = scalars.last { XCTAssertFalse(last.properties.isWhitespace, "trailing space in '\(safe)'", file: file, line: line) }
    }

    func testASeparatorFollowedByAMarkIsStillASeparator() {
        XCTAssertEqual(SafeFileName.sanitize("linkdir/\u{301}x.txt"), "x.txt")
        XCTAssertEqual(SafeFileName.sanitize("sub/\u{301}x.txt"), "x.txt")
        XCTAssertEqual(SafeFileName.sanitize("sub/\u{200D}x.txt"), "x.txt")
        XCTAssertEqual(SafeFileName.sanitize("sub\\\u{FE0F}x.txt"), "x.txt")
        XCTAssertEqual(SafeFileName.sanitize("a/\u{301}"), "a", "a lone mark is no name: the folder part is kept")
        XCTAssertEqual(SafeFileName.sanitize("/\u{301}/\u{200D}"), SafeFileName.fallback)
    }

    func testHidingAndTrimmingWorkOnScalars() {
        XCTAssertEqual(SafeFileName.sanitize(".\u{301}bashrc"), "bashrc")
        XCTAssertEqual(SafeFileName.sanitize(".\u{200D}.\u{FE0F}profile"), "profile")
        XCTAssertEqual(SafeFileName.sanitize("notes.txt \u{301}"), "notes.txt")
        XCTAssertEqual(SafeFileName.sanitize("notes.txt\u{3000}\u{200D}\u{A0}"), "notes.txt")
        XCTAssertEqual(SafeFileName.sanitize("e\u{301}.txt"), "e\u{301}.txt", "a mark on a letter is kept")
        XCTAssertEqual(SafeFileName.sanitize("family 👨‍👩‍👧 🇺🇦.txt"), "family 👨‍👩‍👧 🇺🇦.txt")
        XCTAssertEqual(SafeFileName.sanitize("a\u{2215}b\u{FF0F}c.txt"), "a_b_c.txt", "look-alike slashes")
        XCTAssertEqual(SafeFileName.sanitize("x.txt\u{200D}\u{FE0F}"), "x.txt", "invisible scalars at the end")
        XCTAssertEqual(SafeFileName.sanitize("\u{2800}.profile"), "profile", "a blank look-alike before a dot")
        XCTAssertEqual(SafeFileName.sanitize("x.txt\u{3164}"), "x.txt")
        XCTAssertEqual(SafeFileName.sanitize("👍🏽"), "👍🏽", "a skin tone is a modifier, not a joiner: kept")
    }

    func testTheExtensionAndVariantsAreFoundOnScalars() {
        XCTAssertEqual(SafeFileName.variant(of: "x.\u{301}txt", number: 1), "x (1).\u{301}txt")
        XCTAssertEqual(SafeFileName.variant(of: "report.pdf", suffix: " (k3x9)"), "report (k3x9).pdf")
        let long = String(repeating: "👨‍👩‍👧", count: 40) + ".txt"
        let variant = SafeFileName.variant(of: SafeFileName.sanitize(long), number: 9999)
        XCTAssertLessThanOrEqual(variant.utf8.count, 255)
        XCTAssertTrue(variant.hasSuffix(" (9999).txt"), variant)
    }

    func testEveryNameOfARandomCorpusIsReducedToASafeBaseName() {
        for name in Self.corpus(count: 20_000, seed: 0x5EED) {
            let safe = SafeFileName.sanitize(name)
            Self.assertSafe(safe, from: name)
            Self.assertSafe(SafeFileName.variant(of: safe, number: 12), from: name)
        }
    }

    func testTheSenderTakesTheBaseNameAsTheKernelSeesIt() {
        XCTAssertEqual(FileSender.baseName("d/\u{301}x.txt"), "\u{301}x.txt")
        XCTAssertEqual(FileSender.baseName("/tmp/a/b.bin"), "b.bin")
        XCTAssertEqual(FileSender.baseName("plain"), "plain")
        XCTAssertEqual(FileSender.baseName("dir/"), "dir")
    }

    /// The store itself, on a real folder that holds a link to another folder and a subfolder: whatever the name,
    /// the file lands as a direct, visible child, and nothing appears through the link or in the subfolder.
    func testRandomNamesAlwaysLandAsDirectVisibleChildren() throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("netconsole-hostile-\(UUID().uuidString)")
        let folder = base.appendingPathComponent("received")
        let outside = base.appendingPathComponent("outside")
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("sub"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: outside, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: folder.appendingPathComponent("linkdir").path, withDestinationPath: outside.path)
        addTeardownBlock { try? FileManager.default.removeItem(at: base) }

        for kind in [UploadStore.TemporaryFiles.anonymous, .named] {
            let store = UploadStore(options: FileServerOptions(directory: folder.path, fsync: false), temporaryFiles: kind)
            for name in Self.corpus(count: 300, seed: kind == .anonymous ? 7 : 11) {
                let upload = try store.begin()
                try Array("x".utf8).withUnsafeBytes { try upload.write($0) }
                let saved = try upload.publish(as: SafeFileName.sanitize(name), expectedSHA256: nil)
                Self.assertSafe(saved.name, from: name)
                XCTAssertEqual(saved.path, folder.path + "/" + saved.name)
                var info = stat()
                XCTAssertEqual(lstat(saved.path, &info), 0, saved.path)
                XCTAssertEqual(info.st_mode & S_IFMT, S_IFREG, saved.path)
            }
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: outside.path), [], "nothing through the link")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.appendingPathComponent("sub").path), [])
        let hidden = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasPrefix(".") }
        XCTAssertEqual(hidden, [], "no hidden files and no temporary files left")
    }
}
