import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif

/// Lab program 5, the file client: sends any file, text or binary, in 1024-byte blocks, then closes.
/// Each call is under the lab's Python line for it.
package struct LabFileClient: ParsableCommand {
    package static let configuration = CommandConfiguration(
        commandName: "file-client",
        abstract: "Lab 5: send one file's bytes and close (production: netconsole send --raw FILE --to HOST:PORT).")

    @Argument(help: "File to send.") var file = "file_to_send.txt"
    @Option(name: .long, help: "Server address.") var host = "127.0.0.1"
    @Option(name: .shortAndLong, help: "Server port.") var port: UInt16 = 12345

    package init() {}

    package func run() throws {
        try LabError.exitOnFailure {
            // with open('file_to_send.txt', 'rb') as f: (opened before connecting: a missing file is no upload)
            let input = try LabSocket.call("open", file) { open(file, O_RDONLY) }
            defer { close(input) }
            let address = try LabSocket.address(host, port)
            // client_socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            let client = try LabSocket.call("socket") { socket(AF_INET, LabSocket.stream, 0) }
            defer { close(client) }                                              // client_socket.close()
            // client_socket.connect(('127.0.0.1', 12345))
            try LabSocket.call("connect", "\(host):\(port)") { LabSocket.withSockaddr(address) { connect(client, $0, $1) } }

            var block = [UInt8](repeating: 0, count: 1024)
            var total = 0
            while true {                                                         // while True:
                let count = try LabSocket.call("read", file) { read(input, &block, block.count) } // data = f.read(1024)
                if count == 0 { break }                                          //     if not data: break
                try LabSocket.sendAll(client, block[0..<count])                  //     client_socket.sendall(data)
                total += count
            }
            // close() alone would return while the bytes may still be on their way. Ending our side (the server's
            // empty recv) and waiting for the server to close means it has read every byte; what it says is printed.
            try LabSocket.call("shutdown") { shutdown(client, Int32(SHUT_WR)) }
            while true {
                let count = try LabSocket.call("recv") { recv(client, &block, block.count, 0) }
                if count == 0 { break }
                LabSocket.writeOut(block[0..<count])
            }
            print("sent \(total) bytes from \(file)"); fflush(nil)
        }
    }
}
