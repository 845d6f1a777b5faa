import Crypto
import NetEngine
import XCTest

/// The client and the server machines against each other, with no socket: the bytes between them cut at random
/// points, the payload handed over in random pieces, and the server's answers (refusals, write failures, failed
/// publishes, corrupted bytes) drawn at random. Whatever happens, the two must stay in step: every file the client
/// reports saved was published with exactly its bytes, nothing else was published, the stream never desynchronises
/// (no 400), and the session always ends.
final class FileMachinesFuzzTests: XCTestCase {
    private struct World {
        var rng: SeededGenerator
        var client: FileClientMachine
        var server: FileServerMachine
        let contents: [[UInt8]]
        var toServer: [UInt8] = []
        var toClient: [UInt8] = []
        var clientEnded = false
        var clientFinish: (failure: String?, allConfirmed: Bool)?
        var serverClosed = false
        var serverSawEnd = false
        var streaming: Int?
        var streamed = 0
        var stored: [UInt8] = []
        var storing = false
        var pendingPublish: (name: String, sha256: [UInt8])?
        var published: [[UInt8]] = []
        var confirmed: [Int] = []
        var foldersConfirmed = 0
        var foldersMade = 0
        var treesEnded = 0
        var refused: [Int] = []
        var rejections: [String] = []
        var corruptNext = false
        var resumed = 0

        mutating func chance(_ percent: UInt64) -> Bool { rng.next() % 100 < percent }

        // MARK: The client's side

        mutating func client(_ input: FileClientMachine.Input) {
            for action in client.handle(input) {
                switch action {
                case let .openFile(index):
                    if chance(5) {
                        client(.fileUnavailable(reason: "gone"))
                    } else {
                        let name = client.entries[index] == .treeFile ? "t/file\(index)" : "file\(index)"
                        client(.fileOpened(name: name, size: Int64(contents[index].count)))
                    }
                case let .send(bytes):
                    if !clientEnded { toServer += bytes }
                case let .streamPayload(index):
                    streaming = index
                    streamed = 0
                case let .resumePayload(index, offset):
                    streaming = index
                    streamed = Int(offset)
                    resumed += 1
                case .setDeadline:
                    break
                case let .confirmed(index, _, sha256):
                    XCTAssertEqual(sha256, Array(SHA256.hash(data: contents[index])))
                    confirmed.append(index)
                case .folderConfirmed:
                    foldersConfirmed += 1
                case let .refused(index, _):
                    refused.append(index)
                    if index == streaming { streaming = nil }
                case let .finish(failure, allConfirmed, _):
                    clientFinish = (failure, allConfirmed)
                    clientEnded = true
                    streaming = nil
                }
            }
        }

        /// The client hands a random piece of the payload to the connection.
        mutating func streamSome() {
            guard let index = streaming, !clientEnded else { return }
            let file = contents[index]
            // Big files go in bigger random pieces, so the test stays quick.
            let count = min(file.count - streamed, 1 + Int(rng.next() % (file.count > 100_000 ? 200_000 : 700)))
            var piece = Array(file[streamed..<streamed + count])
            if corruptNext, !piece.isEmpty {
                piece[0] ^= 0xFF
                corruptNext = false
            }
            toServer += piece
            streamed += count
            if count > 0 { client(.payloadProgress(sent: Int64(streamed))) }
            if streamed == file.count {
                streaming = nil
                client(.payloadComplete(sha256: Array(SHA256.hash(data: file))))
            }
        }

        // MARK: The server's side

        mutating func server(_ actions: [FileServerMachine.Action], input: [UInt8]) {
            for action in actions {
                guard !serverClosed else { return }
                switch action {
                case .expectHeader, .clearDeadline, .started, .treeStarted:
                    break
                case let .makeFolder(components):
                    if chance(10) {
                        server(server.folderMade(.failure(FileTransferError(code: 403, message: "refused"))), input: input)
                    } else {
                        foldersMade += 1
                        server(server.folderMade(.success(components.joined(separator: "/"))), input: input)
                    }
                case .treeEnded:
                    treesEnded += 1
                case let .openResumable(name, _, size, _):
                    // Now and then the server has kept a part of this file from an earlier attempt.
                    let index = Int(name.dropFirst("file".count)) ?? 0
                    let offset = chance(50) ? Int(rng.next() % UInt64(size + 1)) : 0
                    stored = Array(contents[index].prefix(offset))
                    storing = true
                    server(server.opened(refusal: nil, offset: Int64(offset)), input: input)
                case .open:
                    stored = []
                    storing = true
                    let refusal: (Int, String)? = chance(15) ? (507, "no space") : nil
                    if refusal != nil { storing = false }
                    server(server.opened(refusal: refusal), input: input)
                case let .store(range):
                    XCTAssertTrue(storing, "bytes stored only into an open file")
                    stored += input[range]
                    if chance(2) { server(server.storeFailed("cannot write: disk full"), input: input) }
                case let .publish(name, sha256):
                    pendingPublish = (name, sha256)
                case .discard, .keep:
                    storing = false
                    stored = []
                case let .reply(reply):
                    toClient += Array(reply.line.utf8)
                case let .rejected(reason):
                    rejections.append(reason)
                case .close, .drop:
                    serverClosed = true
                }
            }
        }

        mutating func deliverToServer() {
            guard !serverClosed, server.takesInput, !toServer.isEmpty else { return }
            let count = min(toServer.count, 1 + Int(rng.next() % UInt64(max(900, toServer.count / 2))))
            let chunk = Array(toServer.prefix(count))
            var offset = 0
            while !serverClosed {
                let actions = chunk.withUnsafeBytes { server.receive($0, offset: &offset) }
                guard let actions else { break }
                server(actions, input: chunk)
            }
            toServer.removeFirst(offset)
        }

        mutating func finishPublish() {
            guard let (name, sha256) = pendingPublish, !serverClosed else { return }
            pendingPublish = nil
            let reply: FileTransferReply
            if Array(SHA256.hash(data: stored)) != sha256 {
                reply = .error(code: 422, message: "checksum mismatch")
            } else if chance(10) {
                reply = .error(code: 507, message: "cannot save \(name)")
            } else {
                published.append(stored)
                reply = .saved(name: name)
            }
            storing = false
            server(server.published(reply), input: [])
        }

        mutating func deliverToClient() {
            guard !toClient.isEmpty, !clientEnded else { return }
            let count = min(toClient.count, 1 + Int(rng.next() % 20))
            let chunk = Array(toClient.prefix(count))
            toClient.removeFirst(count)
            client(.received(chunk))
        }

        /// One random step; false once nothing can happen any more.
        mutating func step() -> Bool {
            if clientEnded && !serverSawEnd && toServer.isEmpty && !serverClosed && server.takesInput {
                serverSawEnd = true
                server(server.peerEnded(), input: [])
            }
            if serverClosed && toClient.isEmpty && !clientEnded {
                client(.peerClosed)
            }
            if clientEnded && (serverClosed || serverSawEnd) { return false }
            switch rng.next() % 5 {
            case 0: streamSome()
            case 1: deliverToServer()
            case 2: finishPublish()
            case 3: deliverToClient()
            default:
                if streaming != nil && chance(1) { corruptNext = true }
            }
            return true
        }
    }

    func testTheMachinesStayInStepWhateverTheCutsAndTheAnswers() {
        fuzz(trees: false)
    }

    /// The same with folder trees: pipelined folders, eager files, the tree's end, now and then a file too large to
    /// go eagerly (it waits for the answers before it), and a file on its own after the tree.
    func testPipelinedTreesStayInStepWhateverTheCutsAndTheAnswers() {
        fuzz(trees: true)
    }

    private func fuzz(trees: Bool) {
        var outcomes: [String: Int] = [:]
        var resumedTotal = 0
        for seed in 0..<(trees ? 300 : 400) {
            var rng = SeededGenerator(seed: UInt64(seed) &* 7919 &+ (trees ? 2 : 1))
            let count = 1 + Int(rng.next() % (trees ? 12 : 5))
            var entries: [FileClientMachine.Entry] = []
            let contents = (0..<count).map { index -> [UInt8] in
                var size = rng.next() % 4 == 0 ? 0 : Int(rng.next() % 3000)
                if trees {
                    switch index {
                    case 0:
                        // Half the trees announce a total (the dice are left alone, so the sequences stay the same).
                        let total = seed % 2 == 0 ? TreeTotal(files: Int64(seed), bytes: Int64(seed) << 40) : nil
                        entries.append(.treeFolder(path: "t", total: total))
                        return []
                    case count - 1 where count > 2: entries.append(.treeEnd(top: "t", skipped: 0)); return []
                    case count - 2 where count > 3 && rng.next() % 3 == 0: entries.append(.file)
                    case _ where rng.next() % 6 == 0: entries.append(.treeFolder(path: "t/d\(index)")); return []
                    default:
                        entries.append(.treeFile)
                        if rng.next() % 15 == 0 { size = Int(FileClientMachine.eagerLimit) + 1 + Int(rng.next() % 2000) }
                    }
                } else {
                    entries.append(rng.next() % 2 == 0 ? .file : .resumableFile)
                }
                return randomBytes(count: size, seed: UInt64(seed * 100 + index))
            }
            let maxSize = Int64(rng.next() % 8 == 0 ? 1000 : 4 << 20)
            var world = World(rng: rng, client: FileClientMachine(files: (0..<count).map { "file\($0)" }, entries: entries),
                              server: FileServerMachine(settings: .init(maxSize: maxSize)), contents: contents)
            world.server(world.server.start(), input: [])
            world.client(.connected(peer: "127.0.0.1:9"))
            var steps = 0
            while world.step() {
                steps += 1
                if steps > 200_000 { break }
            }
            XCTAssertLessThanOrEqual(steps, 200_000, "seed \(seed): the session never ended")
            guard let finish = world.clientFinish else { XCTFail("seed \(seed): the client never finished"); continue }
            XCTAssertFalse(world.rejections.contains { $0.hasPrefix("400") }, "seed \(seed): out of step: \(world.rejections)")
            XCTAssertEqual(world.confirmed.map { contents[$0] }, world.published, "seed \(seed): saved exactly what the client confirmed")
            XCTAssertEqual(finish.allConfirmed, world.refused.isEmpty && finish.failure == nil, "seed \(seed)")
            XCTAssertEqual(Set(world.confirmed).count, world.confirmed.count, "seed \(seed): each file confirmed once")
            if finish.failure == nil {
                let answerable = entries.indices.filter { index in
                    if case .treeEnd = entries[index] { return false } else { return true }
                }
                let folders = entries.indices.filter { index in
                    if case .treeFolder = entries[index] { return true } else { return false }
                }
                XCTAssertEqual(Set(world.confirmed + world.refused).union(folders).sorted(), answerable, "seed \(seed): every entry answered")
                XCTAssertEqual(world.foldersConfirmed, world.foldersMade, "seed \(seed)")
            }
            outcomes[finish.failure == nil ? (finish.allConfirmed ? "all" : "some refused") : "failed", default: 0] += 1
            resumedTotal += world.resumed
        }
        // The dice must reach every kind of ending, or the test proves little.
        XCTAssertGreaterThan(outcomes["all"] ?? 0, 40, "\(outcomes)")
        XCTAssertGreaterThan(outcomes["some refused"] ?? 0, 40, "\(outcomes)")
        if !trees { XCTAssertGreaterThan(resumedTotal, 50, "resumed uploads must be exercised") }
    }
}
