import Foundation
import XCTest

@testable import MeadowKit

/// A manual millisecond clock, shared by the radios of a test.
final class TestClock: @unchecked Sendable {
    private let lock = NSLock()
    private var ms: UInt64 = 1_000

    var now: UInt64 { lock.withLock { ms } }

    func advance(_ by: UInt64) { lock.withLock { ms += by } }
}

/// The air between simulated phones: each phone's `RadioHardware`, joined by GATT at one ATT MTU.
/// It delivers packets through the other phone's radio callbacks, as CoreBluetooth would, and can
/// drop a connection after a number of packets.
final class Air: @unchecked Sendable {
    let mtu: UInt32
    private let lock = NSLock()
    private var phones: [UInt64: Phone] = [:]
    /// Packets carried so far.
    private(set) var packets = 0
    /// Drop the connection once this many packets went through (nil: never).
    var dropAfter: Int?
    private var tooLong: [Int] = []

    init(mtu: UInt32) { self.mtu = mtu }

    var oversized: [Int] { lock.withLock { tooLong } }

    final class Phone: RadioHardware, @unchecked Sendable {
        let id: UInt64
        unowned let air: Air
        var radio: ProximityRadio?
        private let lock = NSLock()
        private(set) var advertised: Data?
        private(set) var scanning = false
        private(set) var connects: [(UInt64, Bool)] = []

        init(id: UInt64, air: Air) {
            self.id = id
            self.air = air
        }

        func startScan() { lock.withLock { scanning = true } }
        func stopScan() { lock.withLock { scanning = false } }
        func advertise(serviceData: Data) { lock.withLock { advertised = serviceData } }
        func stopAdvertising() { lock.withLock { advertised = nil } }
        var isScanning: Bool { lock.withLock { scanning } }
        var advertisement: Data? { lock.withLock { advertised } }
        var connectCount: Int { lock.withLock { connects.count } }

        func connect(peer: UInt64, readState: Bool) {
            lock.withLock { connects.append((peer, readState)) }
            air.connect(from: self, to: peer, readState: readState)
        }

        func subscribe(peer: UInt64) { air.subscribe(from: self, to: peer) }

        func send(peer: UInt64, packet: Data, asCentral: Bool) -> Bool {
            air.carry(from: id, to: peer, packet)
            return true
        }

        func disconnect(peer: UInt64) { air.drop(id, peer) }
    }

    func phone(_ id: UInt64) -> Phone {
        let p = Phone(id: id, air: self)
        lock.withLock { phones[id] = p }
        return p
    }

    private func radio(_ id: UInt64) -> ProximityRadio? { lock.withLock { phones[id]?.radio } }

    private var connections: Set<[UInt64]> = []

    fileprivate func connect(from central: Phone, to peer: UInt64, readState: Bool) {
        guard let target = radio(peer) else {
            central.radio?.disconnected(peer: peer)
            return
        }
        lock.withLock { _ = connections.insert([central.id, peer].sorted()) }
        if readState {
            central.radio?.stateRead(peer: peer, value: target.stateValue())
        } else {
            subscribe(from: central, to: peer)
        }
    }

    fileprivate func subscribe(from central: Phone, to peer: UInt64) {
        // The peripheral learns of the central when it subscribes to RX.
        radio(peer)?.incoming(peer: central.id)
        radio(peer)?.mtuChanged(peer: central.id, mtu: mtu)
        central.radio?.centralReady(peer: peer, mtu: mtu)
    }

    fileprivate func carry(from: UInt64, to: UInt64, _ packet: Data) {
        let (drop, count): (Bool, Int) = lock.withLock {
            guard connections.contains([from, to].sorted()) else { return (false, -1) }
            packets += 1
            if packet.count > Int(mtu) - 3 { tooLong.append(packet.count) }
            return (dropAfter.map { packets >= $0 } ?? false, packets)
        }
        guard count >= 0 else { return }
        if drop {
            self.drop(from, to)
            return
        }
        radio(to)?.received(peer: from, bytes: packet)
    }

    fileprivate func drop(_ a: UInt64, _ b: UInt64) {
        let was = lock.withLock { connections.remove([a, b].sorted()) != nil }
        guard was else { return }
        radio(a)?.disconnected(peer: b)
        radio(b)?.disconnected(peer: a)
    }
}

/// The Bluetooth link logic (what the app's CoreBluetooth glue calls) against simulated radios
/// at MTU 185, over the real library.
final class RadioTests: XCTestCase {
    /// Lets time pass in steps until `check` holds (at most `seconds` of radio time).
    private func run(
        _ clock: TestClock, _ radios: [ProximityRadio], seconds: UInt64, until check: () async throws -> Bool
    ) async rethrows -> Bool {
        for _ in 0..<(seconds * 2) {
            for r in radios {
                r.pump()
                await r.settle()
            }
            if try await check() { return true }
            clock.advance(500)
        }
        return false
    }

    /// Phone A holding the festival and phone B holding nothing, each with a started radio on `air`.
    private func twoPhones(_ air: Air, _ clock: TestClock) async throws -> (
        MeadowNode, MeadowNode, String, Air.Phone, Air.Phone, ProximityRadio, ProximityRadio
    ) {
        let a = try freshNode()
        let b = try freshNode()
        let f = try await a.import(bytes: try fixture("wiese-v2.xml"))
        let pa = air.phone(1)
        let pb = air.phone(2)
        let ra = ProximityRadio(node: a, festival: f, hardware: pa, clock: { clock.now })
        let rb = ProximityRadio(node: b, festival: f, hardware: pb, clock: { clock.now })
        pa.radio = ra
        pb.radio = rb
        try await ra.start()
        try await rb.start()
        return (a, b, f, pa, pb, ra, rb)
    }

    func testTwoPhonesFindEachOtherAndSwapAtMtu185() async throws {
        let air = Air(mtu: 185)
        let clock = TestClock()
        let (a, b, f, pa, pb, ra, rb) = try await twoPhones(air, clock)
        // A advertises what it holds and both scan, as the scheduler asked.
        let found = await run(clock, [ra, rb], seconds: 10) { pa.advertisement != nil && pb.isScanning }
        XCTAssertTrue(found)
        let ad = try XCTUnwrap(pa.advertisement)
        XCTAssertEqual(ad.count, 10)
        XCTAssertNotNil(ra.stateValue())
        // B's scan sees A: the scheduler connects, and the swap runs over the simulated GATT link.
        rb.discovered(peer: 1, serviceData: ad)
        let swapped = try await run(clock, [ra, rb], seconds: 60) {
            try await b.programme(festival: f, day: nil) == (try await a.programme(festival: f, day: nil))
        }
        XCTAssertTrue(swapped, "the festival never reached B over the radio")
        XCTAssertEqual(air.oversized, [], "packets over the MTU")
        XCTAssertGreaterThan(air.packets, 4)
        _ = await run(clock, [ra, rb], seconds: 5) { ra.openLinks == 0 && rb.openLinks == 0 }
        XCTAssertTrue(rb.ended.contains { $0.finished && $0.festival == f && $0.opsReceived > 0 }, "\(rb.ended)")
        // B now holds the same: after A's next advertisement, it does not connect again.
        let connects = pb.connectCount
        ra.storeChanged()
        rb.storeChanged()
        _ = await run(clock, [ra, rb], seconds: 20) { false }
        rb.discovered(peer: 1, serviceData: try XCTUnwrap(pa.advertisement))
        _ = await run(clock, [ra, rb], seconds: 20) { false }
        XCTAssertEqual(pb.connectCount, connects, "phones that agree connected again")
        ra.stop()
        rb.stop()
    }

    func testALinkThatDropsMidSwapKeepsWhatArrivedAndTheNextSwapFinishes() async throws {
        let air = Air(mtu: 185)
        let clock = TestClock()
        let (a, b, f, pa, pb, ra, rb) = try await twoPhones(air, clock)
        _ = await run(clock, [ra, rb], seconds: 10) { pa.advertisement != nil }
        air.dropAfter = 6
        rb.discovered(peer: 1, serviceData: try XCTUnwrap(pa.advertisement))
        let dropped = await run(clock, [ra, rb], seconds: 30) {
            rb.ended.count + ra.ended.count > 0 || pb.connectCount > 0 && rb.openLinks == 0
        }
        XCTAssertTrue(dropped)
        _ = await run(clock, [ra, rb], seconds: 5) { rb.openLinks == 0 && ra.openLinks == 0 }
        XCTAssertFalse(rb.ended.contains { $0.finished }, "a swap cut after 6 packets cannot have finished")
        // The air is clear again: the scheduler retries (after its backoff) and the swap finishes.
        air.dropAfter = nil
        let finished = try await run(clock, [ra, rb], seconds: 300) {
            rb.discovered(peer: 1, serviceData: pa.advertisement ?? Data())
            return try await b.programme(festival: f, day: nil) == (try await a.programme(festival: f, day: nil))
        }
        XCTAssertTrue(finished, "the swap never finished after the drop")
        XCTAssertGreaterThanOrEqual(pb.connectCount, 2)
        XCTAssertEqual(air.oversized, [])
        ra.stop()
        rb.stop()
    }

    func testGarbageFromACentralEndsTheLinkAndChangesNothing() async throws {
        let air = Air(mtu: 185)
        let clock = TestClock()
        let a = try freshNode()
        let f = try await a.import(bytes: try fixture("wiese-v2.xml"))
        let before = try await a.programme(festival: f, day: nil)
        let pa = air.phone(1)
        let ra = ProximityRadio(node: a, festival: f, hardware: pa, clock: { clock.now })
        pa.radio = ra
        try await ra.start()
        ra.incoming(peer: 9)
        await ra.settle()
        XCTAssertEqual(ra.openLinks, 1)
        // An Open, then a data segment claiming a 4 GB frame.
        ra.received(peer: 9, bytes: Data([0x80, 1, 48]))
        ra.received(peer: 9, bytes: Data([0x01, 0xff, 0xff, 0xff, 0xff]))
        await ra.settle()
        XCTAssertEqual(ra.openLinks, 0)
        let end = try XCTUnwrap(ra.ended.first)
        XCTAssertFalse(end.finished)
        XCTAssertTrue(end.error?.contains("over the limit") == true, "\(String(describing: end.error))")
        let after = try await a.programme(festival: f, day: nil)
        XCTAssertEqual(after, before)
        // A peer whose advertisement does not decode is ignored.
        ra.discovered(peer: 5, serviceData: Data([1, 2, 3]))
        await ra.settle()
        XCTAssertEqual(pa.connectCount, 0)
        ra.stop()
    }
}
