#if canImport(Glibc)
import Glibc
#endif
import CLinux

/// How a server takes clients: the lab's one-client and one-after-another servers, or many at once.
public enum ServeMode: String, CaseIterable, Sendable {
    /// Serve one client, then stop (lab task 1).
    case once
    /// Serve clients forever, one at a time; others wait in the listen backlog (lab task 3).
    case sequential
    /// Serve clients forever, all at once on the event loop.
    case concurrent
}
