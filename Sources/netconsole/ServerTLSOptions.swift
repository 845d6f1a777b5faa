import ArgumentParser
import NetEngine

/// `--tls`, `--cert`, `--key` for the commands that serve (`serve`, `console`).
struct ServerTLSOptions: ParsableArguments {
    @Flag(name: .long, help: "Speak TLS (1.2 or newer) on every TCP service. Without --cert/--key a self-signed certificate is made on first use in $XDG_CONFIG_HOME/netconsole/ (~/.config/netconsole/); its SHA-256 fingerprint is logged for clients to pin.")
    var tls = false

    @Option(name: .long, help: ArgumentHelp("With --tls: the server's certificate (chain), PEM.", valueName: "file"))
    var cert: String?

    @Option(name: .long, help: ArgumentHelp("With --tls: the key of --cert, PEM.", valueName: "file"))
    var key: String?

    func validate() throws {
        if (cert != nil || key != nil) && !tls { throw ValidationError("--cert and --key need --tls") }
        if (cert == nil) != (key == nil) { throw ValidationError("--cert and --key go together") }
    }

    /// The server's TLS context, or nil without --tls; `note` hears where the certificate is and its fingerprint.
    func context(host: String, note: (String) -> Void) throws -> TLSContext? {
        guard tls else { return nil }
        let certificate: ServerCertificate
        if let cert, let key {
            certificate = ServerCertificate(certificateFile: cert, keyFile: key)
        } else {
            guard let folder = ServerCertificate.configFolder() else {
                throw failure("--tls without --cert/--key keeps its certificate in $XDG_CONFIG_HOME or $HOME, and neither is set")
            }
            do { certificate = try ServerCertificate.selfSigned(in: folder, extraNames: [host]) } catch let error as NetError {
                throw failure("cannot make a TLS certificate in \(folder): \(error.message)")
            }
        }
        let context: TLSContext
        do { context = try TLSContext.server(certificateFile: certificate.certificateFile, keyFile: certificate.keyFile) } catch let error as NetError {
            throw failure(error.message)
        }
        // The fingerprint first: it is what a person compares, and a narrow pane cuts the end of the line.
        let origin = certificate.created ? "a self-signed certificate made now: \(certificate.certificateFile)"
            : "certificate \(certificate.certificateFile)"
        note("TLS fingerprint \(context.certificateFingerprint.map { "\($0)" } ?? "unknown") (\(origin))")
        return context
    }
}
