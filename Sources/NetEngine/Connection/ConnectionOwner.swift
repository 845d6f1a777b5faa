/// What a `Connection` needs from whoever owns it (a server, or an `EmbeddedConnection` in tests): the loop it runs
/// on, the buffer it reads into, where its events go, its limits, and to hear of deadlines and of its end.
package protocol ConnectionOwner: AnyObject {
    var loop: EventLoop { get }
    var service: String { get }
    var limits: ServerLimits { get }
    var sink: EventSink? { get }
    /// Whether every read and write is reported as an event (costly at high rates).
    var reportsBytes: Bool { get }
    var sharedReadBuffer: ReadBuffer { get }
    /// Bytes of payload each way a connection reports as `payload` events (0: none).
    var payloadDumpLimit: Int { get }
    /// A deadline was set: make sure something checks it.
    func watchDeadlines()
    func connectionDidClose(_ connection: Connection, error: SocketError?)
}
