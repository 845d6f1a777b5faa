/// Bytes as `hexdump -C` shows them: offset, 16 bytes in hex (two groups of 8), and the printable ASCII beside them,
/// every other byte as a dot, so any payload can be read on a terminal.
public enum HexDump {
    /// `bytesPerLine` is 16 as `hexdump -C` has it (78 columns), or fewer for a narrow screen (see `bytesPerLine(fitting:)`).
    public static func lines<Bytes: Collection>(_ bytes: Bytes, startingAt offset: Int = 0, bytesPerLine: Int = 16) -> [String]
    where Bytes.Element == UInt8 {
        let perLine = max(1, bytesPerLine)
        let all = Array(bytes)
        var result: [String] = []
        var index = 0
        while index < all.count {
            let row = all[index..<min(index + perLine, all.count)]
            var hex = ""
            for (column, byte) in row.enumerated() {
                if column == 8 { hex += " " }
                hex += hexByte(byte) + " "
            }
            let padding = String(repeating: " ", count: perLine * 3 + (perLine > 8 ? 1 : 0) - hex.count)
            let ascii = String(decoding: row.map { (0x20..<0x7F).contains($0) ? $0 : UInt8(ascii: ".") }, as: UTF8.self)
            result.append("\(hexOffset(offset + index))  \(hex)\(padding) |\(ascii)|")
            index += perLine
        }
        return result
    }

    /// The most bytes per line (16, 8 or 4) whose lines fit in `width` columns.
    public static func bytesPerLine(fitting width: Int) -> Int {
        [16, 8, 4].first { lineWidth($0) <= width } ?? 4
    }

    /// How wide a line of `count` bytes is: the offset, the hex (a gap after the eighth byte) and the ASCII.
    static func lineWidth(_ count: Int) -> Int { 8 + 2 + count * 3 + (count > 8 ? 1 : 0) + 1 + count + 2 }

    private static let digits = Array("0123456789abcdef".utf8)

    private static func hexByte(_ byte: UInt8) -> String {
        String(decoding: [digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]], as: UTF8.self)
    }

    private static func hexOffset(_ offset: Int) -> String {
        let text = String(offset, radix: 16)
        return String(repeating: "0", count: max(0, 8 - text.count)) + text
    }
}
