#if canImport(Glibc)
import Glibc
#endif
import CLinux

/// The wall-clock time this process started, to within a clock tick: now, less the time since boot (CLOCK_BOOTTIME)
/// that has passed since the process's start in ticks after boot (field 22 of /proc/self/stat); the time of first
/// use where /proc cannot say.
enum ProcessStart {
    static let seconds: Double = fromProc() ?? now(CLOCK_REALTIME)

    private static func fromProc() -> Double? {
        guard let own = readSmallFile("/proc/self/stat"), let afterName = own.lastIndex(of: ")") else { return nil }
        // Fields after the command name (which may hold spaces) start at field 3; starttime is field 22.
        let fields = own[own.index(after: afterName)...].split(separator: " ")
        guard fields.count > 19, let ticks = Double(fields[19]) else { return nil }
        let perSecond = Double(sysconf(Int32(_SC_CLK_TCK)))
        guard perSecond > 0 else { return nil }
        return now(CLOCK_REALTIME) - (now(CLOCK_BOOTTIME) - ticks / perSecond)
    }

    private static func now(_ clock: clockid_t) -> Double {
        var time = timespec()
        clock_gettime(clock, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }

    private static func readSmallFile(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: 4096)
        let n = read(fd, &bytes, bytes.count)
        return n > 0 ? String(decoding: bytes[0..<n], as: UTF8.self) : nil
    }
}
