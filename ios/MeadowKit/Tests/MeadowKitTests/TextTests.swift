import Foundation
import XCTest

@testable import MeadowKit

/// Texts, times, deep links and notification decisions: what the views show, checked here.
final class TextTests: XCTestCase {
    func testEnglishAndGermanTexts() {
        let en = Texts(locale: Locale(identifier: "en_GB"))
        let de = Texts(locale: Locale(identifier: "de_AT"))
        XCTAssertEqual(en.language, .english)
        XCTAssertEqual(de.language, .german)
        XCTAssertEqual(en.minutesFree(45), "45 min free")
        XCTAssertEqual(en.minutesFree(75), "1 h 15 min free")
        XCTAssertEqual(de.minutesFree(75), "1 Std. 15 Min. frei")
        XCTAssertEqual(en.peers(1), "1 peer")
        XCTAssertEqual(de.peers(3), "3 Geräte")
        XCTAssertEqual(en.eventCount(376), "376 events")
        XCTAssertEqual(de.eventCount(1), "1 Veranstaltung")
        XCTAssertEqual(
            en.change(.moved(fromStart: 0, fromEnd: 0, fromVenue: ""), from: "Fri 14:00"), "Moved (was Fri 14:00)")
        XCTAssertEqual(de.change(.cancelled, from: nil), "Abgesagt")
        XCTAssertEqual(en.reminderText(time: "14:30", venue: ""), "Starts at 14:30")
        XCTAssertEqual(de.reminderText(time: "14:30", venue: "Zelt B"), "Beginnt um 14:30 · Zelt B")
        XCTAssertEqual(
            en.reachedHere("14:05", via: .bluetooth, peer: "0123456789abcdef"),
            "Here since 14:05, over Bluetooth from peer 0123456789ab")
        XCTAssertEqual(
            de.reachedHere("14:05", via: nil, peer: nil), "Hier seit 14:05, auf einem dieser Version unbekannten Weg")
        XCTAssertEqual(en.crewGoing(["Ana", "Ben"]), "Going from your crew: Ana, Ben")
        XCTAssertEqual(en.lastSync(nil), "Not synced yet")
        let clock = FestivalClock(timezone: "Europe/Berlin")
        let off = NetStatus(running: false, invite: nil, peers: 0, sessions: 0, opsReceived: 0, lastSync: nil)
        XCTAssertEqual(en.syncLine(off, clock: clock), "Sync is off")
        var on = off
        on.running = true
        on.peers = 2
        on.lastSync = fridayEvening
        XCTAssertEqual(en.syncLine(on, clock: clock), "2 peers · Last sync 20:30")
    }

    func testTimesAreTheFestivalsWhateverThePhonesZone() {
        let berlin = FestivalClock(timezone: "Europe/Berlin")
        XCTAssertEqual(berlin.time(fridayEvening), "20:30")
        XCTAssertEqual(FestivalClock(timezone: "UTC").time(fridayEvening), "18:30")
        XCTAssertEqual(berlin.span(1_783_684_800, 1_783_688_400), "14:00–15:00")
        XCTAssertEqual(berlin.day("2026-07-10", locale: Locale(identifier: "en_GB")), "Fri 10 Jul")
        XCTAssertEqual(berlin.day("2026-07-10", locale: Locale(identifier: "de_DE")), "Fr. 10 Juli")
        XCTAssertEqual(berlin.day("not a date", locale: Locale(identifier: "en_GB")), "not a date")
        XCTAssertEqual(berlin.at("2026-07-10", "14:00"), 1_783_684_800)
        XCTAssertNil(berlin.at("2026-07-10", "2pm"))
        XCTAssertNil(berlin.at("2026-07-10", "25:00"))
        XCTAssertEqual(berlin.dayTime(fridayEvening, locale: Locale(identifier: "en_GB")), "Fri 20:30")
        // A zone this system does not know falls back to the phone's, never fails.
        XCTAssertEqual(FestivalClock(timezone: "Mars/Olympus").zone, TimeZone.current)
    }

    func testDeepLinksAreSortedAndAnythingElseIsNil() {
        let ticket = "meadow" + String(repeating: "abcdefgh234567", count: 4)
        XCTAssertEqual(DeepLink.parse("meadow://join/\(ticket)"), .joinFestival("meadow://join/\(ticket)"))
        XCTAssertEqual(
            DeepLink.parse("  MEADOW://join/\(ticket.uppercased())\n"), .joinFestival("meadow://join/\(ticket)"))
        XCTAssertEqual(DeepLink.parse(ticket), .joinFestival("meadow://join/\(ticket)"))
        let crew = "meadow://crew/0a/1b/2c/3d/4e"
        XCTAssertEqual(DeepLink.parse(crew), .joinCrew(crew))
        XCTAssertEqual(DeepLink.parse(crew)?.link, crew)
        for bad in [
            "", "meadow://join/", "meadow://join/meadow", "meadow://join/meadow!!!!!!!!!!!!",
            "https://example.org/join",
            "meadow://crew/0a/1b/2c/3d", "meadow://crew/0a/1b/2c/3d/zz", "meadow://crew/0a//2c/3d/4e",
            "meadow://other/x", String(repeating: "a", count: 5000),
        ] {
            XCTAssertNil(DeepLink.parse(bad), bad)
        }
    }

    private func event(_ id: String, favourite: Bool, cancelled: Bool = false, start: Int64 = fridayEvening)
        -> EventView
    {
        EventView(
            id: id, title: "Talk \(id)", subtitle: "", start: start, end: start + 3600, day: "2026-07-10", venue: "v1",
            venueName: "Zelt B", track: "", kind: "", tags: [], people: [], cancelled: cancelled, moved: false,
            official: true, creator: "k", favourite: favourite, crew: 0)
    }

    func testTheAlertPlannerSchedulesRemindersAndTellsEachChangeOnce() {
        let planner = AlertPlanner(texts: Texts(.english), clock: FestivalClock(timezone: "Europe/Berlin"))
        let agenda = [
            AgendaEntry(
                event: event("a", favourite: true), gapBefore: nil, clashesWith: [], remindAt: fridayEvening - 900),
            AgendaEntry(
                event: event("b", favourite: true), gapBefore: nil, clashesWith: [], remindAt: fridayEvening - 7200),
            AgendaEntry(
                event: event("c", favourite: true, cancelled: true), gapBefore: nil, clashesWith: [],
                remindAt: fridayEvening),
        ]
        let reminders = planner.reminders(agenda, now: fridayEvening - 3600)
        XCTAssertEqual(reminders.map(\.id), ["reminder-a"], "a past reminder and a cancelled event remind of nothing")
        XCTAssertEqual(reminders.first?.fireAt, fridayEvening - 900)
        XCTAssertEqual(reminders.first?.body, "Starts at 20:30 · Zelt B")
        let changes = [
            ChangeView(kind: .cancelled, event: event("a", favourite: true, cancelled: true)),
            ChangeView(kind: .moved(fromStart: 0, fromEnd: 0, fromVenue: ""), event: event("b", favourite: true)),
            ChangeView(kind: .cancelled, event: event("x", favourite: false, cancelled: true)),
            ChangeView(kind: .new, event: event("n", favourite: true)),
        ]
        let told = planner.favouriteChanges(changes, told: [])
        XCTAssertEqual(told.map(\.kind), [.favouriteChanged, .favouriteChanged])
        XCTAssertEqual(told.map(\.body), ["Cancelled", "Moved to Fri 20:30 · Zelt B"])
        XCTAssertEqual(planner.favouriteChanges(changes, told: Set(told.map(\.id))), [], "told once")
        // Moved again: a new time is news again.
        var movedAgain = changes[1]
        movedAgain.event.start += 3600
        XCTAssertEqual(planner.favouriteChanges([movedAgain], told: Set(told.map(\.id))).count, 1)
    }

    func testEmergenciesAreToldOnceAcrossARestart() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("meadow-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let node = try MeadowNode.open(dataDir: dir.path)
        let f = try await node.import(bytes: try fixture("wiese-v1.xml"))
        try await node.announce(festival: f, text: "Storm: leave the field", urgent: true)
        let planner = AlertPlanner(texts: Texts(.german), clock: FestivalClock(timezone: "Europe/Berlin"))
        let now = unixNow()
        let first = try await planner.plan(node: node, festival: f, now: now, told: [])
        XCTAssertEqual(first.filter { $0.kind == .emergency }.map(\.title), ["Notfall"])
        XCTAssertEqual(first.first { $0.kind == .emergency }?.body, "Storm: leave the field")
        let again = try await planner.plan(node: node, festival: f, now: now, told: [])
        XCTAssertEqual(again.filter { $0.kind == .emergency }, [])
    }
}
