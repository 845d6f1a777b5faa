import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif

/// Lab program 3: the echo server of program 1 inside `while True`, so it serves client after client, one at a
/// time; the next client waits in the listen backlog until the current one closes. Runs until killed.
package struct LabForeverServer: ParsableCommand {
    package static let configuration = CommandConfiguration(
        commandName: "forever-server",
        abstract: "Lab 3: echo forever, one client after another (production: netconsole serve --mode sequential).")

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
            try LabSocket.call("listen") { listen(server, 5) }                  // server_socket.listen(5)
            print("listening on \(LabSocket.localAddress(server))"); fflush(nil)

            var block = [UInt8](repeating: 0, count: 1024)
            while true {                                                         // while True:
                // conn, addr = server_socket.accept()
                let client = try LabSocket.call("accept") { accept(server, nil, nil) }
                print("connected by \(LabSocket.peerAddress(client))"); fflush(nil)
                do {
                    while true {                                                 //     while True:
                        // data = conn.recv(1024)
                        let count = try LabSocket.call("recv") { recv(client, &block, block.count, 0) }
                        if count == 0 { break }                                  //         if not data: break
                        try LabSocket.sendAll(client, block[0..<count])          //         conn.sendall(data)
                    }
                } catch let error as LabError {
                    // One client resetting its connection must not stop a server meant to run forever.
                    LabSocket.writeError("netconsole: \(error)\n")
                }
                close(client)                                                    //     conn.close()
                print("closed"); fflush(nil)
            }
        }
    }
}
