/// An address that cannot be used: bad HOST:PORT syntax, or a host name that does not resolve.
public struct AddressError: NetError, Equatable {
    public let message: String

    public init(_ message: String) {
        self.message = message
    }
}
