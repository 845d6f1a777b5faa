import Foundation
import XCTest

/// `netconsole --udp` in a real terminal: a UDP echo server beside the TCP one, on the same port number, each peer a
/// row of the server pane with its datagrams and bytes.
final class ConsoleUDPTUITests: XCTestCase {
    func testAUDPPeerIsEchoedAndShownAsARowWithItsDatagrams() throws {
        let console = try TmuxConsole(self)
        let port = try console.startAndWaitForServers(cols: 100, rows: 30, arguments: ["--udp"])
        console.waitForScreen("the UDP echo server in the title, beside the TCP one") { $0.contains("echo 127.0.0.1:\(port) on +udp") }

        // Three datagrams from one socket, each echoed; then one from another socket: two peers, two rows.
        let script = """
        import socket, sys
        port = int(sys.argv[1])
        a = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); a.settimeout(5)
        for text in (b"one", b"two", b"three"):
            a.sendto(text, ("127.0.0.1", port))
            reply, _ = a.recvfrom(100)
            assert reply == text, reply
        b = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); b.settimeout(5)
        b.sendto(b"x" * 1000, ("127.0.0.1", port))
        assert b.recvfrom(2000)[0] == b"x" * 1000
        print(a.getsockname()[1], b.getsockname()[1])
        """
        let result = try runToCompletion(executable: "/usr/bin/env", ["python3", "-c", script, "\(port)"], timeout: 10)
        XCTAssertEqual(result.status, 0, result.stderr)
        let peers = String(decoding: result.stdout, as: UTF8.self).split(separator: " ").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        XCTAssertEqual(peers.count, 2, String(decoding: result.stdout, as: UTF8.self))
        let screen = console.waitForScreen("both peers' rows with their datagrams (rows update at most once a second)", timeout: 10) {
            $0.contains("127.0.0.1:\(peers[0])") && $0.contains("3 datagrams") && $0.contains("127.0.0.1:\(peers[1])")
        }
        let first = console.line(containing: "127.0.0.1:\(peers[0])", in: screen)
        XCTAssertTrue(first.contains(" u") && first.contains(" udp ") && first.contains("11 B"), first)
        let second = console.line(containing: "127.0.0.1:\(peers[1])", in: screen)
        XCTAssertTrue(second.contains("1 datagram") && second.contains("1000 B"), second)
    }
}
