import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif

/// A failed step of a lab program, as one line a person can act on: "address already in use: 127.0.0.1:12345".
package struct LabError: Error, CustomStringConvertible {
    package let description: String

    init(_ description: String) {
        self.description = description
    }

    /// The errno left by `call`; `subject` names what it was done to (an address, a file).
    init(errno code: Int32, call: String, subject: String?) {
        let reason = String(cString: strerror(code)).lowercased()
        description = subject.map { "\(reason): \($0)" } ?? "\(call): \(reason)"
    }

    /// Runs a lab program; a `LabError` becomes "netconsole: MESSAGE" on stderr and exit status 1, never a trace.
    static func exitOnFailure(_ program: () throws -> Void) throws {
        do {
            try program()
        } catch let error as LabError {
            LabSocket.writeError("netconsole: \(error)\n")
            throw ExitCode.failure
        }
    }
}
