/// Who may talk to a server: `--allow` and `--deny` blocks. A peer in any deny block is refused, even when an allow
/// block holds it too; once there is any allow block, a peer in none of them is refused; with no blocks at all,
/// everyone is admitted. Checked at accept (TCP) and per datagram (UDP), before any handler sees a byte.
public struct AccessPolicy: Equatable, Sendable {
    public var allow: [CIDRBlock]
    public var deny: [CIDRBlock]

    public init(allow: [CIDRBlock] = [], deny: [CIDRBlock] = []) {
        self.allow = allow
        self.deny = deny
    }

    public var admitsEveryone: Bool { allow.isEmpty && deny.isEmpty }

    /// Why a peer at `address` (4 or 16 bytes) is refused, or nil when it may connect.
    public func refusal(for address: [UInt8]) -> String? {
        if let block = deny.first(where: { $0.contains(address) }) { return "denied by --deny \(block)" }
        if !allow.isEmpty && !allow.contains(where: { $0.contains(address) }) { return "not in any --allow block" }
        return nil
    }

    public func refusal(for address: SocketAddress) -> String? {
        admitsEveryone ? nil : refusal(for: address.addressBytes)
    }

    public func admits(_ address: SocketAddress) -> Bool {
        refusal(for: address) == nil
    }
}
