import Foundation
import NetEngine
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// A temporary XDG config and state folder for TLS tests (server certificates, known_servers), and programs run
/// with it in their environment.
final class TLSTestEnvironment {
    let root: URL
    let environment: [String: String]

    init(_ testCase: XCTestCase, config: String = "config", state: String = "state", root: URL? = nil) throws {
        let root = try root ?? makeTemporaryDirectory(testCase)
        self.root = root
        var environment = ProcessInfo.processInfo.environment
        environment["XDG_CONFIG_HOME"] = root.appendingPathComponent(config).path
        environment["XDG_STATE_HOME"] = root.appendingPathComponent(state).path
        self.environment = environment
    }

    var certificate: String { environment["XDG_CONFIG_HOME"]! + "/netconsole/tls-cert.pem" }
    var knownServers: String { environment["XDG_STATE_HOME"]! + "/netconsole/known_servers" }

    func start(executable: String = NetconsoleBinary.path, _ arguments: [String]) throws -> RunningProcess {
        try RunningProcess(executable: executable, arguments, environment: environment)
    }

    func run(executable: String = NetconsoleBinary.path, _ arguments: [String], input: Data = Data(),
             timeout: Double = 20) throws -> (status: Int32?, stdout: String, stderr: String) {
        let running = try start(executable: executable, arguments)
        if !input.isEmpty { running.writeToStdin(input) }
        running.closeStdin()
        let status = running.waitForExit(timeout: timeout)
        return (status, running.stdout, running.stderr)
    }

    /// `serve --tls --port 0` plus `extra`, its port and the fingerprint it logged; stopped when the test ends.
    func startServer(_ testCase: XCTestCase, _ extra: [String] = [], service: String = "echo") throws -> (RunningProcess, UInt16, String) {
        let server = try start(["serve", "--tls", "--port", "0"] + extra)
        testCase.addTeardownBlock { server.interrupt(); server.waitForExit(timeout: 5) }
        let port = server.listeningPort(service: service)
        XCTAssertTrue(server.waitForStderr { $0.contains("fingerprint SHA256:") }, server.stderr)
        let fingerprint = server.stderr.components(separatedBy: "fingerprint ").dropFirst().first?.prefix(71) ?? ""
        return (server, port, String(fingerprint))
    }

    /// A self-signed certificate and key written to the folder, for `names`, valid as `generate` is told.
    func writeCertificate(_ name: String, names: [String], validFrom: Int = -3600, validFor: Int = 86400) throws -> (cert: String, key: String) {
        let pair = try ServerCertificate.generate(commonName: names[0], names: names, validFrom: validFrom, validFor: validFor)
        let cert = root.appendingPathComponent("\(name)-cert.pem").path
        let key = root.appendingPathComponent("\(name)-key.pem").path
        try Data(pair.certificate).write(to: URL(fileURLWithPath: cert))
        try Data(pair.key).write(to: URL(fileURLWithPath: key))
        return (cert, key)
    }

    /// Runs `arguments` until the peer that is still starting stops refusing connections (at most 5 s).
    func runAgainstStartingPeer(_ arguments: [String], input: Data = Data()) throws -> (status: Int32?, stdout: String, stderr: String) {
        var result = try run(arguments, input: input)
        for _ in 0..<50 where result.status != 0 && result.stderr.contains("connection refused") {
            usleep(100_000)
            result = try run(arguments, input: input)
        }
        return result
    }
}

/// The path of `program`, or a skip when it is not installed.
func requireTool(_ program: String, package: String) throws -> String {
    guard let path = which(program) else { throw XCTSkip("\(program) is not installed (Debian: \(package))") }
    return path
}
