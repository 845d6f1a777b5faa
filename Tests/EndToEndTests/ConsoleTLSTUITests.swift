import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// `netconsole console --tls` in a real terminal: its servers and its client pane speak TLS, and the server pane shows
/// the fingerprint.
final class ConsoleTLSTUITests: XCTestCase {
    func testTheServerPaneShowsTheFingerprintAndTLSClientsAreServed() throws {
        let console = try TmuxConsole(self)
        let config = console.pickDirectory.appendingPathComponent("config")
        try Data("sent over tls\n".utf8).write(to: console.pickDirectory.appendingPathComponent("secret-notes.txt"))
        let port = try console.startAndWaitForServers(cols: 150, rows: 30, environment: ["XDG_CONFIG_HOME": config.path], arguments: ["--tls"])
        let certificate = config.appendingPathComponent("netconsole/tls-cert.pem").path
        let screen = console.waitForScreen("the fingerprint in the title and the log") { $0.contains("TLS SHA256:") && $0.contains("fingerprint SHA256:") }
        let logged = try XCTUnwrap(screen.components(separatedBy: "fingerprint ").dropFirst().first?.prefix(30))
        XCTAssertTrue(console.line(containing: "mode:", in: screen).contains("TLS \(logged.prefix(23))…"), screen)

        let environment = ["XDG_STATE_HOME": console.stateDirectory.path]
        let client = try RunningProcess(["echo", "--tls", "--ca-file", certificate, "localhost:\(port)"],
                                        environment: ProcessInfo.processInfo.environment.merging(environment) { $1 })
        client.writeToStdin(Data("over tls\n".utf8))
        client.closeStdin()
        XCTAssertEqual(client.waitForExit(), 0, client.stderr)
        XCTAssertEqual(client.stdout, "over tls\n")

        // The client pane speaks TLS too, to the console's own servers (their certificate is trusted without a prompt).
        try console.keys("Enter")
        try console.type("ping over tls")
        try console.keys("Enter")
        console.waitForScreen("the echo over TLS") { $0.contains("← ping over tls") }
        try console.keys("Tab", "Tab")
        try console.type("secret-notes")
        try console.keys("Enter")
        console.waitForScreen("the file sent over TLS") { $0.contains("✓ secret-notes.txt saved as secret-notes.txt") }
        XCTAssertEqual(try String(contentsOf: console.saveDirectory.appendingPathComponent("secret-notes.txt"), encoding: .utf8), "sent over tls\n")
        XCTAssertFalse(FileManager.default.fileExists(atPath: console.stateDirectory.appendingPathComponent("netconsole/known_servers").path),
                       "the console's own certificate is trusted, not remembered")

        guard let nc = which("nc") else { throw XCTSkip("nc is not installed (Debian: netcat-openbsd)") }
        _ = try runToCompletion(executable: nc, ["-N", "127.0.0.1", "\(port)"], input: Data("plain text\n".utf8), timeout: 5)
        console.waitForScreen("the plain client's failed handshake in the log") { $0.contains("TLS handshake failed: a plain-text client") }
    }
}
