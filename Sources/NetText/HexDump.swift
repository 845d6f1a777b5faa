/// Bytes as `hexdump -C` shows them: offset, 16 bytes in hex (two groups of 8), and the printable ASCII beside them,
/// every other byte as a dot, so any payload can be read on a terminal.
public enum HexDump {
    public static func lines<Bytes: Collection>(_ bytes: Bytes, startingAt offset: Int = 0) -> [String] where Bytes.Element == UInt8 {
        let all = Array(bytes)
        var result: [String] = []
        var index = 0
        while index < all.count {
            let row = all[index..<min(index + 16, all.count)]
            var hex = ""
            for (column, byte) in row.enumerated() {
                if column == 8 { hex += " " }
                hex += hexByte(byte) + " "
            }
            let padding = String(repeating: " ", count: 16 * 3 + 1 - hex.count)
            let ascii = String(decoding: row.map { (0x20..<0x7F).contains($0) ? $0 : UInt8(ascii: ".") }, as: UTF8.self)
            result.append("\(hexOffset(offset + index))  \(hex)\(padding) |\(ascii)|")
            index += 16
        }
        return result
    }

    private static let digits = Array("0123456789abcdef".utf8)

    private static func hexByte(_ byte: UInt8) -> String {
        String(decoding: [digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]], as: UTF8.self)
    }

    private static func hexOffset(_ offset: Int) -> String {
        let text = String(offset, radix: 16)
        return String(repeating: "0", count: max(0, 8 - text.count)) + text
    }
}
