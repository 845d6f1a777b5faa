/// What a folder tree's sender says the whole tree holds, announced in the tree's top folder entry (docs/PROTOCOL.md).
/// Display-only: the server shows it and sizes, bounds or trusts nothing by it, since a sender may say anything.
public struct TreeTotal: Equatable, Sendable {
    public var files: Int64
    public var bytes: Int64

    public init(files: Int64, bytes: Int64) {
        self.files = files
        self.bytes = bytes
    }

    /// Files (8 bytes) then bytes (8 bytes), big-endian, in the identity field of the top folder's entry.
    public static let wireLength = 16

    /// The announcement on the wire; counts below zero go as zero.
    public var wire: [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(Self.wireLength)
        for value in [files, self.bytes] {
            let unsigned = UInt64(max(value, 0))
            for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: unsigned >> UInt64(shift))) }
        }
        return bytes
    }

    /// The announcement in `wire`, or nil when it is not one: not 16 bytes, or a count above 2^63 - 1 (no tree holds
    /// that much, so it is taken as no announcement rather than clamped into one).
    public init?<Bytes: Collection>(wire: Bytes) where Bytes.Element == UInt8 {
        guard wire.count == Self.wireLength else { return nil }
        var values: [UInt64] = [0, 0]
        for (index, byte) in wire.enumerated() { values[index / 8] = values[index / 8] << 8 | UInt64(byte) }
        guard values.allSatisfy({ $0 <= UInt64(Int64.max) }) else { return nil }
        self.init(files: Int64(values[0]), bytes: Int64(values[1]))
    }
}
