/// What every connection of one load run adds to, and the run's phase, shared by the generator and its handlers on
/// one loop thread. The counters are `@exclusivity(unchecked)`: touched on every echoed request, they would
/// otherwise cost a runtime exclusivity check each.
final class LoadTally {
    /// Requests are being issued (after all connections settled, until the run ends).
    @exclusivity(unchecked) var running = false
    /// Echoes count towards the report (after the warmup).
    @exclusivity(unchecked) var measuring = false
    @exclusivity(unchecked) var histogram = LatencyHistogram()
    @exclusivity(unchecked) var completedRequests: UInt64 = 0
    @exclusivity(unchecked) var bytesEchoed: UInt64 = 0
    @exclusivity(unchecked) var mismatchedBytes: UInt64 = 0
    var errors = 0
    private(set) var problems: [String] = []

    /// Keeps the first few problems for the report; a broken server would otherwise fill it with one per connection.
    func note(_ problem: String) {
        if problems.count < 10 { problems.append(problem) }
    }

    func resetMeasurements() {
        histogram.reset()
        completedRequests = 0
        bytesEchoed = 0
    }
}
