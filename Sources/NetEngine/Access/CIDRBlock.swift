#if canImport(Glibc)
import Glibc
#endif

/// An address block as written after `--allow` or `--deny`: "10.0.0.0/8", "fd00::/8", or one address ("127.0.0.1",
/// "::1", meaning /32 or /128). Pure: parsing and matching do no I/O.
///
/// IPv4-mapped IPv6 addresses (`::ffff:1.2.3.4`) are IPv4 here, in blocks and in peers alike: a dual-stack socket
/// reports an IPv4 client that way, and a rule about 1.2.3.4 must not be dodged by a different spelling.
public struct CIDRBlock: Hashable, CustomStringConvertible, Sendable {
    /// The network's bytes: 4 (IPv4) or 16 (IPv6), host bits zero.
    public let network: [UInt8]
    public let prefixLength: Int

    public init(parsing text: String) throws {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2, let addressText = parts.first, !addressText.isEmpty else {
            throw CIDRError(text: text, problem: "expected an address or ADDRESS/PREFIX, like 10.0.0.0/8 or ::1/128")
        }
        guard var bytes = Self.addressBytes(of: String(addressText)) else {
            throw CIDRError(text: text, problem: "'\(addressText)' is not an IPv4 or IPv6 address")
        }
        let bits = bytes.count * 8
        var prefix = bits
        if parts.count == 2 {
            let prefixText = parts[1]
            guard !prefixText.isEmpty, prefixText.count <= 3, prefixText.allSatisfy({ $0.isASCII && $0.isNumber }),
                  let value = Int(prefixText), value <= bits else {
                throw CIDRError(text: text, problem: "the prefix length must be a number from 0 to \(bits)")
            }
            prefix = value
        }
        if bytes.count == 16, Self.isIPv4Mapped(bytes), prefix >= 96 {
            bytes = Array(bytes[12...])
            prefix -= 96
        }
        let masked = Self.masked(bytes, prefixLength: prefix)
        if masked != bytes {
            let block = CIDRBlock(network: masked, prefixLength: prefix)
            throw CIDRError(text: text, problem: "host bits are set; the block is \(block)")
        }
        self.init(network: masked, prefixLength: prefix)
    }

    private init(network: [UInt8], prefixLength: Int) {
        self.network = network
        self.prefixLength = prefixLength
    }

    public var isIPv4: Bool { network.count == 4 }

    /// Whether `address` (4 or 16 bytes, as from `addressBytes(of:)`) lies in the block.
    public func contains(_ address: [UInt8]) -> Bool {
        var bytes = address
        if bytes.count == 16 && Self.isIPv4Mapped(bytes) { bytes = Array(bytes[12...]) }
        guard bytes.count == network.count else { return false }
        return Self.masked(bytes, prefixLength: prefixLength) == network
    }

    /// Whether the host of `address` lies in the block (its port does not matter).
    public func contains(_ address: SocketAddress) -> Bool {
        contains(address.addressBytes)
    }

    /// "10.0.0.0/8", "::1/128".
    public var description: String {
        "\(Self.format(network))/\(prefixLength)"
    }

    // MARK: Bytes

    /// The bytes of a numeric IPv4 (4) or IPv6 (16) address, or nil for anything else (names are not resolved).
    public static func addressBytes(of text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
        return nil
    }

    static func isIPv4Mapped(_ bytes: [UInt8]) -> Bool {
        bytes.count == 16 && bytes[0..<10].allSatisfy { $0 == 0 } && bytes[10] == 0xFF && bytes[11] == 0xFF
    }

    private static func masked(_ bytes: [UInt8], prefixLength: Int) -> [UInt8] {
        var result = bytes
        for index in result.indices {
            let kept = max(0, min(8, prefixLength - index * 8))
            result[index] &= kept == 0 ? 0 : UInt8(truncatingIfNeeded: 0xFF << (8 - kept))
        }
        return result
    }

    private static func format(_ bytes: [UInt8]) -> String {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        let family = bytes.count == 4 ? AF_INET : AF_INET6
        bytes.withUnsafeBytes { _ = inet_ntop(family, $0.baseAddress, &buffer, socklen_t(buffer.count)) }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// A CIDR block that does not parse, with what is wrong in words.
public struct CIDRError: Error, CustomStringConvertible, Equatable, Sendable {
    public let text: String
    public let problem: String

    public var description: String { "'\(text)' is not an address block: \(problem)" }
}

extension SocketAddress {
    /// Whether the host is in 127.0.0.0/8 or is ::1 (an IPv4-mapped 127.x counts): reachable from this machine only.
    public var isLoopback: Bool {
        var bytes = addressBytes
        if CIDRBlock.isIPv4Mapped(bytes) { bytes = Array(bytes[12...]) }
        return bytes.count == 4 ? bytes[0] == 127 : bytes == [UInt8](repeating: 0, count: 15) + [1]
    }

    /// The host's bytes: 4 for IPv4, 16 for IPv6.
    public var addressBytes: [UInt8] {
        var copy = storage
        return withUnsafePointer(to: &copy) { raw in
            if family == AF_INET6 {
                return raw.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { sin6 in
                    withUnsafeBytes(of: sin6.pointee.sin6_addr) { Array($0) }
                }
            }
            return raw.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { sin in
                withUnsafeBytes(of: sin.pointee.sin_addr) { Array($0) }
            }
        }
    }
}
