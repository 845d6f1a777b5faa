/// A watched connection's two payload rings. A class, so an unwatched connection holds only a nil reference.
final class PayloadCapture {
    // Unchecked for exclusivity: used on every read and write of a watched connection, from its loop's thread only.
    @exclusivity(unchecked) var received: PayloadRing
    @exclusivity(unchecked) var sent: PayloadRing

    init(capacity: Int, receivedSoFar: Int, sentSoFar: Int) {
        received = PayloadRing(received: true, capacity: capacity, startingAt: receivedSoFar)
        sent = PayloadRing(received: false, capacity: capacity, startingAt: sentSoFar)
    }

    func append(_ bytes: UnsafeRawBufferPointer, received isReceived: Bool, time: Double) {
        if isReceived { received.append(bytes, time: time) } else { sent.append(bytes, time: time) }
    }

    var allocatedBytes: Int { received.allocatedBytes + sent.allocatedBytes }
}
