import Foundation
import XCTest

@testable import MeadowKit

/// The @Observable models over the real library, as the SwiftUI views use them.
@MainActor
final class ModelTests: XCTestCase {
    func testDaysVenuesClashesAndChangesComeFromTheCoreAndFollowIt() async throws {
        let node = try freshNode()
        let f = try await node.import(bytes: try fixture("wiese-v1.xml"))
        _ = try await node.changes(festival: f, markSeen: true)
        let model = FestivalModel(node: node, festival: f, clock: { fridayEvening })
        defer { model.close() }
        await eventually("the programme") { model.programme?.rows.isEmpty == false }
        XCTAssertEqual(model.days.map(\.date), ["2026-07-10", "2026-07-11", "2026-07-12"])
        XCTAssertEqual(model.query.day, "2026-07-10", "the day that holds now is shown first")
        let friday = try XCTUnwrap(model.programme)
        XCTAssertEqual(Set(friday.venues), ["Große Bühne", "Zelt B"])
        XCTAssertEqual(model.info?.fields.name.isEmpty, false)
        XCTAssertEqual(model.standing, .owner)
        XCTAssertTrue(model.isOrganiser)
        // A venue filter, from the facets.
        let zelt = try XCTUnwrap(model.facets.venues.first { $0.name == "Zelt B" })
        var q = model.query
        q.venueId = zelt.id
        await model.show(q)
        let filtered = try XCTUnwrap(model.programme)
        XCTAssertTrue(filtered.rows.allSatisfy { $0.venue.map { filtered.venues[Int($0)] } == "Zelt B" })
        await model.show(ProgrammeQuery(day: "2026-07-10"))
        // Favourites that overlap clash; the free time and reminders are the core's.
        let a = try XCTUnwrap(friday.rows.first)
        let added = await model.addEvent(
            NewEvent(title: "Jam", start: a.start + 600, end: a.end + 600, venueId: nil, track: "", description: ""))
        let jam = try XCTUnwrap(added.value)
        await eventually("the new event in the list") { model.programme?.rows.contains { $0.id == jam } == true }
        _ = await model.setFavourite(a.id, true)
        _ = await model.setFavourite(jam, true)
        // No call reads the agenda: the feed does.
        await eventually("two favourites") { model.agenda.count == 2 }
        let entry = try XCTUnwrap(model.agenda.first { $0.event.id == a.id })
        XCTAssertEqual(entry.clashesWith, [jam])
        XCTAssertEqual(entry.remindAt, a.start - 15 * 60)
        XCTAssertTrue(model.programme?.rows.first { $0.id == a.id }?.favourite == true)
        // A form's error arrives at its field.
        let refused = await model.addEvent(
            NewEvent(title: " ", start: a.start, end: a.end, venueId: nil, track: "", description: ""))
        XCTAssertNotNil(refused.error(at: "title"))
        // An organiser's change shows in the badge; seeing it clears the badge.
        try await node.cancelEvent(festival: f, event: a.id, cancelled: true)
        await eventually("the cancellation in changes") {
            model.changes.contains { $0.event.id == a.id && $0.kind == .cancelled }
        }
        XCTAssertTrue(model.changes.contains { $0.event.id == jam && $0.kind == .new })
        XCTAssertEqual(model.changeBadge, model.changes.count)
        await model.markSeen()
        await eventually("the badge cleared") { model.changeBadge == nil }
        // An emergency becomes the banner.
        XCTAssertNil(model.emergency)
        _ = await model.announce("Storm: leave the field", urgent: true)
        await eventually("the banner") { model.emergency?.text == "Storm: leave the field" }
        XCTAssertFalse(model.nowNext.isEmpty)
        // Search and the detail with where it came from.
        let found = await model.search("Night Drive")
        XCTAssertEqual(found.first?.title, "Nachtkonzert: 東京 Night Drive")
        let blank = await model.search("   ")
        XCTAssertEqual(blank, [])
        let detail = try await model.detail(a.id)
        XCTAssertEqual(detail.event.id, a.id)
        XCTAssertNotNil(detail.provenance)
    }

    func testAnEventIsEditedThroughItsFormAndOrganiserToolsWork() async throws {
        let node = try freshNode()
        let f = try await node.import(bytes: try fixture("wiese-v1.xml"))
        let model = FestivalModel(node: node, festival: f, clock: { fridayEvening })
        defer { model.close() }
        await eventually("the programme") { model.programme?.rows.isEmpty == false }
        let a = try XCTUnwrap(model.programme?.rows.first)
        // Edit: the form as loaded, one field changed; only that change is written.
        let loaded = try await model.eventForm(a.id)
        var form = loaded
        form.title = "Bees in the city (moved indoors)"
        form.start = "15:00"
        form.end = "16:00"
        let saved = await model.saveEvent(a.id, form: form, loaded: loaded)
        XCTAssertEqual(saved.value, a.id, "\(saved)")
        await eventually("the edit in the list") {
            model.programme?.rows.first { $0.id == a.id }?.title == "Bees in the city (moved indoors)"
        }
        let detail = try await model.detail(a.id)
        XCTAssertEqual(model.festivalClock.time(detail.event.start), "15:00")
        // An edit that ends before it starts is refused at the end field, and changes nothing.
        var backwards = try await model.eventForm(a.id)
        let before = backwards
        backwards.end = "14:00"
        let refused = await model.saveEvent(a.id, form: backwards, loaded: before)
        XCTAssertNotNil(refused.error(at: "end"), "\(refused)")
        let unchanged = try await model.eventForm(a.id)
        XCTAssertEqual(unchanged, before)
        // A new event's form starts on the day the programme shows.
        XCTAssertEqual(model.newForm().day, model.query.day)
        // Organisers: a key that is not one is refused; a real one is named, then removed.
        let notKey = await model.addOrganiser("not a key")
        XCTAssertNotNil(notKey.failure)
        let helper = try freshNode()
        let named = await model.addOrganiser(" \(helper.publicKey()) ")
        XCTAssertNil(named.failure)
        await eventually("the organiser listed") { model.info?.organisers.contains(helper.publicKey()) == true }
        let removed = await model.removeOrganiser(helper.publicKey())
        XCTAssertNil(removed.failure)
        await eventually("the organiser gone") { model.info?.organisers.contains(helper.publicKey()) == false }
        // Cancel, and a new version of the schedule imported from a file.
        let cancelled = await model.cancelEvent(a.id, true)
        XCTAssertNil(cancelled.failure)
        await eventually("the event shown cancelled") {
            model.programme?.rows.first { $0.id == a.id }?.cancelled == true
        }
        let imported = await model.importSchedule(try fixture("wiese-v2.xml"))
        XCTAssertEqual(imported.value, f)
        await eventually("the new version's changes") { model.changes.contains { $0.kind == .new } }
        let exported = await model.exportIcs(favouritesOnly: false)
        let ics = try XCTUnwrap(exported.value)
        XCTAssertTrue(ics.hasPrefix("BEGIN:VCALENDAR"))
    }

    func testAfterMidnightTheProgrammeOpensOnTheFestivalDay() async throws {
        let node = try freshNode()
        let f = try await node.import(bytes: try fixture("wiese-v1.xml"))
        // Sunday 12 July 2026, 01:30 in Berlin: the second night, before the 04:00 day change.
        let model = FestivalModel(node: node, festival: f, clock: { 1_783_812_600 })
        defer { model.close() }
        await eventually("the programme") { model.programme?.rows.isEmpty == false }
        XCTAssertEqual(model.query.day, "2026-07-11")
    }

    func testTheAppMakesTheDemoOpensItAndRemembersIt() async throws {
        let node = try freshNode()
        let app = AppModel(node: node, clock: { fridayEvening })
        defer { app.close() }
        XCTAssertEqual(app.fingerprint, node.fingerprint())
        let created = await app.createDemo(start: "2026-07-10")
        let f = try XCTUnwrap(created.value)
        XCTAssertEqual(app.current?.festival, f)
        XCTAssertEqual(app.festivals.map(\.id), [f])
        let current = try await node.currentFestival()
        XCTAssertEqual(current, f)
        let named = await app.setDisplayName("  Info point ")
        XCTAssertNil(named.failure)
        XCTAssertEqual(app.displayName, "Info point")
        let bad = await app.create(name: "", timezone: "Nowhere/Else", start: "2026-07-10", end: "2026-07-09")
        XCTAssertNotNil(bad.failure)
        XCTAssertEqual(app.current?.festival, f, "a refused festival opens nothing")
        // A second model on the same node opens the current festival by itself.
        let again = AppModel(node: node, clock: { fridayEvening })
        defer { again.close() }
        await eventually("the current festival reopened") { again.current?.festival == f }
    }

    func testCrewsAreCreatedAndInvitedToFromTheModel() async throws {
        let node = try freshNode()
        let f = try await node.import(bytes: try fixture("wiese-v1.xml"))
        let model = FestivalModel(node: node, festival: f, clock: { fridayEvening })
        defer { model.close() }
        let created = await model.createCrew("Friends")
        let crew = try XCTUnwrap(created.value)
        await eventually("the crew") { model.crews.contains { $0.id == crew } }
        let c = try XCTUnwrap(model.crews.first { $0.id == crew })
        XCTAssertTrue(c.isAdmin)
        XCTAssertEqual(c.members.count, 1)
        let invited = await model.crewInvite(crew)
        let invite = try XCTUnwrap(invited.value)
        XCTAssertEqual(DeepLink.parse(invite), .joinCrew(invite))
        let programme = try await node.programme(festival: f, day: nil)
        let event = try XCTUnwrap(programme.first?.id)
        _ = await model.setFavourite(event, true)
        await eventually("the favourite shared with the crew") {
            model.crews.first { $0.id == crew }?.members.first { $0.isMe }?.favourites.contains(event) == true
        }
        XCTAssertEqual(model.crewEvents[event]?.id, event)
        let made = await model.createDevicesCrew("My devices")
        let devices = try XCTUnwrap(made.value)
        await eventually("the devices crew") { model.crews.contains { $0.id == devices && $0.devices } }
    }
}
