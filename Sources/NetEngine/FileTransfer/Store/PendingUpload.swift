#if canImport(Glibc)
import Glibc
#endif
import CLinux
import Crypto

/// One upload being written: a temporary file, hashed as it is written. It becomes a visible file only through
/// `publish`; every other ending (and deinit) removes it.
public final class PendingUpload {
    public private(set) var written: Int64 = 0
    /// The hidden name in the folder, or nil for an anonymous (`O_TMPFILE`) file, which has none.
    public let temporaryName: String?
    private var descriptor: Int32
    private var hasher = SHA256()
    private let store: UploadStore
    private var finished = false
    /// Bytes already handed to the disk's writeback (fsync mode only).
    private var writebackStartedUpTo: Int64 = 0
    /// Where the blocks preallocated by `reserve` end (0: none), and the declared size they lead to.
    private var reservedUpTo: Int64 = 0
    private var declaredSize: Int64 = 0

    /// Preallocation starts once this much has arrived (a header alone takes no disk), and never for less.
    public static let reserveThreshold: Int64 = 1 << 20
    /// The most preallocated ahead of the bytes that arrived; below it, as much again as arrived, so a peer holds at
    /// most twice the disk it has filled.
    public static let reserveAhead: Int64 = 64 << 20

    /// With fsync on, writeback of every this many new bytes is started while the upload goes on, so the disk
    /// writes during the transfer instead of all at the final fsync (which then only waits for the tail).
    static let writebackChunk: Int64 = 4 << 20

    /// A kept partial upload (in `PartialUploads`' folder): published from its descriptor, removed with its record.
    private let partial: PartialUploads.Kept?

    init(descriptor: Int32, temporaryName: String?, store: UploadStore) {
        self.descriptor = descriptor
        self.temporaryName = temporaryName
        self.store = store
        partial = nil
    }

    /// The kept part of an upload, `written` bytes long already, with `hasher` over those bytes.
    init(partialDescriptor descriptor: Int32, kept: PartialUploads.Kept, written: Int64, hasher: SHA256, store: UploadStore) {
        self.descriptor = descriptor
        temporaryName = nil
        self.store = store
        partial = kept
        self.written = written
        self.hasher = hasher
        writebackStartedUpTo = written
    }

    /// Whether it is a kept part (resumable), which `keep()` leaves in place.
    public var isPartial: Bool { partial != nil }

    deinit { discard() }

    /// Preallocates the blocks of a declared `size` ahead of the bytes as they arrive (the file's size stays what was
    /// written): as much again as has arrived, at most `reserveAhead`, from `reserveThreshold` on. The disk space is
    /// taken in large steps instead of block by block, which costs the writes less, and an upload keeps the room just
    /// ahead of it; a peer that only sends headers, or trickles, holds no more than it filled. Best effort.
    public func reserve(upTo size: Int64) {
        guard !finished, descriptor >= 0, size - written >= Self.reserveThreshold else { return }
        declaredSize = size
        reservedUpTo = written
        if written >= Self.reserveThreshold { extendReservation() }
    }

    private func extendReservation() {
        let end = min(declaredSize, written + min(Self.reserveAhead, written))
        guard written >= Self.reserveThreshold, end > reservedUpTo else { return }
        let start = max(reservedUpTo, written)
        if fallocate(descriptor, CLINUX_FALLOC_FL_KEEP_SIZE, Int(start), Int(end - start)) == 0 {
            reservedUpTo = end
        } else {
            declaredSize = 0  // not possible here (or no room): the writes allocate as they go
        }
    }

    /// Appends `bytes` to the file and the running digest.
    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard !finished else { throw StorageError("upload already finished", code: EBADF) }
        hasher.update(bufferPointer: bytes)
        if let code = writeAll(descriptor, bytes) {
            throw StorageError(errno: code, operation: "write", subject: "upload folder")
        }
        written += Int64(bytes.count)
        if declaredSize > reservedUpTo && written + min(Self.reserveAhead, written) / 2 > reservedUpTo { extendReservation() }
        if store.fsyncEnabled && written - writebackStartedUpTo >= Self.writebackChunk {
            // Asynchronous: queues the dirty pages for writing and returns; errors surface at fsync.
            _ = sync_file_range(descriptor, Int(writebackStartedUpTo), Int(written - writebackStartedUpTo), UInt32(SYNC_FILE_RANGE_WRITE))
            writebackStartedUpTo = written
        }
    }

    /// Checks the digest of everything written against `expectedSHA256` (nil: nothing to check, raw mode), fsyncs
    /// when the store asks for it, and publishes the very file that was written (by its descriptor) under `name` or a
    /// free variant of it. A mismatch throws a `FileTransferError` 422; disk trouble throws a `SocketError`. Either
    /// way the file is gone.
    public func publish(as name: String, in folder: TreeFolder? = nil, expectedSHA256: [UInt8]?) throws -> SavedFile {
        guard !finished else { throw StorageError("upload already finished", code: EBADF) }
        let digest = Array(hasher.finalize())
        do {
            if let expected = expectedSHA256, expected != digest {
                throw FileTransferError(code: FileTransferStatus.checksumMismatch,
                                        message: "checksum mismatch: received bytes hash to \(hexString(digest)), the trailer says \(hexString(expected))")
            }
            if store.fsyncEnabled {
                while fsync(descriptor) != 0 {
                    if errno != EINTR { throw StorageError(errno: errno, operation: "fsync", subject: "upload folder") }
                }
            }
            let published = try store.publish(descriptor: descriptor, temporaryName: temporaryName, as: name, in: folder)
            finished = true
            closeDescriptor()
            partial?.remove()
            return SavedFile(name: published.name, path: published.path, size: written, sha256: hexString(digest))
        } catch {
            discard()
            throw error
        }
    }

    /// Closes and removes the temporary file; does nothing once published or discarded.
    public func discard() {
        guard !finished else { return }
        finished = true
        closeDescriptor()
        if let temporaryName { store.discard(temporaryName: temporaryName) }
        partial?.remove()
    }

    /// The connection ended part way: a kept part stays for the next attempt (what was written is in the file);
    /// anything else is discarded.
    public func keep() {
        guard partial != nil else { return discard() }
        guard !finished else { return }
        finished = true
        // What was preallocated past the kept bytes is given back: a kept part holds its own bytes only.
        // (A hole cannot be punched past the end of a file on ext4; cutting the file back to its size frees them.)
        if reservedUpTo > written {
            _ = ftruncate(descriptor, off_t(written + 1))
            _ = ftruncate(descriptor, off_t(written))
        }
        closeDescriptor()
    }

    private func closeDescriptor() {
        if descriptor >= 0 {
            close(descriptor)
            descriptor = -1
        }
    }
}
