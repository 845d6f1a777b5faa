/// The relative path of a folder tree's entry, as the server accepts it: components split on `/` or `\` (by Unicode
/// scalars), none empty, `.` or `..`, no leading separator, at most `maxDepth` deep; each component reduced by the
/// file name rules (`SafeFileName`), so none is hidden, none holds a control character or a look-alike slash.
public struct TreePath: Equatable, Sendable {
    /// The components, each one safe to create with a `*at()` call relative to its parent folder.
    public let components: [String]

    /// Deepest path accepted (the top folder counts as one).
    public static let maxDepth = 32

    /// The path as sent reduced to safe components, or why it is refused.
    public static func parse(_ raw: String) -> Result<TreePath, FileTransferError> {
        let scalars = Array(raw.unicodeScalars)
        if scalars.first == "/" || scalars.first == "\\" {
            return .failure(refusal("\(shown(raw)) is an absolute path"))
        }
        let parts = scalars.split(omittingEmptySubsequences: false) { $0 == "/" || $0 == "\\" }
        if parts.isEmpty || parts.contains(where: \.isEmpty) {
            return .failure(refusal("\(shown(raw)) has an empty path component"))
        }
        if parts.count > maxDepth {
            return .failure(refusal("\(shown(raw)) is deeper than \(maxDepth) folders"))
        }
        var components: [String] = []
        for part in parts {
            if part.elementsEqual(["."]) || part.elementsEqual([".", "."]) {
                return .failure(refusal("\(shown(raw)) contains \(String(String.UnicodeScalarView(part)))"))
            }
            components.append(SafeFileName.sanitize(String(String.UnicodeScalarView(part))))
        }
        return .success(TreePath(components: components))
    }

    /// The folders above the entry (all components but the last).
    public var folders: [String] { Array(components.dropLast()) }
    public var last: String { components.last ?? SafeFileName.fallback }
    public var joined: String { components.joined(separator: "/") }

    private static func refusal(_ message: String) -> FileTransferError {
        FileTransferError(code: FileTransferStatus.forbidden, message: message)
    }

    private static func shown(_ raw: String) -> String {
        raw.sanitizedForDisplay
    }
}
