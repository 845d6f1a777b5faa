#if canImport(Glibc)
import Glibc
#endif
import CLinux

/// The wall-clock second this process started: the boot time (`btime` in /proc/stat) plus the process's start in clock
/// ticks since boot (field 22 of /proc/self/stat); the time of first use where /proc cannot say.
enum ProcessStart {
    static let seconds: Int = fromProc() ?? {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return now.tv_sec
    }()

    private static func fromProc() -> Int? {
        guard let stat = readSmallFile("/proc/stat"), let own = readSmallFile("/proc/self/stat"),
              let bootLine = stat.split(separator: "\n").first(where: { $0.hasPrefix("btime ") }),
              let boot = Int(bootLine.dropFirst(6)),
              let afterName = own.lastIndex(of: ")") else { return nil }
        // Fields after the command name (which may hold spaces) start at field 3; starttime is field 22.
        let fields = own[own.index(after: afterName)...].split(separator: " ")
        guard fields.count > 19, let ticks = Int(fields[19]) else { return nil }
        let perSecond = sysconf(Int32(_SC_CLK_TCK))
        guard perSecond > 0 else { return nil }
        return boot + ticks / perSecond
    }

    private static func readSmallFile(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: 16 * 1024)
        let n = read(fd, &bytes, bytes.count)
        return n > 0 ? String(decoding: bytes[0..<n], as: UTF8.self) : nil
    }
}
