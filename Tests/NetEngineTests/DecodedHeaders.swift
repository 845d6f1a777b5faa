import NetEngine

/// The headers a `FileTransferDecoder` finds in `bytes` (payloads and trailers skipped), for protocol tests.
func decodedHeaders(_ bytes: [UInt8]) throws -> [FileHeader] {
    var decoder = FileTransferDecoder()
    var headers: [FileHeader] = []
    try bytes.withUnsafeBytes { input in
        var offset = 0
        while let event = try decoder.next(input, offset: &offset) {
            if case let .header(header) = event { headers.append(header) }
        }
    }
    return headers
}
