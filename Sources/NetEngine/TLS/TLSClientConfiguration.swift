/// What a client needs to speak TLS: the context (trusted authorities) and how it decides to trust a server.
public struct TLSClientConfiguration: Sendable {
    public let context: TLSContext
    public var trust: TLSServerTrust

    public init(context: TLSContext, trust: TLSServerTrust) {
        self.context = context
        self.trust = trust
    }

    /// A client that trusts `caFile`'s authorities (or the system's), a `pinned` fingerprint, and otherwise the
    /// certificates remembered in `knownServers` on first use.
    public init(caFile: String? = nil, pinned: CertificateFingerprint? = nil, knownServers: KnownServers? = KnownServers.inStateFolder()) throws {
        context = try TLSContext.client(caFile: caFile)
        trust = TLSServerTrust(pinned: pinned, knownServers: knownServers, caFile: caFile)
    }

    /// A transport that will run the TLS handshake with `endpoint` over the connected `socket`.
    public func transport(over socket: Socket, to endpoint: Endpoint) throws -> TLSTransport {
        try TLSTransport(clientOver: socket, configuration: self, endpoint: endpoint)
    }
}
