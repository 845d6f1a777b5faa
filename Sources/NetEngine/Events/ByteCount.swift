/// Byte counts as people write them: "64K", "1.5 MiB", "1G".
package enum ByteCount {
    /// Parses "1048576", "64K", "64KiB", "10M", "1G" (binary multiples).
    package static func parse(_ text: String) -> Int64? {
        let trimmed = text.trimmingWhitespace().uppercased()
        let digits = trimmed.prefix { $0.isNumber || $0 == "." }
        guard let value = Double(digits), value >= 0 else { return nil }
        var unit = String(trimmed.dropFirst(digits.count)).trimmingWhitespace()
        if unit.hasSuffix("IB") { unit = String(unit.dropLast(2)) } else if unit.hasSuffix("B") { unit = String(unit.dropLast()) }
        let multiplier: Double
        switch unit {
        case "": multiplier = 1
        case "K": multiplier = 1024
        case "M": multiplier = 1024 * 1024
        case "G": multiplier = 1024 * 1024 * 1024
        case "T": multiplier = 1024 * 1024 * 1024 * 1024
        default: return nil
        }
        let result = value * multiplier
        guard result < Double(Int64.max) else { return nil }
        return Int64(result)
    }

    /// `count` in the largest binary unit it reaches: (1.5, "KiB") for 1536; bytes stay bytes.
    package static func scaled(_ count: Int64) -> (value: Double, unit: String) {
        let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"]
        var value = Double(count)
        var index = 0
        while value >= 1024 && index < units.count - 1 {
            value /= 1024
            index += 1
        }
        return (value, units[index])
    }

    /// "512 B", "1.5 KiB", "3.2 MiB", "1.0 GiB".
    package static func format(_ count: Int64) -> String {
        let (value, unit) = scaled(count)
        if unit == "B" { return "\(count) B" }
        let rounded = (value * 10).rounded() / 10
        return "\(rounded) \(unit)"
    }

    package static func format(_ count: Int) -> String { format(Int64(count)) }

    /// Two counts that are compared in one sentence: rounded as usual, or in exact bytes when rounding would make them
    /// look equal ("1.0 GiB, larger than ... 1.0 GiB").
    package static func formatApart(_ first: Int64, _ second: Int64) -> (String, String) {
        let rounded = (format(first), format(second))
        return rounded.0 == rounded.1 && first != second ? ("\(first) bytes", "\(second) bytes") : rounded
    }
}
