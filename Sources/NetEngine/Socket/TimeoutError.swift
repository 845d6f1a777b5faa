/// Something did not happen in time (a reply, a readiness wait).
public struct TimeoutError: NetError, Equatable {
    public let message: String

    public init(_ message: String) {
        self.message = message
    }
}
