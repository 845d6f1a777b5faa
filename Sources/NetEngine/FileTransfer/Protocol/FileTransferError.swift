import Crypto

/// A protocol violation, with the status code the server answers it with.
public struct FileTransferError: Error, Equatable, CustomStringConvertible, Sendable {
    public let code: Int
    public let message: String

    public init(code: Int, message: String) {
        self.code = code
        self.message = message
    }

    public static func badHeader(_ message: String) -> FileTransferError {
        FileTransferError(code: FileTransferStatus.badRequest, message: message)
    }

    public var description: String { "\(code) \(message)" }
}
