#if canImport(Glibc)
import Glibc
#endif
import NetEngine

/// A file named on the command line whose name is not UTF-8: the parsed argument holds U+FFFD where its bytes were,
/// so no `String` path reaches it. It is found again among the raw `argv` bytes and opened by them (`RawNamedFile`).
enum RawArgumentPath {
    /// The regular file `argument` names, when it is such a name; nil for every other argument (left as it is).
    static func open(_ argument: String) -> RawNamedFile? {
        guard let raw = bytes(argument) else { return nil }
        guard let file = try? RawNamedFile.open(raw, shown: argument) else { return nil }
        var info = stat()
        guard fstat(file.descriptor, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
            file.close()
            return nil
        }
        return file
    }

    /// The raw `argv` bytes `argument` was decoded from, when they are not UTF-8 (and the decoded name names nothing).
    static func bytes(_ argument: String) -> [UInt8]? {
        guard argument.unicodeScalars.contains("\u{FFFD}") else { return nil }
        var info = stat()
        if stat(argument, &info) == 0 { return nil }  // a real name with U+FFFD in it
        for index in 1..<Int(CommandLine.argc) {
            guard let pointer = CommandLine.unsafeArgv[index] else { continue }
            let raw = Array(UnsafeBufferPointer(start: UnsafeRawPointer(pointer).assumingMemoryBound(to: UInt8.self), count: strlen(pointer)))
            if String(validating: raw, as: UTF8.self) == nil, String(decoding: raw, as: UTF8.self) == argument { return raw }
        }
        return nil
    }
}
