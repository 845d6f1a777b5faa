import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif

/// Lab program 1, the echo server, in blocking calls: it takes one client, sends back every block it receives
/// until the client closes, and exits. Each call is under the lab's Python line for it.
package struct LabEchoServer: ParsableCommand {
    package static let configuration = CommandConfiguration(
        commandName: "echo-server",
        abstract: "Lab 1: echo for one client, then exit (production: netconsole serve --mode once).")

    @Option(name: .long, help: "Address to listen on.") var host = "127.0.0.1"
    @Option(name: .shortAndLong, help: "Port to listen on; 0 picks a free port.") var port: UInt16 = 12345

    package init() {}

    package func run() throws {
        try LabError.exitOnFailure {
            let address = try LabSocket.address(host, port)
            // server_socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            let server = try LabSocket.call("socket") { socket(AF_INET, LabSocket.stream, 0) }
            defer { close(server) }                                              // server_socket.close()
            // server_socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try LabSocket.call("setsockopt") { LabSocket.reuseAddress(server) }
            // server_socket.bind(('127.0.0.1', 12345))
            try LabSocket.call("bind", "\(host):\(port)") { LabSocket.withSockaddr(address) { bind(server, $0, $1) } }
            try LabSocket.call("listen") { listen(server, 1) }                  // server_socket.listen(1)
            print("listening on \(LabSocket.localAddress(server))"); fflush(nil)

            // conn, addr = server_socket.accept()
            let client = try LabSocket.call("accept") { accept(server, nil, nil) }
            defer { close(client) }                                              // conn.close()
            print("connected by \(LabSocket.peerAddress(client))"); fflush(nil) // print(f"Connected by {addr}")
            var block = [UInt8](repeating: 0, count: 1024)
            while true {                                                         // while True:
                // data = conn.recv(1024)
                let count = try LabSocket.call("recv") { recv(client, &block, block.count, 0) }
                if count == 0 { break }                                          //     if not data: break
                try LabSocket.sendAll(client, block[0..<count])                  //     conn.sendall(data)
            }
        }
    }
}
