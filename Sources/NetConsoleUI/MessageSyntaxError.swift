import NetEngine

/// Why a message cannot become bytes: one line that says where and what to type instead.
public struct MessageSyntaxError: NetError, Equatable {
    public let message: String

    public init(_ message: String) {
        self.message = message
    }
}
