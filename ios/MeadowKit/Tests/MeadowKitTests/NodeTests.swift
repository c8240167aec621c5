import Foundation
import XCTest

@testable import MeadowKit

/// Collects what a listener hears, so a test can wait for one change with a bound.
final class Heard: ChangeListener, @unchecked Sendable {
    private let lock = NSLock()
    private var heard: [StoreChange] = []

    func onChange(change: StoreChange) throws { lock.withLock { heard.append(change) } }

    var all: [StoreChange] { lock.withLock { heard } }

    func clear() { lock.withLock { heard.removeAll() } }

    func await(_ festival: String, _ scope: Scope) async {
        await eventually("a \(scope) change of \(festival)") {
            all.contains { $0.festival == festival && $0.scopes.contains(scope) }
        }
    }
}

/// The bindings against the real library: what the app's models stand on.
final class NodeTests: XCTestCase {
    func testTheDemoOpensWithFourDaysAnd376Events() async throws {
        let node = try freshNode()
        let f = try await node.createDemo(startDate: "2026-07-10")
        let days = try await node.days(festival: f)
        XCTAssertEqual(days.map(\.date), ["2026-07-10", "2026-07-11", "2026-07-12", "2026-07-13"])
        XCTAssertEqual(days.reduce(0) { $0 + $1.events }, 376)
        let festivals = try await node.festivals()
        XCTAssertEqual(festivals.map(\.id), [f])
        let standing = try await node.standing(festival: f)
        XCTAssertEqual(standing, .owner)
    }

    func testADayIsReadByVenueAndAPageAtATimeInTheSameOrder() async throws {
        let node = try freshNode()
        let f = try await node.import(bytes: try fixture("wiese-v2.xml"))
        let facets = try await node.facets(festival: f)
        XCTAssertEqual(facets.venues.map(\.name), ["Große Bühne", "Zelt B", "Werkstatt"])
        let day = ProgrammeQuery(day: "2026-07-10")
        let all = try await node.dayView(festival: f, query: day, offset: 0, limit: 1000)
        XCTAssertGreaterThan(all.rows.count, 2)
        let first = try await node.dayView(festival: f, query: day, offset: 0, limit: 2)
        let rest = try await node.dayView(festival: f, query: day, offset: 2, limit: 1000)
        XCTAssertEqual(first.total, UInt32(all.rows.count))
        // Each page names its own venues and tracks; the rows come in the same order.
        XCTAssertEqual((first.rows + rest.rows).map(\.id), all.rows.map(\.id))
        XCTAssertEqual(first.venues.count + rest.venues.count >= all.venues.count, true)
        let zelt = try XCTUnwrap(facets.venues.first { $0.name == "Zelt B" })
        let inZelt = try await node.dayView(
            festival: f, query: ProgrammeQuery(day: "2026-07-10", venueId: zelt.id), offset: 0, limit: 1000)
        XCTAssertFalse(inZelt.rows.isEmpty)
        XCTAssertTrue(inZelt.rows.allSatisfy { $0.venue.map { inZelt.venues[Int($0)] } == "Zelt B" })
        let search = try await node.search(festival: f, query: "Night Drive", limit: nil)
        XCTAssertEqual(search.first?.title, "Nachtkonzert: 東京 Night Drive")
    }

    func testImportingANewVersionSaysWhatChangedSinceTheLastLook() async throws {
        let node = try freshNode()
        let f = try await node.import(bytes: try fixture("wiese-v1.xml"))
        let v1 = try await node.programme(festival: f, day: nil)
        XCTAssertEqual(v1.count, 8)
        _ = try await node.changes(festival: f, markSeen: true)
        _ = try await node.import(bytes: try fixture("wiese-v2.xml"))
        let kinds = try await node.changes(festival: f, markSeen: true).map { change -> String in
            switch change.kind {
            case .new: return "new"
            case .moved: return "moved"
            case .cancelled: return "cancelled"
            default: return "other"
            }
        }
        XCTAssertEqual(kinds.sorted(), ["cancelled", "moved", "new"])
        let left = try await node.changes(festival: f, markSeen: false)
        XCTAssertEqual(left, [])
    }

    func testABadFileIsRefusedAndChangesNothing() async throws {
        let node = try freshNode()
        let f = try await node.import(bytes: try fixture("wiese-v1.xml"))
        let before = try await node.programme(festival: f, day: nil)
        let refused = await outcome { try await node.import(bytes: Data("<schedule><day".utf8)) }
        XCTAssertNotNil(refused.failure)
        let after = try await node.programme(festival: f, day: nil)
        XCTAssertEqual(after, before)
    }

    func testAClosedSubscriptionHearsNothing() async throws {
        let node = try freshNode()
        let heard = Heard()
        let subscription = node.subscribe(listener: heard)
        let f = try await node.createFestival(
            name: "Wiese", timezone: "UTC", startDate: "2026-07-10", endDate: "2026-07-10")
        await heard.await(f, .festival)
        subscription.cancel()
        XCTAssertFalse(subscription.isActive())
        heard.clear()
        _ = try await node.addVenue(festival: f, name: "Zelt")
        try await Task.sleep(nanoseconds: 200_000_000)
        XCTAssertEqual(heard.all, [], "a closed subscription still heard a change")
    }

    func testAnEndedStreamClosesItsSubscription() async throws {
        let node = try freshNode()
        let f = try await node.createFestival(
            name: "Wiese", timezone: "UTC", startDate: "2026-07-10", endDate: "2026-07-10")
        let task = Task { () -> [StoreChange] in
            var got: [StoreChange] = []
            for await c in node.changeStream(festival: f, initial: true) {
                got.append(c)
                if got.count == 2 { break }
            }
            return got
        }
        // The first item says the subscription runs; then a real change.
        try await Task.sleep(nanoseconds: 100_000_000)
        _ = try await node.addVenue(festival: f, name: "Main")
        let got = await task.value
        XCTAssertEqual(got.first?.scopes, Scope.all)
        XCTAssertTrue(got.last?.scopes.contains(.festival) == true)
        // Another festival's change is not this stream's.
        XCTAssertTrue(got.allSatisfy { $0.festival == f })
    }

    func testFormErrorsArriveAtTheirField() async throws {
        let node = try freshNode()
        let f = try await node.createFestival(
            name: "Wiese", timezone: "Europe/Berlin", startDate: "2026-07-10", endDate: "2026-07-12")
        let venue = try await node.addVenue(festival: f, name: "Main Stage")
        let blank = await outcome {
            try await node.addEvent(
                festival: f,
                event: NewEvent(
                    title: "  ", start: 1_783_684_800, end: 1_783_688_400, venueId: venue, track: "", description: ""))
        }
        XCTAssertNotNil(blank.error(at: "title"))
        let backwards = await outcome {
            try await node.addEvent(
                festival: f,
                event: NewEvent(
                    title: "Backwards", start: 1_783_688_400, end: 1_783_684_800, venueId: venue, track: "",
                    description: ""))
        }
        XCTAssertNotNil(backwards.error(at: "end"))
        let form = EventForm(
            title: "Noon", day: "2026-07-10", start: "2pm", end: "15:00", venueId: venue, track: "", description: "")
        let bad = await outcome { try await node.saveEvent(festival: f, event: nil, form: form, loaded: nil) }
        XCTAssertNotNil(bad.error(at: "start"))
        var good = form
        good.start = "14:00"
        let saved = await outcome { try await node.saveEvent(festival: f, event: nil, form: good, loaded: nil) }
        let id = try XCTUnwrap(saved.value)
        // A form's clock times are read on its festival day, in the festival's zone.
        let detail = try await node.eventDetail(festival: f, event: id)
        XCTAssertEqual(detail.event.start, 1_783_684_800)
        let missing = await outcome {
            try await node.setFavourite(festival: f, event: String(repeating: "00", count: 32), favourite: true)
        }
        guard case .failed = missing else { return XCTFail("\(missing)") }
    }
}
