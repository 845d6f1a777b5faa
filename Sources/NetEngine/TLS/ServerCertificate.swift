#if canImport(Glibc)
import Glibc
#endif
import COpenSSL

/// A server's certificate and key files. Without ones of its own, a server uses a self-signed ECDSA P-256
/// certificate made on first use in `$XDG_CONFIG_HOME/netconsole/` (`~/.config/netconsole/`), its key readable by
/// the owner only; clients trust it by its fingerprint (pinned, or on first use).
public struct ServerCertificate: Sendable {
    public let certificateFile: String
    public let keyFile: String
    /// Whether this run made the pair (the first use of the folder).
    public let created: Bool

    public init(certificateFile: String, keyFile: String, created: Bool = false) {
        self.certificateFile = certificateFile
        self.keyFile = keyFile
        self.created = created
    }

    /// `$XDG_CONFIG_HOME/netconsole`, or `~/.config/netconsole`; nil when the environment names neither.
    public static func configFolder() -> String? {
        if let xdg = getenv("XDG_CONFIG_HOME").map({ String(cString: $0) }), xdg.hasPrefix("/") { return xdg + "/netconsole" }
        if let home = getenv("HOME").map({ String(cString: $0) }), home.hasPrefix("/") { return home + "/.config/netconsole" }
        return nil
    }

    /// The self-signed pair in `folder` (tls-cert.pem, tls-key.pem), made when missing, for localhost, 127.0.0.1,
    /// ::1, this machine's name and `extraNames` (host names or addresses).
    public static func selfSigned(in folder: String, extraNames: [String] = []) throws -> ServerCertificate {
        let certificateFile = folder + "/tls-cert.pem"
        let keyFile = folder + "/tls-key.pem"
        if access(certificateFile, R_OK) == 0 && access(keyFile, R_OK) == 0 {
            return ServerCertificate(certificateFile: certificateFile, keyFile: keyFile)
        }
        var names = ["localhost", "127.0.0.1", "::1"]
        if let host = machineName() { names.append(host) }
        for name in extraNames where !names.contains(name) && !["0.0.0.0", "::", ""].contains(name) { names.append(name) }
        let pair = try generate(commonName: machineName() ?? "localhost", names: names)
        try PrivateFolder.make(folder)
        try PrivateFolder.writeAtomically(pair.key, to: keyFile, mode: 0o600)
        try PrivateFolder.writeAtomically(pair.certificate, to: certificateFile, mode: 0o644)
        return ServerCertificate(certificateFile: certificateFile, keyFile: keyFile, created: true)
    }

    /// A self-signed certificate and its new P-256 key, both PEM, for `names` (DNS names or IP addresses), valid
    /// from `validFrom` seconds from now (negative: in the past) for `validFor` seconds.
    public static func generate(commonName: String, names: [String], validFrom: Int = -3600,
                                validFor: Int = 10 * 365 * 86400) throws -> (certificate: [UInt8], key: [UInt8]) {
        guard let key = netconsole_generate_p256() else { throw TLSError.openSSL("cannot make a P-256 key") }
        defer { EVP_PKEY_free(key) }
        guard let certificate = X509_new() else { throw TLSError.openSSL("cannot make a certificate") }
        defer { X509_free(certificate) }
        var ok = X509_set_version(certificate, 2) == 1
        ok = ok && ASN1_INTEGER_set_int64(X509_get_serialNumber(certificate), Int64.random(in: 1...Int64.max)) == 1
        ok = ok && X509_gmtime_adj(X509_getm_notBefore(certificate), validFrom) != nil
        ok = ok && X509_gmtime_adj(X509_getm_notAfter(certificate), validFrom + validFor) != nil
        ok = ok && X509_set_pubkey(certificate, key) == 1
        let subject = X509_get_subject_name(certificate)
        ok = ok && X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC, commonName, -1, -1, 0) == 1
        ok = ok && X509_set_issuer_name(certificate, subject) == 1
        let alternatives = names.map { (SocketAddress.isNumericHost($0) ? "IP:" : "DNS:") + $0 }.joined(separator: ",")
        for (nid, value) in [(NID_subject_alt_name, alternatives), (NID_basic_constraints, "critical,CA:FALSE"),
                             (NID_key_usage, "critical,digitalSignature"), (NID_ext_key_usage, "serverAuth"),
                             (NID_subject_key_identifier, "hash"), (NID_authority_key_identifier, "keyid:always")] {
            ok = ok && netconsole_add_extension(certificate, nid, value) == 1
        }
        ok = ok && X509_sign(certificate, key, EVP_sha256()) > 0
        guard ok else { throw TLSError.openSSL("cannot make a self-signed certificate") }
        let certificatePEM = try pem { PEM_write_bio_X509($0, certificate) }
        let keyPEM = try pem { PEM_write_bio_PrivateKey($0, key, nil, nil, 0, nil, nil) }
        return (certificatePEM, keyPEM)
    }

    /// What `write` puts into a memory BIO.
    private static func pem(_ write: (OpaquePointer) -> Int32) throws -> [UInt8] {
        guard let bio = BIO_new(BIO_s_mem()) else { throw TLSError.openSSL("cannot encode PEM") }
        defer { BIO_free(bio) }
        guard write(bio) == 1 else { throw TLSError.openSSL("cannot encode PEM") }
        var data: UnsafeMutablePointer<CChar>?
        let length = netconsole_bio_get_mem_data(bio, &data)
        guard let data, length > 0 else { throw TLSError("cannot encode PEM") }
        return Array(UnsafeRawBufferPointer(start: data, count: Int(length)))
    }

    /// This machine's host name, when it is a plain DNS name (letters, digits, '-' and '.').
    private static func machineName() -> String? {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return nil }
        let name = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let allowed = name.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "-" || $0 == ".") }
        return !name.isEmpty && allowed ? name : nil
    }
}
