import NetEngine
#if canImport(Glibc)
import Glibc
#endif

/// What one UDP load run measured. Every datagram sent in the measured window ends as echoed or lost.
package struct UDPEchoLoadReport: Sendable {
    package var seconds: Double
    package var sent: UInt64 = 0
    package var echoed: UInt64 = 0
    /// Datagrams whose echo did not come within the loss timeout.
    package var lost: UInt64 = 0
    /// Echoes that came after their datagram was counted lost, or twice.
    package var late: UInt64 = 0
    /// Echoes whose bytes differ from what was sent.
    package var mismatched: UInt64 = 0
    package var bytesEchoed: UInt64 = 0
    package var p50Nanoseconds: UInt64 = 0
    package var p99Nanoseconds: UInt64 = 0
    package var maxNanoseconds: UInt64 = 0
    package var cpuSeconds: Double = 0

    package var datagramsPerSecond: Double { seconds > 0 ? Double(echoed) / seconds : 0 }
    package var megabytesPerSecond: Double { seconds > 0 ? Double(bytesEchoed) / seconds / 1e6 : 0 }
    package var lossPercent: Double { sent > 0 ? Double(lost) * 100 / Double(sent) : 0 }
}

/// A load generator for UDP echo servers: `sockets` connected UDP sockets on one thread, each keeping `pipeline`
/// datagrams in flight. Each datagram starts with its sequence number, and the rest comes from a pseudo-random
/// pattern at an offset fixed by that number, so every echoed byte is checked. A datagram not echoed within
/// `lossTimeout` is counted lost and replaced, so loss never stalls the run.
package final class UDPEchoLoadGenerator {
    package let host: String
    package let port: UInt16
    package let sockets: Int
    package let size: Int
    package let pipeline: Int
    package let duration: Double
    package let warmup: Double
    package let lossTimeout: Double

    /// A sequence number (8 bytes) and at least as many pattern bytes.
    package static let minimumSize = 16

    private struct Slot {
        var sequence: UInt64
        var sentAt: UInt64 = 0
        var inFlight = false
        var counted = false
    }

    package init(host: String, port: UInt16, sockets: Int, size: Int, pipeline: Int, duration: Double, warmup: Double = 0,
                lossTimeout: Double = 0.5) {
        precondition(size >= Self.minimumSize && size <= DatagramSocket.maxPayload)
        self.host = host
        self.port = port
        self.sockets = sockets
        self.size = size
        self.pipeline = pipeline
        self.duration = duration
        self.warmup = warmup
        self.lossTimeout = lossTimeout
    }

    package func run() throws -> UDPEchoLoadReport {
        let remote = try SocketAddress.resolve(host: host, port: port)[0]
        var channels: [DatagramSocket] = []
        for _ in 0..<sockets {
            let socket = try DatagramSocket(family: remote.family)
            try socket.connect(to: remote)
            channels.append(socket)
        }
        let pattern = VerificationPattern(maxWindow: size)
        defer { pattern.deallocate() }
        var outgoing = [UInt8](repeating: 0, count: size)
        var incoming = [UInt8](repeating: 0, count: 65_536)
        var slots = (0..<sockets).map { _ in (0..<pipeline).map { Slot(sequence: UInt64($0)) } }
        var histogram = LatencyHistogram()
        var report = UDPEchoLoadReport(seconds: duration)
        let lossNanoseconds = UInt64(lossTimeout * 1e9)

        let start = BenchClock.nanoseconds()
        let measureStart = start + UInt64(warmup * 1e9)
        let measureEnd = measureStart + UInt64(duration * 1e9)
        var cpuAtStart = ProcessCPU.seconds()
        var cpuMeasured = false

        func offset(of sequence: UInt64) -> Int { Int(sequence % UInt64(pattern.period)) }

        func send(_ channel: Int, _ index: Int, now: UInt64) throws {
            var slot = slots[channel][index]
            let window = pattern.window(at: offset(of: slot.sequence), count: size - 8)
            outgoing.withUnsafeMutableBytes { out in
                out.storeBytes(of: slot.sequence.littleEndian, toByteOffset: 0, as: UInt64.self)
                UnsafeMutableRawBufferPointer(rebasing: out[8...]).copyMemory(from: window)
            }
            let queued = try outgoing.withUnsafeBytes { try channels[channel].send($0) }
            slot.sentAt = now
            slot.inFlight = true
            // A datagram the kernel would not take is lost like one the network dropped.
            slot.counted = now >= measureStart && now < measureEnd
            if slot.counted { report.sent += 1 }
            if !queued { slot.sentAt = 0 }
            slots[channel][index] = slot
        }

        /// The slot's datagram is settled: the next one in the slot gets the next number for it.
        func retire(_ channel: Int, _ index: Int, now: UInt64, sending: Bool) throws {
            slots[channel][index].inFlight = false
            slots[channel][index].sequence += UInt64(pipeline)
            if sending { try send(channel, index, now: now) }
        }

        func receiveAll(from channel: Int, sending: Bool) throws {
            for _ in 0..<64 {
                let received: DatagramSocket.Received?
                do {
                    received = try incoming.withUnsafeMutableBytes { try channels[channel].receive(into: $0) }
                } catch let error as SocketError where error.code == ECONNREFUSED {
                    throw SocketError(code: ECONNREFUSED, message: "nothing answers on UDP port \(remote) (port unreachable)")
                }
                guard let received else { return }
                // A timestamp per datagram: an echo of a datagram sent in this same batch must not take zero time.
                let now = BenchClock.nanoseconds()
                guard received.stored >= 8 else { report.mismatched += 1; continue }
                let sequence = incoming.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
                let index = Int(sequence % UInt64(pipeline))
                let slot = slots[channel][index]
                guard slot.inFlight, slot.sequence == sequence else { report.late += 1; continue }
                let intact = received.length == size && incoming.withUnsafeBytes { bytes in
                    UnsafeRawBufferPointer(rebasing: bytes[8..<size]).elementsEqual(pattern.window(at: offset(of: sequence), count: size - 8))
                }
                if slot.counted {
                    if intact {
                        report.echoed += 1
                        report.bytesEchoed += UInt64(size)
                        histogram.record(now - slot.sentAt)
                    } else {
                        report.mismatched += 1
                        report.lost += 1
                    }
                }
                try retire(channel, index, now: BenchClock.nanoseconds(), sending: sending)
            }
        }

        var descriptors = channels.map { pollfd(fd: $0.descriptor, events: Int16(POLLIN), revents: 0) }
        let now0 = BenchClock.nanoseconds()
        for channel in 0..<sockets { for index in 0..<pipeline { try send(channel, index, now: now0) } }
        var lastSweep = now0
        while true {
            var now = BenchClock.nanoseconds()
            let sending = now < measureEnd
            if !cpuMeasured && now >= measureStart { cpuAtStart = ProcessCPU.seconds(); cpuMeasured = true }
            if !sending && !slots.contains(where: { $0.contains { $0.inFlight } }) { break }
            if !sending && now >= measureEnd + lossNanoseconds { break }
            _ = poll(&descriptors, nfds_t(descriptors.count), 5)
            now = BenchClock.nanoseconds()
            for channel in 0..<sockets where descriptors[channel].revents != 0 {
                try receiveAll(from: channel, sending: now < measureEnd)
            }
            // Datagrams were just sent with later timestamps than the one taken before receiving.
            now = BenchClock.nanoseconds()
            if now - lastSweep >= 5_000_000 {
                lastSweep = now
                for channel in 0..<sockets {
                    for index in 0..<pipeline where slots[channel][index].inFlight && now - slots[channel][index].sentAt >= lossNanoseconds {
                        if slots[channel][index].counted { report.lost += 1 }
                        try retire(channel, index, now: now, sending: now < measureEnd)
                    }
                }
            }
        }
        let cpuAtEnd = ProcessCPU.seconds()
        for channel in 0..<sockets {
            for slot in slots[channel] where slot.inFlight && slot.counted { report.lost += 1 }
        }
        report.cpuSeconds = cpuAtEnd - cpuAtStart
        report.p50Nanoseconds = histogram.percentile(0.5)
        report.p99Nanoseconds = histogram.percentile(0.99)
        report.maxNanoseconds = histogram.maximum
        return report
    }
}
