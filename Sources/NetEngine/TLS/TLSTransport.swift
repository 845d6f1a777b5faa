#if canImport(Glibc)
import Glibc
#endif
import COpenSSL

/// TLS over a non-blocking `Socket`, with OpenSSL reading and writing the descriptor itself: the handshake is
/// stepped by the connection's loop (`advanceHandshake`), then `send` and `receive` carry the application's bytes
/// as a plain socket's would. Before the handshake it looks at the peer's first bytes, so that a peer that does
/// not speak TLS gets a plain reason instead of OpenSSL's. Use on one thread at a time.
public final class TLSTransport: Transport {
    public let socket: Socket
    public let isServer: Bool
    /// The peer's certificate fingerprint once the handshake is done (a client always has one; a server's peer
    /// has none).
    public private(set) var peerFingerprint: CertificateFingerprint?
    /// Why a client trusted the server's certificate, once the handshake is done.
    public private(set) var trustDecision: TLSServerTrust.Decision?
    public private(set) var isEstablished = false

    private var ssl: OpaquePointer?
    private let endpoint: Endpoint?
    private let trust: TLSServerTrust?
    /// Whether the peer's first bytes were looked at (the server's: before any; a client's: after its hello).
    private var firstBytesChecked = false
    private var helloSent = false
    private var closeNotifySent = false
    private var resetOnClose = false

    /// The server's side of a connection accepted on `socket`.
    public init(serverOver socket: Socket, context: TLSContext) throws {
        self.socket = socket
        isServer = true
        endpoint = nil
        trust = nil
        ssl = try Self.makeSSL(context, socket: socket)
        SSL_set_accept_state(ssl)
    }

    /// The client's side of a connection to `endpoint` on `socket`.
    init(clientOver socket: Socket, configuration: TLSClientConfiguration, endpoint: Endpoint) throws {
        self.socket = socket
        isServer = false
        self.endpoint = endpoint
        trust = configuration.trust
        let ssl = try Self.makeSSL(configuration.context, socket: socket)
        self.ssl = ssl
        if SocketAddress.isNumericHost(endpoint.host) {
            _ = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), endpoint.host)
        } else {
            _ = netconsole_ssl_set_sni(ssl, endpoint.host)
            _ = SSL_set1_host(ssl, endpoint.host)
        }
        SSL_set_connect_state(ssl)
    }

    deinit { release() }

    private static func makeSSL(_ context: TLSContext, socket: Socket) throws -> OpaquePointer {
        guard let ssl = SSL_new(context.context) else { throw TLSError.openSSL("cannot start TLS") }
        guard SSL_set_fd(ssl, socket.descriptor) == 1 else {
            SSL_free(ssl)
            throw TLSError.openSSL("cannot start TLS")
        }
        return ssl
    }

    public var descriptor: Int32 { socket.descriptor }

    /// The protocol version agreed on ("TLSv1.3"), once the handshake is done.
    public var protocolVersion: String? {
        guard isEstablished, let ssl, let name = SSL_get_version(ssl) else { return nil }
        return String(cString: name)
    }

    // MARK: Handshake

    public var needsHandshake: Bool { !isEstablished }

    public func advanceHandshake() throws -> HandshakeStep {
        guard let ssl else { throw TLSError("the connection is closed") }
        if isEstablished { return .done }
        if !firstBytesChecked && (isServer || helloSent) {
            guard let first = try peekFirstBytes() else { return .wantsRead }
            firstBytesChecked = true
            if isServer { try checkClientHello(first) } else { try checkServerReply(first) }
        }
        ERR_clear_error()
        let status = SSL_do_handshake(ssl)
        if status == 1 {
            isEstablished = true
            if !isServer { try checkServerCertificate() }
            return .done
        }
        let code = SSL_get_error(ssl, status)
        switch code {
        case SSL_ERROR_WANT_READ:
            helloSent = true
            return .wantsRead
        case SSL_ERROR_WANT_WRITE:
            return .wantsWrite
        case SSL_ERROR_SYSCALL where errno != 0 && ERR_peek_error() == 0:
            throw SocketError(errno: errno, operation: "TLS handshake")
        case SSL_ERROR_ZERO_RETURN:
            throw closedDuringHandshake
        case SSL_ERROR_SYSCALL where ERR_peek_error() == 0:
            throw closedDuringHandshake
        default:
            throw TLSError(handshakeFailure(TLSError.takeOpenSSLReason()))
        }
    }

    private var closedDuringHandshake: TLSError {
        TLSError("\(isServer ? "the client" : endpoint?.description ?? "the server") closed the connection during the TLS handshake")
    }

    /// Up to 16 bytes the peer sent, left in the socket for OpenSSL: nil when none is there yet, empty at its end.
    private func peekFirstBytes() throws -> [UInt8]? {
        var bytes = [UInt8](repeating: 0, count: 16)
        while true {
            let n = recv(socket.descriptor, &bytes, bytes.count, Int32(MSG_PEEK))
            if n >= 0 { return Array(bytes.prefix(n)) }
            switch errno {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK: return nil
            case let code: throw SocketError(errno: code, operation: "recv")
            }
        }
    }

    /// A TLS client starts with a handshake record (22); anything else is a plain client, said so with its bytes.
    private func checkClientHello(_ first: [UInt8]) throws {
        if first.isEmpty { throw TLSError("the client closed the connection before the TLS handshake") }
        guard first[0] == 0x16 else {
            throw TLSError("a plain-text client on a TLS port (it sent \"\(Self.shown(first))\"): it must connect with TLS")
        }
    }

    /// A TLS server answers with a handshake (22) or alert (21) record; a plain server with text, or with our own
    /// hello echoed back (a handshake record holding a ClientHello, type 1).
    private func checkServerReply(_ first: [UInt8]) throws {
        let server = endpoint?.description ?? "the server"
        if first.isEmpty {
            throw TLSError("\(server) closed the connection during the TLS handshake: the server does not speak TLS, or refused this client")
        }
        if first[0] == 0x16 && first.count >= 6 && first[5] == 0x01 {
            throw TLSError("the server does not speak TLS: \(server) echoed the TLS greeting back (a plain echo server?)")
        }
        guard (first[0] == 0x16 || first[0] == 0x15) && (first.count < 2 || first[1] == 0x03) else {
            throw TLSError("the server does not speak TLS: \(server) answered in plain text (\"\(Self.shown(first))\")")
        }
    }

    /// The server's event says "TLS handshake failed" itself; a client's one line must.
    private func handshakeFailure(_ reason: String?) -> String {
        let reason = reason ?? "the peer broke off"
        let peer = isServer ? "the client" : "the server"
        switch reason {
        case "unexpected eof while reading":
            return "\(peer) closed the connection during the TLS handshake"
        case "wrong version number", "packet length too long", "http request", "record layer failure", "unexpected message":
            // A client's peek can come too late: OpenSSL may read the reply in the same call that sent the hello.
            return isServer ? "the client does not speak TLS (\(reason))"
                : "the server does not speak TLS: \(endpoint?.description ?? "it") answered with something else (\(reason))"
        case "unsupported protocol", "tlsv1 alert protocol version":
            return "\(peer) offers no TLS version this side accepts (TLS 1.2 or newer): \(reason)"
        case "tlsv1 alert unknown ca", "sslv3 alert bad certificate", "sslv3 alert certificate unknown":
            return isServer ? "the client does not trust this server's certificate (\(reason))" : "TLS handshake failed: \(reason)"
        default:
            return isServer ? reason : "TLS handshake failed: \(reason)"
        }
    }

    private func checkServerCertificate() throws {
        guard let ssl, let endpoint, let trust else { return }
        guard let certificate = SSL_get1_peer_certificate(ssl) else {
            throw TLSError("\(endpoint) showed no certificate")
        }
        defer { X509_free(certificate) }
        let fingerprint = CertificateFingerprint(der: TLSContext.derBytes(of: certificate))
        peerFingerprint = fingerprint
        trustDecision = try trust.decide(server: endpoint.description, host: endpoint.host, fingerprint: fingerprint,
                                         verifyResult: Int(SSL_get_verify_result(ssl))) {
            Self.text(of: X509_get0_notAfter(certificate))
        }
    }

    /// An ASN.1 time as OpenSSL prints it ("Nov 25 14:00:00 2026 GMT").
    private static func text(of time: UnsafePointer<ASN1_TIME>?) -> String {
        guard let time, let bio = BIO_new(BIO_s_mem()) else { return "?" }
        defer { BIO_free(bio) }
        guard ASN1_TIME_print(bio, time) == 1 else { return "?" }
        var data: UnsafeMutablePointer<CChar>?
        let length = netconsole_bio_get_mem_data(bio, &data)
        guard let data, length > 0 else { return "?" }
        return String(decoding: UnsafeRawBufferPointer(start: data, count: Int(length)), as: UTF8.self)
    }

    /// Bytes a peer sent, for a one-line message: valid UTF-8 sanitized, else printable ASCII and \xNN.
    private static func shown(_ bytes: [UInt8]) -> String {
        bytes.map { byte in
            (0x20..<0x7F).contains(byte) && byte != 0x22 && byte != 0x5C ? String(UnicodeScalar(byte))
                : "\\x" + (byte < 0x10 ? "0" : "") + String(byte, radix: 16)
        }.joined()
    }

    // MARK: Data

    public var hasBufferedInput: Bool {
        guard let ssl else { return false }
        return SSL_pending(ssl) > 0
    }

    public func send(_ bytes: UnsafeRawBufferPointer) throws -> Int {
        guard let ssl else { throw SocketError(code: EBADF, message: "send failed: the connection is closed") }
        guard bytes.count > 0 else { return 0 }
        let n = SSL_write(ssl, bytes.baseAddress, Int32(clamping: bytes.count))
        if n > 0 { return Int(n) }
        switch SSL_get_error(ssl, n) {
        case SSL_ERROR_WANT_WRITE, SSL_ERROR_WANT_READ:
            return 0
        case SSL_ERROR_SYSCALL where errno != 0:
            throw SocketError(errno: errno, operation: "send")
        case SSL_ERROR_ZERO_RETURN, SSL_ERROR_SYSCALL:
            throw SocketError(errno: EPIPE, operation: "send")
        default:
            throw SocketError(code: EPROTO, message: "TLS error while sending: \(TLSError.takeOpenSSLReason() ?? "unknown")")
        }
    }

    /// Fills `buffer` with what OpenSSL has decrypted and can decrypt now, so that no record's rest is left behind
    /// unannounced unless the buffer is full (then `hasBufferedInput` says so).
    public func receive(into buffer: UnsafeMutableRawBufferPointer) throws -> Int? {
        guard let ssl else { throw SocketError(code: EBADF, message: "recv failed: the connection is closed") }
        var total = 0
        while total < buffer.count {
            let n = SSL_read(ssl, buffer.baseAddress! + total, Int32(clamping: buffer.count - total))
            if n > 0 {
                total += Int(n)
                if SSL_pending(ssl) == 0 { break }
                continue
            }
            switch SSL_get_error(ssl, n) {
            case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE:
                return total > 0 ? total : nil
            case SSL_ERROR_ZERO_RETURN:
                return total
            case SSL_ERROR_SYSCALL where errno != 0 && total == 0:
                throw SocketError(errno: errno, operation: "recv")
            case SSL_ERROR_SYSCALL:
                return total
            default:
                if total > 0 { return total }
                throw SocketError(code: EPROTO, message: "TLS error while receiving: \(TLSError.takeOpenSSLReason() ?? "unknown")")
            }
        }
        return total
    }

    public func setResetOnClose() throws {
        resetOnClose = true
        try socket.setResetOnClose()
    }

    /// Sends TLS's close_notify, then the TCP FIN; receiving goes on.
    public func shutdownWrite() {
        sendCloseNotify()
        socket.shutdown(.write)
    }

    public func close() {
        if !resetOnClose { sendCloseNotify() }
        release()
        socket.close()
    }

    private func sendCloseNotify() {
        guard let ssl, isEstablished, !closeNotifySent else { return }
        closeNotifySent = true
        ERR_clear_error()
        _ = SSL_shutdown(ssl)
        ERR_clear_error()
    }

    private func release() {
        guard let ssl else { return }
        self.ssl = nil
        SSL_free(ssl)
    }
}
