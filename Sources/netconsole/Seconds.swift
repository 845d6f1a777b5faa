import ArgumentParser

/// A duration given on the command line: finite, positive and at most a week, parsed once with a clear error, so
/// `inf`, `nan`, `1e20` or `-1` never reach a timer (an infinite or huge interval traps when converted to time).
struct Seconds: CustomStringConvertible, Sendable {
    let value: Double

    static let minimum = 0.001
    static let maximum = 7 * 24 * 3600.0

    init(_ value: Double) {
        self.value = value
    }

    /// Parses "30", "1.5", "500ms", "2m", "1h" (no suffix: seconds).
    static func parse(_ text: String) throws -> Seconds {
        let units: [(suffix: String, scale: Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)]
        var number = Substring(text)
        var scale = 1.0
        if let unit = units.first(where: { text.hasSuffix($0.suffix) && text.count > $0.suffix.count }) {
            number = number.dropLast(unit.suffix.count)
            scale = unit.scale
        }
        guard number.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }), let value = Double(number).map({ $0 * scale }),
              value.isFinite, value >= minimum, value <= maximum else {
            throw ValidationError("'\(text)' is not a duration: give seconds from \(minimum) to \(Int(maximum)) (a week), e.g. 30, 1.5, 500ms, 2m, 1h")
        }
        return Seconds(value)
    }

    var description: String {
        value == value.rounded() ? String(Int(value)) : String(value)
    }
}

/// A timeout that can also be switched off ("off").
struct OptionalSeconds: CustomStringConvertible, Sendable {
    let seconds: Seconds?

    static func parse(_ text: String) throws -> OptionalSeconds {
        if ["off", "none", "never"].contains(text.lowercased()) { return OptionalSeconds(seconds: nil) }
        return OptionalSeconds(seconds: try Seconds.parse(text))
    }

    var description: String { seconds?.description ?? "off" }
}
