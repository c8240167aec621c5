import Foundation
import XCTest

@testable import MeadowKit

/// One end of two OS pipes: what a Multipeer stream pair looks like to the link.
final class PipeEnd: ByteStream, @unchecked Sendable {
    private let reading: FileHandle
    private let writing: FileHandle
    private let lock = NSLock()
    private var closed = false

    init(reading: FileHandle, writing: FileHandle) {
        self.reading = reading
        self.writing = writing
    }

    /// Two ends joined both ways.
    static func pair() -> (PipeEnd, PipeEnd) {
        let ab = Pipe()
        let ba = Pipe()
        return (
            PipeEnd(reading: ba.fileHandleForReading, writing: ab.fileHandleForWriting),
            PipeEnd(reading: ab.fileHandleForReading, writing: ba.fileHandleForWriting)
        )
    }

    // `availableData` returns what the pipe holds as soon as it holds something (Linux
    // Foundation's `read(upToCount:)` waits for the whole count).
    func read(max: Int) -> Data { reading.availableData }

    func write(_ data: Data) -> Bool { (try? writing.write(contentsOf: data)) != nil }

    func close() {
        // Closing our writing end ends the peer's read; our read ends when the peer closes.
        let first = lock.withLock {
            defer { closed = true }
            return !closed
        }
        if first { try? writing.close() }
    }
}

/// The Multipeer stream adapter: a sync over a byte stream, through the real library.
final class StreamLinkTests: XCTestCase {
    func testAStreamLinkSyncsTwoNodesAsAMultipeerSessionWould() async throws {
        let a = try freshNode()
        let b = try freshNode()
        let f = try await a.import(bytes: try fixture("wiese-v2.xml"))
        let (ea, eb) = PipeEnd.pair()
        async let answered = StreamLink.answer(node: a, stream: ea)
        let dialled = try await StreamLink.dial(node: b, festival: f, stream: eb)
        let answer = await answered
        XCTAssertEqual(dialled?.finished, true, "\(String(describing: dialled))")
        XCTAssertEqual(answer?.finished, true, "\(String(describing: answer))")
        XCTAssertEqual(dialled?.opsReceived, answer?.opsSent)
        let onB = try await b.programme(festival: f, day: nil)
        let onA = try await a.programme(festival: f, day: nil)
        XCTAssertEqual(onB, onA)
        // The swap said it came over Multipeer.
        let first = try XCTUnwrap(onB.first)
        let detail = try await b.eventDetail(festival: f, event: first.id)
        let origin = try await b.opOrigin(festival: f, op: detail.event.id)
        XCTAssertEqual(origin.via, .multipeer)
    }

    func testGarbageOnTheStreamEndsTheLinkAndChangesNothing() async throws {
        let a = try freshNode()
        let f = try await a.import(bytes: try fixture("wiese-v2.xml"))
        let before = try await a.programme(festival: f, day: nil)
        let (ea, eb) = PipeEnd.pair()
        async let answered = StreamLink.answer(node: a, stream: ea)
        XCTAssertTrue(eb.write(Data(repeating: 0xEE, count: 4096)))
        let end = await answered
        eb.close()
        XCTAssertEqual(end?.finished, false)
        let after = try await a.programme(festival: f, day: nil)
        XCTAssertEqual(after, before)
    }

    func testFoundationStreamsCarryBytesBothWays() throws {
        let input = InputStream(data: Data([1, 2, 3, 4, 5]))
        let output = OutputStream.toMemory()
        let stream = FoundationByteStream(input: input, output: output)
        XCTAssertEqual(stream.read(max: 3), Data([1, 2, 3]))
        XCTAssertEqual(stream.read(max: 16), Data([4, 5]))
        XCTAssertEqual(stream.read(max: 16), Data(), "the end reads as empty")
        XCTAssertTrue(stream.write(Data([9, 8, 7])))
        let written = output.property(forKey: .dataWrittenToMemoryStreamKey) as? Data
        XCTAssertEqual(written, Data([9, 8, 7]))
        stream.close()
    }

    func testMultipeerStreamsArePairedOneEachWayAndTheLowerNameDials() {
        let pairing = StreamPairing<String>(me: "meadow-bbb", cooldown: 300)
        XCTAssertTrue(pairing.dials("meadow-ccc"))
        XCTAssertFalse(pairing.dials("meadow-aaa"), "exactly one side dials")
        XCTAssertNil(pairing.outgoing(OutputStream.toMemory(), to: "meadow-ccc"), "half a pair is no stream")
        XCTAssertEqual(pairing.waiting, 1)
        let paired = pairing.incoming(InputStream(data: Data([7, 8])), from: "meadow-ccc")
        XCTAssertNotNil(paired)
        XCTAssertEqual(paired?.read(max: 8), Data([7, 8]))
        XCTAssertEqual(pairing.waiting, 0, "a pair is handed out once")
        // Another peer's half does not pair with this one's; a dropped peer's half is forgotten.
        XCTAssertNil(pairing.incoming(InputStream(data: Data()), from: "meadow-ddd"))
        XCTAssertNil(pairing.outgoing(OutputStream.toMemory(), to: "meadow-eee"))
        pairing.dropped("meadow-ddd")
        XCTAssertNil(pairing.outgoing(OutputStream.toMemory(), to: "meadow-ddd"), "paired with a dropped half")
        pairing.dropped("meadow-ddd")
        pairing.dropped("meadow-eee")
        XCTAssertEqual(pairing.waiting, 0)
        // Invitations: only the dialling side, and not again within the cool-down.
        let t0 = Date(timeIntervalSince1970: 1_000_000)
        XCTAssertTrue(pairing.mayInvite("meadow-ccc", now: t0))
        XCTAssertFalse(pairing.mayInvite("meadow-aaa", now: t0))
        pairing.synced("meadow-ccc", at: t0)
        XCTAssertFalse(pairing.mayInvite("meadow-ccc", now: t0.addingTimeInterval(299)))
        XCTAssertTrue(pairing.mayInvite("meadow-ccc", now: t0.addingTimeInterval(300)))
    }
}
