#if canImport(Glibc)
import Glibc
#endif
import CLinux

/// Something the event loop calls when its descriptor is ready.
public protocol EventHandler: AnyObject {
    func handleEvent(readable: Bool, writable: Bool, hangup: Bool)
}
