#if canImport(Glibc)
import Glibc
#endif

/// What says a file is still the one whose sending began: its size and its modification and change times.
struct FileIdentity {
    private var size: Int64 = 0
    private var modified = timespec()
    private var changed = timespec()

    init() {}

    init(_ info: stat) {
        size = Int64(info.st_size)
        modified = info.st_mtim
        changed = info.st_ctim
    }

    /// How the file open as `fd` differs from when it was recorded, or nil when it is the same; `sentSize` bytes were
    /// sent, and a byte beyond them means the file grew.
    func change(of fd: Int32, sentSize: Int64) -> String? {
        var now = stat()
        guard fstat(fd, &now) == 0 else { return "it can no longer be read" }
        if Int64(now.st_size) != size { return "its size went from \(size) to \(now.st_size) bytes" }
        var extra: UInt8 = 0
        if pread(fd, &extra, 1, off_t(sentSize)) == 1 { return "it grew past \(sentSize) bytes" }
        if now.st_mtim.tv_sec != modified.tv_sec || now.st_mtim.tv_nsec != modified.tv_nsec
            || now.st_ctim.tv_sec != changed.tv_sec || now.st_ctim.tv_nsec != changed.tv_nsec {
            return "it was modified"
        }
        return nil
    }
}
