import COpenSSL

/// How a client decides whether to trust the certificate a server showed: a pinned fingerprint wins; otherwise
/// the certificate must be signed by an authority it trusts (the system's, or `--ca-file`) for the name it
/// connected to; a self-signed one is trusted on first use like ssh does, remembered per HOST:PORT in
/// `knownServers`, and refused when it later changes.
public struct TLSServerTrust: Sendable {
    public var pinned: CertificateFingerprint?
    /// Where first-use fingerprints are remembered; nil refuses any certificate no authority signed.
    public var knownServers: KnownServers?
    /// The private authorities' file, if one was named (then no certificate is trusted on first use).
    public var caFile: String?
    /// Certificates trusted besides the rules above, wherever they are shown: the console's own servers' one.
    public var alsoTrusted: Set<CertificateFingerprint> = []

    public init(pinned: CertificateFingerprint? = nil, knownServers: KnownServers? = nil, caFile: String? = nil) {
        self.pinned = pinned
        self.knownServers = knownServers
        self.caFile = caFile
    }

    /// Why the certificate was trusted.
    public enum Decision: Equatable, Sendable {
        /// Signed by a trusted authority for the name connected to.
        case verified
        /// Its fingerprint is the one given with `--fingerprint`.
        case pinned
        /// Its fingerprint is the one remembered for this server in the file at `path`.
        case known(path: String)
        /// Self-signed and seen for the first time: its fingerprint was just remembered in the file at `path`.
        case firstUse(path: String)
    }

    /// Decides for the certificate of `server` (HOST:PORT as typed) with `fingerprint`, which OpenSSL's check gave
    /// `verifyResult` (an X509_V_* code); throws a one-line reason when it is not to be trusted.
    func decide(server: String, host: String, fingerprint: CertificateFingerprint, verifyResult: Int,
                expiry: () -> String) throws -> Decision {
        if let pinned {
            guard pinned == fingerprint else {
                throw TLSError("the certificate of \(server) is not the pinned one: --fingerprint \(pinned), the server showed \(fingerprint)")
            }
            return .pinned
        }
        if verifyResult == Int(X509_V_OK) { return .verified }
        if alsoTrusted.contains(fingerprint) { return .pinned }
        let unsigned = [X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT, X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN,
                        X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT,
                        X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE].map(Int.init).contains(verifyResult)
        if unsigned, caFile == nil, let knownServers {
            if let known = knownServers.entry(for: server) {
                guard known.fingerprint == fingerprint else {
                    throw TLSError("the certificate of \(server) has CHANGED since it was first trusted: known \(known.fingerprint), "
                                   + "now \(fingerprint); someone may be intercepting the connection. If the server really has a new "
                                   + "certificate, remove line \(known.line) (\(server)) from \(knownServers.path)")
                }
                return .known(path: knownServers.path)
            }
            do {
                try knownServers.remember(fingerprint, for: server)
            } catch let error as NetError {
                throw TLSError("cannot remember the certificate of \(server): \(error.message)")
            }
            return .firstUse(path: knownServers.path)
        }
        throw TLSError(Self.explain(verifyResult, server: server, host: host, caFile: caFile, expiry: expiry))
    }

    private static func explain(_ code: Int, server: String, host: String, caFile: String?, expiry: () -> String) -> String {
        switch Int32(code) {
        case X509_V_ERR_HOSTNAME_MISMATCH, X509_V_ERR_IP_ADDRESS_MISMATCH:
            return "the certificate of \(server) is not for \(host): it names another host"
        case X509_V_ERR_CERT_HAS_EXPIRED:
            return "the certificate of \(server) has expired (it was valid until \(expiry()))"
        case X509_V_ERR_CERT_NOT_YET_VALID:
            return "the certificate of \(server) is not valid yet (is this machine's clock right?)"
        case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT, X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN,
             X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT,
             X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
            let authority = caFile.map { "an authority in \($0)" } ?? "an authority this machine trusts"
            return "the certificate of \(server) is not signed by \(authority); pin it with --fingerprint if you know it"
        default:
            let reason = X509_verify_cert_error_string(code).map { String(cString: $0) } ?? "error \(code)"
            return "the certificate of \(server) is not trusted: \(reason)"
        }
    }
}
