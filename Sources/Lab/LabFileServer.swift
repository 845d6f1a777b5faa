import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif

/// Lab program 4, the file server: takes one client, writes every block it receives into a file opened for
/// writing ('wb'), and stops at the empty block that means the client has closed.
package struct LabFileServer: ParsableCommand {
    package static let configuration = CommandConfiguration(
        commandName: "file-server",
        abstract: "Lab 4: save one client's bytes until it closes into a file (production: netconsole serve --files DIR --raw).")

    @Option(name: .long, help: "Address to listen on.") var host = "127.0.0.1"
    @Option(name: .shortAndLong, help: "Port to listen on; 0 picks a free port.") var port: UInt16 = 12345
    @Option(name: .shortAndLong, help: "File to write (replaced if it exists).") var output = "received_file.txt"

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
            print("connected by \(LabSocket.peerAddress(client))"); fflush(nil)
            // with open('received_file.txt', 'wb') as f:
            let file = try LabSocket.call("open", output) { open(output, O_WRONLY | O_CREAT | O_TRUNC, 0o644) }
            defer { close(file) }
            var block = [UInt8](repeating: 0, count: 1024)
            var total = 0
            while true {                                                         //     while True:
                // data = conn.recv(1024)
                let count = try LabSocket.call("recv") { recv(client, &block, block.count, 0) }
                if count == 0 { break }                                          //         if not data: break
                try LabSocket.writeAll(file, block[0..<count], path: output)     //         f.write(data)
                total += count
            }
            print("saved \(total) bytes to \(output)"); fflush(nil)
        }
    }
}
