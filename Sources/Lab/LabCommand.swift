import ArgumentParser

/// `netconsole lab`: the socket-API lab's five programs as straight-line blocking code (docs/LAB.md).
package struct LabCommand: ParsableCommand {
    package static let configuration = CommandConfiguration(
        commandName: "lab",
        abstract: "The socket-API lab's five programs, in blocking calls, one short file each (see docs/LAB.md).",
        discussion: "Defaults as in the lab: 127.0.0.1:12345 and 1024-byte blocks. Servers print \"listening on HOST:PORT\".",
        subcommands: [LabEchoServer.self, LabEchoClient.self, LabForeverServer.self, LabFileServer.self, LabFileClient.self]
    )

    package init() {}
}
