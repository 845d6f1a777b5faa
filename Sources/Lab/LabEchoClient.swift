import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif

/// Lab program 2, the echo client: sends each line typed (or piped) to the server and prints what comes back,
/// until the line `exit` or the end of input. Each call is under the lab's Python line for it.
package struct LabEchoClient: ParsableCommand {
    package static let configuration = CommandConfiguration(
        commandName: "echo-client",
        abstract: "Lab 2: send lines until 'exit' and print each echo (production: netconsole echo HOST:PORT).")

    @Option(name: .long, help: "Server address.") var host = "127.0.0.1"
    @Option(name: .shortAndLong, help: "Server port.") var port: UInt16 = 12345

    package init() {}

    package func run() throws {
        try LabError.exitOnFailure {
            let address = try LabSocket.address(host, port)
            // client_socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            let client = try LabSocket.call("socket") { socket(AF_INET, LabSocket.stream, 0) }
            defer { close(client) }                                              // client_socket.close()
            // client_socket.connect(('127.0.0.1', 12345))
            try LabSocket.call("connect", "\(host):\(port)") { LabSocket.withSockaddr(address) { connect(client, $0, $1) } }

            var block = [UInt8](repeating: 0, count: 1024)
            while true {                                                         // while True:
                if isatty(0) == 1 { LabSocket.writeError("Enter message: ") }           //     message = input("Enter message: ")
                guard let message = readLine(), message != "exit" else { break } //     if message == 'exit': break
                // input() drops the newline; sending it keeps the echo a line for the server and for nc.
                let line = Array((message + "\n").utf8)
                try LabSocket.sendAll(client, line[...])                         //     client_socket.sendall(message.encode())
                // One recv(1024) may return part of the echo (and a line longer than 1024 bytes comes in blocks),
                // so read until as many bytes came back as were sent; all of them are printed.
                var received = 0
                while received < line.count {
                    // data = client_socket.recv(1024)
                    let count = try LabSocket.call("recv") { recv(client, &block, block.count, 0) }
                    if count == 0 { throw LabError("the server closed the connection: \(host):\(port)") }
                    LabSocket.writeOut(block[0..<count])                              //     print(data.decode())
                    received += count
                }
                fflush(nil)
            }
        }
    }
}
