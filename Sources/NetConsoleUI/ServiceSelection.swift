/// Which of the console's servers run: the "mode" shown in the server pane.
public enum ServiceSelection: String, CaseIterable, Equatable, Sendable {
    case both = "echo + files"
    case echoOnly = "echo"
    case filesOnly = "files"

    public func includes(_ service: String) -> Bool {
        switch self {
        case .both: return true
        case .echoOnly: return service == ConsoleState.echoService
        case .filesOnly: return service == ConsoleState.filesService
        }
    }

    var next: ServiceSelection {
        let all = ServiceSelection.allCases
        return all[(all.firstIndex(of: self)! + 1) % all.count]
    }
}
