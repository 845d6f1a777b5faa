#if canImport(Glibc)
import Glibc
#endif

/// The addresses a host resolves to, tried one non-blocking connect at a time: each failure is remembered and the
/// next address tried; when none is left, the last failure is the one to report.
struct ConnectAttempts {
    let endpoint: Endpoint
    let addresses: [SocketAddress]
    private var nextIndex = 0
    /// The address of the connect in progress.
    private(set) var current: SocketAddress?
    private var lastFailure: String?

    private init(endpoint: Endpoint, addresses: [SocketAddress]) {
        self.endpoint = endpoint
        self.addresses = addresses
    }

    typealias Resolver = @Sendable (_ host: String, _ port: UInt16) throws -> [SocketAddress]

    /// Resolves `endpoint` without blocking `loop`: a numeric address at once, a name on a thread of its own
    /// (getaddrinfo can take seconds on a slow or unreachable DNS server, and the loop also runs the console and
    /// its servers). `completion` runs on the loop's thread, possibly before this returns.
    static func resolve(_ endpoint: Endpoint, on loop: EventLoop,
                        resolver: @escaping Resolver = { try SocketAddress.resolve(host: $0, port: $1) },
                        completion: @escaping (Result<ConnectAttempts, Error>) -> Void) {
        if SocketAddress.isNumericHost(endpoint.host) {
            return completion(Result { ConnectAttempts(endpoint: endpoint, addresses: try resolver(endpoint.host, endpoint.port)) })
        }
        WorkerPool.resolver.run({ Result { try resolver(endpoint.host, endpoint.port) } }, thenOn: loop) { result in
            completion(result.map { ConnectAttempts(endpoint: endpoint, addresses: $0) })
        }
    }

    /// Starts a connect to the next address that takes one and registers it with `loop` for writability (the sign
    /// that the connect has finished, one way or the other); nil when every address has failed.
    mutating func startNext(on loop: EventLoop, handler: EventHandler) -> Socket? {
        while nextIndex < addresses.count {
            let address = addresses[nextIndex]
            nextIndex += 1
            do {
                let socket = try Socket.startConnect(to: address)
                try loop.register(socket.descriptor, handler: handler, read: false, write: true)
                current = address
                return socket
            } catch {
                lastFailure = "\(error)"
            }
        }
        current = nil
        return nil
    }

    /// Completes the connect `startNext` began; throws why it failed (refused, unreachable, ...).
    func finish(_ socket: Socket) throws {
        guard let current else { throw AddressError("no connect in progress to \(endpoint)") }
        try socket.finishConnect(to: current)
    }

    /// Starts again from the first address, for a fresh connection to the same endpoint.
    mutating func rewind() {
        nextIndex = 0
        current = nil
        lastFailure = nil
    }

    /// Records why the connect in progress failed, for the report when no address is left.
    mutating func noteFailure(_ message: String) {
        lastFailure = message
    }

    var failure: String { lastFailure ?? "cannot connect to \(endpoint)" }
}
