import Crypto

/// The SHA-256 of a certificate's DER bytes, written "SHA256:" and 64 lowercase hex digits. What `--fingerprint`
/// pins and `known_servers` remembers: it names one certificate whoever signed it.
public struct CertificateFingerprint: Equatable, Hashable, Sendable, CustomStringConvertible {
    public let digest: [UInt8]

    public init(der: [UInt8]) {
        digest = Array(SHA256.hash(data: der))
    }

    private init(digest: [UInt8]) {
        self.digest = digest
    }

    /// Parses "SHA256:" followed by 64 hex digits, colons allowed and any case (as `openssl x509 -fingerprint
    /// -sha256` prints them); the "SHA256:" prefix may be left out.
    public init(parsing text: String) throws {
        var rest = Substring(text)
        for prefix in ["SHA256:", "sha256:", "SHA256 Fingerprint=", "sha256 Fingerprint="] where rest.hasPrefix(prefix) {
            rest = rest.dropFirst(prefix.count)
            break
        }
        var nibbles: [UInt8] = []
        for scalar in rest.unicodeScalars where scalar != ":" {
            guard let value = hexDigitValue(scalar) else {
                throw TLSError("'\(text.sanitizedForDisplay)' is not a certificate fingerprint: expected SHA256: and 64 hex digits")
            }
            nibbles.append(value)
        }
        guard nibbles.count == 64 else {
            throw TLSError("'\(text.sanitizedForDisplay)' is not a certificate fingerprint: expected SHA256: and 64 hex digits, got \(nibbles.count)")
        }
        self.init(digest: stride(from: 0, to: 64, by: 2).map { nibbles[$0] << 4 | nibbles[$0 + 1] })
    }

    public var description: String { "SHA256:" + hexString(digest) }

}
