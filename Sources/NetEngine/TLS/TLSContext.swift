#if canImport(Glibc)
import Glibc
#endif
import COpenSSL

/// OpenSSL's shared settings for many connections (an `SSL_CTX`): TLS 1.2 or newer, no renegotiation, no
/// compression. A server's holds its certificate and key; a client's, the authorities it trusts. OpenSSL makes
/// connections from one context safely on several threads, hence `@unchecked Sendable`.
public final class TLSContext: @unchecked Sendable {
    let context: OpaquePointer
    public let isServer: Bool
    /// The fingerprint of the server's certificate (nil for a client's context).
    public let certificateFingerprint: CertificateFingerprint?

    private init(server: Bool, fingerprint: CertificateFingerprint?, context: OpaquePointer) {
        isServer = server
        certificateFingerprint = fingerprint
        self.context = context
    }

    deinit { SSL_CTX_free(context) }

    /// A server's context with the certificate (chain) in `certificateFile` and its key in `keyFile`, both PEM.
    public static func server(certificateFile: String, keyFile: String) throws -> TLSContext {
        let context = try makeContext(server: true)
        guard SSL_CTX_use_certificate_chain_file(context, certificateFile) == 1 else {
            SSL_CTX_free(context)
            throw TLSError.openSSL("cannot use \(certificateFile) as a certificate")
        }
        guard SSL_CTX_use_PrivateKey_file(context, keyFile, SSL_FILETYPE_PEM) == 1 else {
            SSL_CTX_free(context)
            let reason = TLSError.takeOpenSSLReason()
            if reason == "key values mismatch" {
                throw TLSError("the key in \(keyFile) does not belong to the certificate in \(certificateFile)")
            }
            throw TLSError("cannot use \(keyFile) as a private key" + (reason.map { ": \($0)" } ?? ""))
        }
        guard SSL_CTX_check_private_key(context) == 1 else {
            SSL_CTX_free(context)
            throw TLSError("the key in \(keyFile) does not belong to the certificate in \(certificateFile)")
        }
        // No session tickets: nothing resumes sessions, and tickets are bytes the server would send unasked.
        SSL_CTX_set_num_tickets(context, 0)
        let fingerprint = SSL_CTX_get0_certificate(context).map { CertificateFingerprint(der: derBytes(of: $0)) }
        return TLSContext(server: true, fingerprint: fingerprint, context: context)
    }

    /// A client's context trusting the authorities in `caFile` (PEM), or the system's trust store without one.
    /// Certificates are checked after the handshake (`TLSServerTrust`), so that a self-signed one can be pinned.
    public static func client(caFile: String? = nil) throws -> TLSContext {
        let context = try makeContext(server: false)
        SSL_CTX_set_verify(context, SSL_VERIFY_NONE, nil)
        if let caFile {
            guard SSL_CTX_load_verify_locations(context, caFile, nil) == 1 else {
                SSL_CTX_free(context)
                throw TLSError.openSSL("cannot read certificate authorities from \(caFile)")
            }
        } else {
            _ = SSL_CTX_set_default_verify_paths(context)
        }
        return TLSContext(server: false, fingerprint: nil, context: context)
    }

    private static func makeContext(server: Bool) throws -> OpaquePointer {
        // OpenSSL writes the socket with write(2), not send(MSG_NOSIGNAL): a vanished peer would raise SIGPIPE and
        // end the process instead of failing one connection with EPIPE.
        ignoreBrokenPipeSignal()
        guard let context = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method()) else {
            throw TLSError.openSSL("cannot set up TLS")
        }
        _ = netconsole_ssl_ctx_set_min_tls12(context)
        netconsole_ssl_ctx_set_options(context)
        return context
    }

    /// The DER encoding of `certificate` (an `X509 *`).
    static func derBytes(of certificate: OpaquePointer) -> [UInt8] {
        let length = i2d_X509(certificate, nil)
        guard length > 0 else { return [] }
        var bytes = [UInt8](repeating: 0, count: Int(length))
        bytes.withUnsafeMutableBufferPointer { buffer in
            var cursor = buffer.baseAddress
            _ = i2d_X509(certificate, &cursor)
        }
        return bytes
    }
}
