#if canImport(Glibc)
import Glibc
#endif

/// A file named on the command line whose name is not UTF-8: the parsed argument holds U+FFFD where its bytes were,
/// so no `String` path reaches it. It is found again among the raw `argv` bytes and opened by them; the sender then
/// reads it through `/proc/self/fd/N`, and the header names it by its bytes decoded (U+FFFD for what is not UTF-8).
struct RawArgumentPath {
    let descriptor: Int32
    /// What to send through: a path of this process's own descriptor table.
    var path: String { "/proc/self/fd/\(descriptor)" }
    /// The last component, as the header carries it.
    let name: String

    /// The regular file `argument` names, when it is such a name; nil for every other argument (left as it is).
    static func open(_ argument: String) -> RawArgumentPath? {
        guard argument.unicodeScalars.contains("\u{FFFD}") else { return nil }
        var info = stat()
        if stat(argument, &info) == 0 { return nil }  // a real name with U+FFFD in it
        for index in 1..<Int(CommandLine.argc) {
            guard let pointer = CommandLine.unsafeArgv[index] else { continue }
            let raw = Array(UnsafeBufferPointer(start: UnsafeRawPointer(pointer).assumingMemoryBound(to: UInt8.self), count: strlen(pointer)))
            guard String(validating: raw, as: UTF8.self) == nil, String(decoding: raw, as: UTF8.self) == argument else { continue }
            let descriptor = Glibc.open(pointer, O_RDONLY | O_CLOEXEC)
            guard descriptor >= 0 else { return nil }
            guard fstat(descriptor, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
                close(descriptor)
                return nil
            }
            let last = raw.split(separator: UInt8(ascii: "/")).last.map(Array.init) ?? raw
            return RawArgumentPath(descriptor: descriptor, name: String(decoding: last, as: UTF8.self))
        }
        return nil
    }
}
