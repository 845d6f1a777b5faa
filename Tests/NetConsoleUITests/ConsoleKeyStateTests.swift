import Foundation
import NetConsoleUI
import NetEngine
import XCTest

/// Keys that never do damage: the state alone, no terminal.
final class ConsoleKeyStateTests: XCTestCase {
    private let peer = try! SocketAddress.resolve(host: "127.0.0.1", port: 5000)[0]

    private func state() -> ConsoleState {
        var state = ConsoleState(saveDirectory: "/tmp", pickerDirectory: "/tmp")
        state.apply(.listening(service: "echo", address: try! SocketAddress.resolve(host: "127.0.0.1", port: 4000)[0]), now: 0, clock: "t")
        state.apply(.listening(service: "files", address: try! SocketAddress.resolve(host: "127.0.0.1", port: 4001)[0]), now: 0, clock: "t")
        return state
    }

    private func type(_ text: String, into state: inout ConsoleState) -> [ConsoleAction] {
        text.compactMap { state.handle(.character($0)) }
    }

    func testLettersTypedAtLaunchAreTextNotCommands() {
        var state = state()
        XCTAssertEqual(state.focus, .message)
        XCTAssertEqual(type("quick question test message", into: &state), [])
        XCTAssertEqual(state.message.text, "quick question test message")
        XCTAssertEqual(state.serviceSelection, .both)
    }

    func testAltKeysAreNeverCommandsAndEditWordsInFields() {
        var state = state()
        _ = type("hello world", into: &state)
        for key: Key in [.alt("q"), .alt("s"), .alt("m"), .altBackspace, .alt("b")] { XCTAssertNil(state.handle(key)) }
        XCTAssertEqual(state.focus, .message)
        XCTAssertEqual(state.message.text, "hello ")
        _ = state.handle(.escape)
        for key: Key in [.alt("q"), .alt("s"), .alt("m")] { XCTAssertNil(state.handle(key), "Alt in the server pane is no command either") }
        XCTAssertEqual(state.serviceSelection, .both)
    }

    func testCtrlLRepaintsAndCtrlQQuitsWhenNothingIsLost() {
        var state = state()
        XCTAssertEqual(state.handle(.control("l")), .repaint)
        XCTAssertEqual(state.handle(.control("s")), nil)
        XCTAssertEqual(state.handle(.control("q")), .quit)
    }

    func testAPasteIsInsertedLiterallyAndSentAsOneMessage() {
        var state = state()
        XCTAssertNil(state.handle(.paste("one\ttwo\nnotes.txt\n")))
        XCTAssertEqual(state.focus, .message)
        XCTAssertEqual(state.message.visibleSlice(width: 40).text, "one⇥two⏎notes.txt⏎")
        XCTAssertEqual(state.handle(.enter), .sendEcho(target: "127.0.0.1:4000", message: "one\ttwo\nnotes.txt\n"))
        _ = state.handle(.escape)
        XCTAssertNil(state.handle(.paste("qsm")), "a paste in the server pane runs no command")
        XCTAssertEqual(state.focus, .message)
        XCTAssertEqual(state.message.text, "qsm")
        _ = state.handle(.tab)
        XCTAssertNil(state.handle(.paste("x\ty")))
        XCTAssertEqual(state.focus, .fileTarget, "a pasted Tab does not move on")
    }

    func testStopSwitchAndQuitAskWhenConnectionsOrATransferWouldBeLost() {
        var state = state()
        state.apply(.connectionOpened(id: 1, service: "echo", peer: peer), now: 0, clock: "t")
        state.apply(.connectionOpened(id: 2, service: "files", peer: peer), now: 0, clock: "t")
        state.apply(.uploadStarted(id: 2, name: "big.iso", size: 1 << 30), now: 0, clock: "t")
        _ = state.handle(.escape)

        XCTAssertNil(state.handle(.character("s")))
        XCTAssertEqual(state.confirmation?.title, "Stop listening?")
        XCTAssertEqual(state.confirmation?.detail.first, "2 open connections will be closed")
        XCTAssertNil(state.handle(.character("q")), "other keys wait for an answer")
        XCTAssertNil(state.handle(.character("n")))
        XCTAssertNil(state.confirmation)

        // echo + files → echo drops the upload.
        XCTAssertNil(state.handle(.character("m")))
        XCTAssertEqual(state.confirmation?.detail, ["1 open connection will be closed", "upload of big.iso stops (kept to resume if its sender can)"])
        XCTAssertEqual(state.serviceSelection, .both, "nothing changes before the answer")
        XCTAssertEqual(state.handle(.character("y")), .selectServices(.echoOnly))
        XCTAssertEqual(state.serviceSelection, .echoOnly)

        for key: Key in [.character("q"), .function(10), .control("c"), .control("q")] {
            XCTAssertNil(state.handle(key))
            XCTAssertEqual(state.confirmation?.title, "Quit netconsole?")
            XCTAssertNil(state.handle(.escape))
        }
        _ = state.handle(.character("q"))
        XCTAssertEqual(state.handle(.enter), .quit)
    }

    func testAClientTransferInFlightAsksBeforeQuitting() {
        var state = state()
        state.beginTransfer(name: "photo.jpg")
        XCTAssertNil(state.handle(.control("c")))
        XCTAssertEqual(state.confirmation?.detail, ["sending photo.jpg will stop"])
        XCTAssertEqual(state.handle(.character("y")), .quit)
    }
}
