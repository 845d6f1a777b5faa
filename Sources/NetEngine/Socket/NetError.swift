/// Every error netconsole shows a person: one line that says what went wrong and, where it can, what to do. The
/// command line catches this protocol in one place; the kinds below say where the failure came from.
public protocol NetError: Error, CustomStringConvertible, Sendable {
    var message: String { get }
}

extension NetError {
    public var description: String { message }
}
