import ArgumentParser
import NetEngine

/// `--tls`, `--fingerprint`, `--ca-file` for the commands that connect (`echo`, `send`, `connect`).
struct ClientTLSOptions: ParsableArguments {
    @Flag(name: .long, help: "Speak TLS. The server's certificate must be signed by an authority this machine trusts, for the host name given; a self-signed one is trusted on first use (like ssh) and remembered in $XDG_STATE_HOME/netconsole/known_servers, and refused if it later changes.")
    var tls = false

    @Option(name: .long, help: ArgumentHelp("With --tls: trust only the certificate with this SHA-256 fingerprint (as `serve --tls` logs it).", valueName: "SHA256:hex"))
    var fingerprint: String?

    @Option(name: .long, help: ArgumentHelp("With --tls: trust the certificate authorities in this PEM file instead of the system's.", valueName: "file"))
    var caFile: String?

    func validate() throws {
        if (fingerprint != nil || caFile != nil) && !tls { throw ValidationError("--fingerprint and --ca-file need --tls") }
        if let fingerprint {
            do { _ = try CertificateFingerprint(parsing: fingerprint) } catch let error as NetError { throw ValidationError(error.message) }
        }
    }

    /// The client's TLS settings, or nil without --tls.
    func configuration() throws -> TLSClientConfiguration? {
        guard tls else { return nil }
        do {
            return try TLSClientConfiguration(caFile: caFile, pinned: try fingerprint.map { try CertificateFingerprint(parsing: $0) })
        } catch let error as NetError {
            throw failure(error.message)
        }
    }
}

/// The line a client prints once it trusts a server's certificate, when there is something to say.
func trustNote(_ transport: TLSTransport?, endpoint: Endpoint) -> String? {
    guard let transport, let decision = transport.trustDecision, let fingerprint = transport.peerFingerprint else { return nil }
    switch decision {
    case let .firstUse(path):
        return "first TLS connection to \(endpoint): trusting its certificate \(fingerprint) from now on (remembered in \(path))"
    case .verified, .pinned, .known:
        return nil
    }
}
