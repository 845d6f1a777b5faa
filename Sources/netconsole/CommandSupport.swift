import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif
import NetEngine

/// Prints "netconsole: MESSAGE" to stderr and ends the command with a non-zero status.
func failure(_ message: String, code: Int32 = 1) -> ExitCode {
    printError("netconsole: \(message)")
    return ExitCode(code)
}

func printError(_ message: String) {
    StandardStreams.writeError(message + "\n")
}

/// Prints to stdout and flushes at once, so scripts and tests reading a pipe see it immediately.
func printNow(_ message: String) {
    print(message)
    fflush(nil)
}

/// Parses "HOST:PORT" for a command-line argument.
func parseEndpoint(_ text: String) throws -> Endpoint {
    do { return try Endpoint(parsing: text) } catch let error as NetError { throw ValidationError(error.message) }
}

/// Parses an address block for `--allow`/`--deny`.
func parseCIDR(_ text: String) throws -> CIDRBlock {
    do { return try CIDRBlock(parsing: text) } catch let error as CIDRError { throw ValidationError(error.description) }
}

extension ServeMode: ExpressibleByArgument {}
