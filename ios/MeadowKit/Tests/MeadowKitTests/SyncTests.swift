import Foundation
import XCTest

@testable import MeadowKit

/// Two nodes over loopback, as two phones on one Wi-Fi: join from an invite, then a peer's change
/// reaches the other's model with no call.
@MainActor
final class SyncTests: XCTestCase {
    func testJoinOverLoopbackAndAPeersChangeArrivesThroughTheStream() async throws {
        let a = try freshNode()
        let b = try freshNode()
        let f = try await a.import(bytes: try fixture("wiese-v1.xml"))
        let owner = AppModel(node: a, clock: { fridayEvening })
        let phone = AppModel(node: b, clock: { fridayEvening })
        defer {
            owner.close()
            phone.close()
        }
        let started = await owner.startSync(lan: false)
        let invite = try XCTUnwrap(started.value?.invite)
        XCTAssertTrue(owner.net.running)
        XCTAssertEqual(DeepLink.parse(invite), .joinFestival(invite))
        let joined = await phone.follow(try XCTUnwrap(DeepLink.parse(invite)))
        XCTAssertEqual(joined.value, f)
        XCTAssertEqual(phone.current?.festival, f)
        let model = try XCTUnwrap(phone.current)
        let onPhone = try await b.programme(festival: f, day: nil)
        let onOwner = try await a.programme(festival: f, day: nil)
        XCTAssertEqual(onPhone, onOwner)
        await eventually("the joined programme in the model") { model.programme?.rows.isEmpty == false }
        // Nothing is asked of B: its model and a raw stream both hear A's announcement.
        let heard = Task { () -> Bool in
            for await change in b.changeStream(festival: f) where change.scopes.contains(.announcements) {
                return true
            }
            return false
        }
        try await a.announce(festival: f, text: "Gates open", urgent: false)
        await eventually("the announcement on the phone") { model.announcements.contains { $0.text == "Gates open" } }
        let viaStream = await heard.value
        XCTAssertTrue(viaStream)
        await eventually("the phone's status shows a peer") { phone.net.peers > 0 || phone.net.lastSync != nil }
        // A bad invite is an error to show, and joins nothing.
        let bad = await phone.join("meadow://join/meadowgarbage")
        XCTAssertNotNil(bad.failure)
        XCTAssertEqual(phone.festivals.count, 1)
        await phone.stopSync()
        await owner.stopSync()
        XCTAssertFalse(owner.net.running)
    }
}
