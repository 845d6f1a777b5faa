import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif
import NetEngine
import NetText

struct SendCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "send",
        abstract: "Send files and folders to a file server (netconsole serve --files DIR), or plain bytes with --raw.",
        discussion: """
        Each file is announced with its name and size, streamed, and checked by the server against its SHA-256; \
        the exit status is 0 only when the server confirmed every file. On a terminal a progress bar shows bytes, \
        rate and time left on stderr; otherwise plain lines. One line per saved file goes to stdout.
        --raw sends just the bytes of each file on a connection of its own and closes its side, like \
        `nc -N HOST PORT < FILE` (for `nc -l` or `serve --files DIR --raw`).
        A folder is sent as its whole tree (empty folders too) and recreated under its own name (photos, or \
        photos (1) if taken); links are skipped unless --follow-links, and the last line sums up files, bytes, \
        skipped and failed entries.
        Example: netconsole send notes.txt photo.jpg --to 127.0.0.1:12346
        """
    )

    @Argument(help: ArgumentHelp("Files and folders to send.", valueName: "file"))
    var files: [String]

    @Option(name: .long, help: ArgumentHelp("Server address, HOST:PORT.", valueName: "host:port"), transform: { try parseEndpoint($0) })
    var to: Endpoint

    @Flag(name: .long, help: "Send plain bytes (no header, no checksum), one connection per file, like netcat.")
    var raw = false

    @Flag(name: .long, help: "In a folder, follow links to files and folders (by default they are skipped and reported).")
    var followLinks = false

    @Flag(name: .long, help: "Send every file from its first byte, even where the server kept part of it from an interrupted attempt.")
    var noResume = false

    @Option(name: .long, help: ArgumentHelp("Send at most this many bytes per second (examples: 500K, 10M).", valueName: "rate"))
    var limitRate: String?

    @Flag(name: .long, help: "Write one JSON object per event on stdout (connected, file_started, progress, file_confirmed, file_refused, failed, finished) instead of text.")
    var json = false

    @Option(name: .long, help: ArgumentHelp("Prove to the server (serve --files DIR --secret-file F) that you know the secret held in this file's first line; it travels with every file header, in clear text unless --tls.", valueName: "file"))
    var secretFile: String?

    @Option(name: .long, help: ArgumentHelp("How long to wait for the server to answer or to take more data (seconds, or 500ms, 2m, 1h). (default: 60)", valueName: "seconds"),
            transform: { try Seconds.parse($0) })
    var timeout = Seconds(60)

    @OptionGroup var tlsOptions: ClientTLSOptions

    func validate() throws {
        if files.isEmpty { throw ValidationError("give at least one file to send") }
        if secretFile != nil && raw { throw ValidationError("--secret-file needs the framed protocol: raw uploads carry no secret") }
        if let limitRate, (ByteCount.parse(limitRate) ?? 0) <= 0 {
            throw ValidationError("--limit-rate '\(limitRate)' is not a rate in bytes per second (examples: 500K, 10M)")
        }
    }

    func run() throws {
        ignoreBrokenPipeSignal()
        let endpoint = to
        var problems: [String] = []
        var listing = FolderWalk.Listing()
        // Names that are not UTF-8 are opened by their bytes; everything else goes by its path.
        let raws = files.map { RawArgumentPath.open($0) }
        let sendPaths = zip(files, raws).map { $1?.path ?? $0 }
        for path in sendPaths {
            do {
                // A folder whose name is not UTF-8 is listed by its bytes.
                let bytes = RawArgumentPath.bytes(path) ?? Array(path.utf8)
                let more = try FolderWalk.items(forPaths: [bytes], followLinks: followLinks)
                if raw && more.items.contains(where: { $0.entry != .file }) {
                    problems.append("\(path.sanitizedForDisplay): is a folder; --raw sends files one by one, send folders without --raw")
                }
                listing.items += more.items
                listing.skipped += more.skipped
            } catch { problems.append("\(error)".sanitizedForDisplay) }
        }
        if !problems.isEmpty {
            for problem in problems.dropLast() { printError("netconsole: \(problem)") }
            throw failure(problems.last! + (files.count > 1 ? " (nothing was sent)" : ""))
        }

        var secret: SharedSecret?
        if let secretFile {
            do { secret = try SharedSecret.load(fromFile: secretFile) } catch let error as SharedSecretError { throw failure(error.message) }
        }

        let tls = try tlsOptions.configuration()
        let loop = try EventLoop()
        let trees = listing.items.contains { $0.entry != .file }
        let paths = trees ? listing.items.map(\.path) : files
        let text = json ? nil : SendProgressDisplay(files: paths, onTerminal: isatty(2) == 1)
        let objects = json ? SendJSONDisplay(files: paths) : nil
        text?.endsWithSummary = trees
        for skipped in listing.skipped {
            text?.skipped(skipped)
            objects?.skipped(skipped)
        }
        var outcome = false
        var sender: FileSender?
        let onEvent = { (event: FileSendEvent) in
            if case .connected = event, let note = trustNote(sender?.tlsTransport, endpoint: endpoint) { printError("netconsole: \(note)") }
            text?.show(event)
            objects?.show(event)
            if case let .finished(allConfirmed) = event {
                if trees {
                    let summary = TreeSendSummary(items: listing.items, skipped: listing.skipped.count)
                    text?.summary(summary)
                    objects?.summary(summary)
                }
                outcome = allConfirmed
                loop.stop()
            }
        }
        sender = trees ? FileSender(loop: loop, endpoint: endpoint, items: listing.items, onEvent: onEvent)
            : FileSender(loop: loop, endpoint: endpoint, files: sendPaths, raw: raw, onEvent: onEvent)
        if !trees && raws.contains(where: { $0 != nil }) {
            sender?.names = zip(files, raws).map { $1?.name ?? FileSender.baseName($0) }
        }
        sender?.replyTimeout = timeout.value
        sender?.resumes = !noResume && !raw
        sender?.rateLimit = limitRate.flatMap { ByteCount.parse($0) }
        sender?.secret = secret
        sender?.tls = tls
        let signals = try SignalWatcher(loop: loop, signals: [SIGINT, SIGTERM]) { _ in sender?.cancel() }
        _ = signals
        sender?.start()
        loop.run()
        // A folder arrived whole only if nothing in it was left out either.
        if !outcome || !listing.skipped.isEmpty { throw ExitCode(1) }
    }
}

/// What `send` shows: a redrawn progress line on a terminal, plain lines otherwise; results on stdout.
final class SendProgressDisplay {
    private let files: [String]
    private let onTerminal: Bool
    private var meter: TransferMeter?
    private var lastDrawn = 0.0
    private var lineShown = false
    private var confirmed = 0
    private var summary = TreeSendSummary.Counter()
    private var sizes: [Int: Int64] = [:]
    /// A folder send ends with its own summary line instead of the count of confirmed files.
    var endsWithSummary = false

    init(files: [String], onTerminal: Bool) {
        self.files = files
        self.onTerminal = onTerminal
    }

    func show(_ event: FileSendEvent) {
        switch event {
        case let .connected(address):
            note("connected to \(address)")
        case let .fileStarted(index, _, size):
            sizes[index] = size
            meter = TransferMeter(total: size)
            lastDrawn = 0
            // A folder's thousands of files each get their result line; a "sending" line too would only double them.
            // Named as given: a name that is not UTF-8 is sent through /proc/self/fd/N, which says nothing to the user.
            if !onTerminal && !endsWithSummary { note("sending \(display(files[index])) (\(ByteCount.format(size)))") }
            draw(index: index, force: true)
        case let .progress(index, sent, _):
            meter?.update(done: sent)
            draw(index: index, force: false)
        case let .resumed(index, offset, size):
            meter?.update(done: offset)
            note("\(display(files[index])): resuming at \(size > 0 ? offset * 100 / size : 0) % (\(ByteCount.format(offset)) already there)")
        case let .folderConfirmed(index, _):
            summary.note(event, size: 0, index: index)
        case let .fileConfirmed(index, savedAs, sha256):
            confirmed += 1
            summary.note(event, size: sizes[index] ?? 0, index: index)
            clearLine()
            // Pipelined answers come while later files are sent: the size is the file's own, not the meter's.
            let size = sizes[index].map { ByteCount.format($0) } ?? "?"
            let target = savedAs.isEmpty ? "delivered" : "saved as \(savedAs.sanitizedForDisplay)"
            printNow("\(display(files[index])): \(target) (\(size), sha256 \(sha256))")
        case let .fileRefused(index, reason):
            clearLine()
            // This side's own trouble with the file already names it ("x shrank while being sent..."): not "refused".
            let ownTrouble = reason.hasPrefix(files[index] + " ") || reason.hasPrefix(files[index] + ":")
            printError("netconsole: " + (ownTrouble ? reason.sanitizedForDisplay : "\(display(files[index])) refused: \(reason.sanitizedForDisplay)"))
        case let .failed(message):
            clearLine()
            printError("netconsole: \(message.sanitizedForDisplay)")
        case let .finished(allConfirmed):
            clearLine()
            if !allConfirmed && files.count > 1 && !endsWithSummary {
                // After a failure the session ends: files it never reached are named, not left to be guessed.
                let untried = files.indices.filter { sizes[$0] == nil }
                let names = untried.prefix(3).map { display(files[$0]) }.joined(separator: ", ") + (untried.count > 3 ? ", …" : "")
                note("\(confirmed) of \(files.count) files confirmed" + (untried.isEmpty ? "" : "; not sent: \(names)"))
            }
        }
    }

    func skipped(_ skipped: FolderWalk.Skipped) {
        printError("netconsole: \(display(skipped.path)) skipped: \(skipped.reason.sanitizedForDisplay)")
    }

    /// The last line of a folder send: what arrived, what was skipped, what failed.
    func summary(_ tree: TreeSendSummary) {
        clearLine()
        printNow(tree.line(with: summary))
    }

    /// A path as given, safe to print; a name that is not UTF-8 shows its bytes as `\xNN` (as the console's picker does),
    /// since its `String` holds only U+FFFD where they were.
    private func display(_ path: String) -> String {
        guard let bytes = RawArgumentPath.bytes(path) else { return path.sanitizedForDisplay }
        return PayloadText.lines(bytes).joined()
    }

    private func note(_ message: String) {
        clearLine()
        printError(message)
    }

    /// On a terminal, redraws at most ten times a second; otherwise prints a line at most every two seconds.
    private func draw(index: Int, force: Bool) {
        guard let meter else { return }
        let now = MonotonicClock.now()
        let interval = onTerminal ? 0.1 : 2.0
        guard force || now - lastDrawn >= interval || (meter.done == meter.total && onTerminal) else { return }
        lastDrawn = now
        let name = display(files[index])
        if onTerminal {
            let base = display(String(files[index].split(separator: "/").last ?? Substring(files[index])))
            let label = base.count > 24 ? base.prefix(23) + "…" : base
            StandardStreams.writeError("\r\u{1B}[K\(label) \(meter.bar(width: 20)) \(meter.summary)")
            lineShown = true
        } else if !force {
            printError("\(name): \(meter.summary)")
        }
    }

    private func clearLine() {
        guard lineShown else { return }
        StandardStreams.writeError("\r\u{1B}[K")
        lineShown = false
    }
}
