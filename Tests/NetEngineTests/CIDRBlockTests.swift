import NetEngine
import XCTest

/// The `--allow`/`--deny` matcher as a pure function: parsing, matching and the policy's order, table by table.
final class CIDRBlockTests: XCTestCase {
    func bytes(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> [UInt8] {
        guard let bytes = CIDRBlock.addressBytes(of: text) else {
            XCTFail("'\(text)' is not an address", file: file, line: line)
            return []
        }
        return bytes
    }

    func testBlocksParseToTheirCanonicalForm() throws {
        let table: [(String, String)] = [
            ("10.0.0.0/8", "10.0.0.0/8"),
            ("127.0.0.1", "127.0.0.1/32"),
            ("0.0.0.0/0", "0.0.0.0/0"),
            ("192.168.1.128/25", "192.168.1.128/25"),
            ("::1", "::1/128"),
            ("::1/128", "::1/128"),
            ("::/0", "::/0"),
            ("fd00::/8", "fd00::/8"),
            ("2001:DB8::/32", "2001:db8::/32"),
            ("::ffff:10.1.2.3", "10.1.2.3/32"),
            ("::ffff:10.0.0.0/104", "10.0.0.0/8"),
        ]
        for (text, expected) in table {
            XCTAssertEqual(try CIDRBlock(parsing: text).description, expected, text)
        }
    }

    func testBadBlocksSayWhatIsWrong() {
        let table: [(String, String)] = [
            ("", "expected an address or ADDRESS/PREFIX"),
            ("10.0.0.0/8/8", "expected an address or ADDRESS/PREFIX"),
            ("/8", "expected an address or ADDRESS/PREFIX"),
            ("10.0.0/8", "'10.0.0' is not an IPv4 or IPv6 address"),
            ("localhost", "'localhost' is not an IPv4 or IPv6 address"),
            ("256.0.0.0/8", "is not an IPv4 or IPv6 address"),
            ("10.0.0.0/33", "the prefix length must be a number from 0 to 32"),
            ("::/129", "the prefix length must be a number from 0 to 128"),
            ("10.0.0.0/", "the prefix length must be a number from 0 to 32"),
            ("10.0.0.0/-1", "the prefix length must be a number from 0 to 32"),
            ("10.0.0.0/+8", "the prefix length must be a number from 0 to 32"),
            ("10.0.0.0/ 8", "the prefix length must be a number from 0 to 32"),
            ("10.0.0.0/0008", "the prefix length must be a number from 0 to 32"),
            ("10.0.0.1/8", "host bits are set; the block is 10.0.0.0/8"),
            ("fd00::1/8", "host bits are set; the block is fd00::/8"),
        ]
        for (text, expected) in table {
            XCTAssertThrowsError(try CIDRBlock(parsing: text), text) { error in
                let message = "\(error)"
                XCTAssertTrue(message.hasPrefix("'\(text)' is not an address block: "), message)
                XCTAssertTrue(message.contains(expected), "\(text): \(message)")
            }
        }
    }

    func testMatching() throws {
        let table: [(block: String, address: String, inside: Bool)] = [
            ("10.0.0.0/8", "10.0.0.0", true),
            ("10.0.0.0/8", "10.255.255.255", true),
            ("10.0.0.0/8", "11.0.0.0", false),
            ("10.0.0.0/8", "9.255.255.255", false),
            ("192.168.1.128/25", "192.168.1.127", false),
            ("192.168.1.128/25", "192.168.1.128", true),
            ("192.168.1.128/25", "192.168.1.255", true),
            ("172.16.0.0/12", "172.31.255.1", true),
            ("172.16.0.0/12", "172.32.0.1", false),
            ("127.0.0.1", "127.0.0.1", true),
            ("127.0.0.1", "127.0.0.2", false),
            ("0.0.0.0/0", "203.0.113.9", true),
            ("0.0.0.0/0", "::1", false),
            ("::/0", "::1", true),
            ("::/0", "10.0.0.1", false),
            ("::1/128", "::1", true),
            ("::1/128", "::2", false),
            ("::1/128", "127.0.0.1", false),
            ("fe80::/10", "fe80::1", true),
            ("fe80::/10", "febf:ffff::1", true),
            ("fe80::/10", "fec0::1", false),
            // IPv4-mapped IPv6 peers are IPv4, whichever way the block was written.
            ("10.0.0.0/8", "::ffff:10.9.8.7", true),
            ("10.0.0.0/8", "::ffff:11.9.8.7", false),
            ("::ffff:10.0.0.0/104", "10.9.8.7", true),
            ("::ffff:10.0.0.0/104", "::ffff:10.9.8.7", true),
            ("127.0.0.0/8", "::ffff:127.0.0.2", true),
            ("::/0", "::ffff:127.0.0.1", false),
        ]
        for row in table {
            let block = try CIDRBlock(parsing: row.block)
            XCTAssertEqual(block.contains(bytes(row.address)), row.inside, "\(row.block) ∋ \(row.address)")
        }
    }

    func testTheHostOfASocketAddressIsMatchedNotItsPort() throws {
        let block = try CIDRBlock(parsing: "127.0.0.0/8")
        let v4 = try SocketAddress.resolve(host: "127.0.0.2", port: 8080)[0]
        let mapped = try SocketAddress.resolve(host: "::ffff:127.0.0.2", port: 8080)[0]
        let v6 = try SocketAddress.resolve(host: "::1", port: 8080)[0]
        XCTAssertEqual(v4.addressBytes, [127, 0, 0, 2])
        XCTAssertTrue(block.contains(v4))
        XCTAssertTrue(block.contains(mapped), "mapped: \(mapped)")
        XCTAssertFalse(block.contains(v6))
    }

    func testDenyWinsAndAnyAllowRefusesTheRest() throws {
        func policy(allow: [String] = [], deny: [String] = []) throws -> AccessPolicy {
            AccessPolicy(allow: try allow.map(CIDRBlock.init(parsing:)), deny: try deny.map(CIDRBlock.init(parsing:)))
        }
        let table: [(AccessPolicy, String, String?)] = [
            (try policy(), "203.0.113.9", nil),
            (try policy(), "::1", nil),
            (try policy(allow: ["10.0.0.0/8"]), "10.1.1.1", nil),
            (try policy(allow: ["10.0.0.0/8"]), "192.168.0.1", "not in any --allow block"),
            (try policy(allow: ["10.0.0.0/8"]), "::1", "not in any --allow block"),
            (try policy(allow: ["10.0.0.0/8"], deny: ["10.0.0.7"]), "10.0.0.7", "denied by --deny 10.0.0.7/32"),
            (try policy(allow: ["10.0.0.0/8"], deny: ["10.0.0.7"]), "10.0.0.8", nil),
            (try policy(allow: ["10.0.0.7"], deny: ["10.0.0.0/8"]), "10.0.0.7", "denied by --deny 10.0.0.0/8"),
            (try policy(deny: ["::1"]), "::1", "denied by --deny ::1/128"),
            (try policy(deny: ["::1"]), "127.0.0.1", nil),
            (try policy(deny: ["127.0.0.0/8"]), "::ffff:127.0.0.1", "denied by --deny 127.0.0.0/8"),
            (try policy(allow: ["::1", "127.0.0.1"]), "127.0.0.1", nil),
            (try policy(allow: ["::1", "127.0.0.1"]), "::1", nil),
            (try policy(allow: ["::1", "127.0.0.1"]), "127.0.0.2", "not in any --allow block"),
        ]
        for (policy, address, expected) in table {
            XCTAssertEqual(policy.refusal(for: bytes(address)), expected, "\(policy) and \(address)")
        }
    }
}
