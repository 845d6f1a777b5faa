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
        var refused: [Int] = []
        var rejections: [String] = []
        var corruptNext = false

        mutating func chance(_ percent: UInt64) -> Bool { rng.next() % 100 < percent }

        // MARK: The client's side

        mutating func client(_ input: FileClientMachine.Input) {
            for action in client.handle(input) {
                switch action {
                case let .openFile(index):
                    if chance(5) {
                        client(.fileUnavailable(reason: "gone"))
                    } else {
                        client(.fileOpened(name: "file\(index)", size: Int64(contents[index].count)))
                    }
                case let .send(bytes):
                    if !clientEnded { toServer += bytes }
                case let .streamPayload(index):
                    streaming = index
                    streamed = 0
                case .setDeadline:
                    break
                case let .confirmed(index, _, sha256):
                    XCTAssertEqual(sha256, Array(SHA256.hash(data: contents[index])))
                    confirmed.append(index)
                    streaming = nil
                case let .refused(index, _):
                    refused.append(index)
                    streaming = nil
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
            let count = min(file.count - streamed, 1 + Int(rng.next() % 700))
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
                case .expectHeader, .clearDeadline, .started:
                    break
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
                case .discard:
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
            let count = min(toServer.count, 1 + Int(rng.next() % 900))
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
        var outcomes: [String: Int] = [:]
        for seed in 0..<400 {
            var rng = SeededGenerator(seed: UInt64(seed) &* 7919 &+ 1)
            let count = 1 + Int(rng.next() % 5)
            let contents = (0..<count).map { index -> [UInt8] in
                let size = rng.next() % 4 == 0 ? 0 : Int(rng.next() % 3000)
                return randomBytes(count: size, seed: UInt64(seed * 10 + index))
            }
            let maxSize = Int64(rng.next() % 8 == 0 ? 1000 : 1 << 20)
            var world = World(rng: rng, client: FileClientMachine(files: (0..<count).map { "file\($0)" }),
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
            XCTAssertEqual(finish.allConfirmed, world.confirmed.count == count && finish.failure == nil, "seed \(seed)")
            XCTAssertEqual(Set(world.confirmed).count, world.confirmed.count, "seed \(seed): each file confirmed once")
            if finish.failure == nil {
                XCTAssertEqual((world.confirmed + world.refused).sorted(), Array(0..<count), "seed \(seed): every file answered")
            }
            outcomes[finish.failure == nil ? (finish.allConfirmed ? "all" : "some refused") : "failed", default: 0] += 1
        }
        // The dice must reach every kind of ending, or the test proves little.
        XCTAssertGreaterThan(outcomes["all"] ?? 0, 50, "\(outcomes)")
        XCTAssertGreaterThan(outcomes["some refused"] ?? 0, 50, "\(outcomes)")
    }
}
