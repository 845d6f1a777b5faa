import Crypto

/// Status codes in `ERR` replies.
public enum FileTransferStatus {
    /// Malformed header or trailer, unsupported version.
    public static let badRequest = 400
    /// The server needs a shared secret and the upload carried none, or the wrong one.
    public static let unauthorized = 401
    /// A folder tree's path that is refused (`..`, absolute, too deep, a link or a file in the way); the connection
    /// stays usable.
    public static let forbidden = 403
    /// The stream ended (or was cut) before the declared size.
    public static let incomplete = 408
    /// The server's operator refused the upload, or did not answer in time (`--ask`).
    public static let refused = 403
    /// Declared size above the server's `--max-size`.
    public static let tooLarge = 413
    /// The bytes arrived but their SHA-256 is not the one in the trailer.
    public static let checksumMismatch = 422
    /// The server is at its connection limit (sent by `TCPServer` on accept).
    public static let busy = 503
    /// The server could not write or publish the file (disk full, permissions).
    public static let cannotWrite = 507
}
