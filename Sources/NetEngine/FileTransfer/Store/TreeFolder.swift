#if canImport(Glibc)
import Glibc
#endif

/// A folder inside the upload folder that a tree's files are published into: an open descriptor (so no path is
/// resolved again when the file is linked) and its path relative to the upload folder, as saved.
public final class TreeFolder: @unchecked Sendable {
    let descriptor: Int32
    /// The saved components, the top one with its keep-both suffix if it had one.
    public let components: [String]

    init(descriptor: Int32, components: [String]) {
        self.descriptor = descriptor
        self.components = components
    }

    deinit { close(descriptor) }

    public var relativePath: String { components.joined(separator: "/") }
}
