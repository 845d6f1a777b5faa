/// The order of the connection list; open connections always come before closed ones.
public enum ConnectionSort: String, CaseIterable, Equatable, Sendable {
    case number = "#", peer = "peer", bytesIn = "in", bytesOut = "out"

    var next: ConnectionSort {
        let all = ConnectionSort.allCases
        return all[(all.firstIndex(of: self)! + 1) % all.count]
    }
}
