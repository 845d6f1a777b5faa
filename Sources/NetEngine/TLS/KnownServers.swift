#if canImport(Glibc)
import Glibc
#endif

/// The servers' certificates a client has trusted on first use, like ssh's known_hosts: one line per server,
/// "HOST:PORT SHA256:...", in `$XDG_STATE_HOME/netconsole/known_servers` (`~/.local/state/...`), owner-only.
public struct KnownServers: Sendable {
    public let path: String

    public init(path: String) {
        self.path = path
    }

    /// The file in the state folder the environment names, or nil when it names none.
    public static func inStateFolder() -> KnownServers? {
        if let xdg = getenv("XDG_STATE_HOME").map({ String(cString: $0) }), xdg.hasPrefix("/") {
            return KnownServers(path: xdg + "/netconsole/known_servers")
        }
        if let home = getenv("HOME").map({ String(cString: $0) }), home.hasPrefix("/") {
            return KnownServers(path: home + "/.local/state/netconsole/known_servers")
        }
        return nil
    }

    /// The fingerprint remembered for `server` ("HOST:PORT") and its line number, or nil when there is none.
    public func entry(for server: String) -> (fingerprint: CertificateFingerprint, line: Int)? {
        for (index, line) in lines().enumerated() {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 2, fields[0] == server, let fingerprint = try? CertificateFingerprint(parsing: String(fields[1])) else {
                continue
            }
            return (fingerprint, index + 1)
        }
        return nil
    }

    /// Appends `server`'s fingerprint, creating the file (0600) and its folder (0700) when missing.
    public func remember(_ fingerprint: CertificateFingerprint, for server: String) throws {
        try PrivateFolder.make(PrivateFolder.parent(of: path))
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw StorageError(errno: errno, operation: "open", subject: path) }
        defer { close(fd) }
        let line = Array("\(server) \(fingerprint)\n".utf8)
        let written = line.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == line.count else { throw StorageError(errno: errno, operation: "write", subject: path) }
    }

    private func lines() -> [Substring] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return [] }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16384)
        // A known_servers file is small; one larger than 4 MiB is not read past that.
        while bytes.count < 4 << 20 {
            let n = read(fd, &buffer, buffer.count)
            if n <= 0 { break }
            bytes.append(contentsOf: buffer[0..<n])
        }
        return String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
    }
}
