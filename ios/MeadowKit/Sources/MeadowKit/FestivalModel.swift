import Foundation
import Observation

/// Everything the screens of one festival show, kept current by the core's change feed: a change
/// stored on this device or arriving from a peer is read again with no user action, and only what
/// it touched. Presentation only: grouping, clashes, now and next, what changed, who may edit and
/// reminder times all come from the core.
@MainActor
@Observable
public final class FestivalModel {
    /// The festival (hex id).
    public let festival: String
    /// Unix seconds; the tests fix it inside the festival.
    public let clock: @Sendable () -> Int64
    /// The festival's own fields.
    public private(set) var info: FestivalView?
    /// Owner, organiser or attendee: what the app offers.
    public private(set) var standing: Standing = .attendee
    /// The core's word to an organiser whose log in this festival fills up (nil until 75 %).
    public private(set) var logWarning: String?
    /// Festival days with events.
    public private(set) var days: [FestivalDay] = []
    /// What the programme shows: a day, and a venue, track or tag if chosen.
    public private(set) var query = ProgrammeQuery()
    /// The programme for `query`: venues and tracks once, rows in programme order.
    public private(set) var programme: DayView?
    /// What the programme can be filtered by.
    public private(set) var facets = Facets(venues: [], tracks: [], tags: [])
    /// Per venue, what is on now and next.
    public private(set) var nowNext: [NowNext] = []
    /// Favourites as a timetable: gaps, clashes, reminders.
    public private(set) var agenda: [AgendaEntry] = []
    /// Current announcements, newest first.
    public private(set) var announcements: [AnnouncementView] = []
    /// Events changed since this device last looked: the badge counts them.
    public private(set) var changes: [ChangeView] = []
    /// The crews this device is in, as the core reads them.
    public private(set) var crews: [CrewView] = []
    /// The events crew members marked or head to, by id: when and where they are.
    public private(set) var crewEvents: [String: EventView] = [:]
    /// Where members of each crew (by id) will be apart: their favourites that overlap.
    public private(set) var crewClashes: [String: [CrewClash]] = [:]
    /// Bumped after every refresh, so a view (or a test) can tell it is current.
    public private(set) var version = 0

    @ObservationIgnored private var feed: Task<Void, Never>?
    @ObservationIgnored private let node: MeadowNode
    @ObservationIgnored private var readingProgramme = 0

    /// Follows `festival`'s changes on `node` and reads everything once.
    public init(node: MeadowNode, festival: String, clock: @escaping @Sendable () -> Int64 = unixNow) {
        self.node = node
        self.festival = festival
        self.clock = clock
        let stream = node.changeStream(festival: festival, initial: true)
        feed = Task { [weak self] in
            for await change in stream {
                guard let self else { return }
                await self.refresh(Set(change.scopes))
            }
        }
    }

    /// The newest emergency announcement: a banner on every screen.
    public var emergency: AnnouncementView? { announcements.first { $0.priority == .emergency } }

    /// What the changes tab's badge shows (nil: no badge).
    public var changeBadge: Int? { changes.isEmpty ? nil : changes.count }

    /// Whether this device may edit the programme (owner or organiser).
    public var isOrganiser: Bool { standing != .attendee }

    /// The festival's clock, for times as the festival shows them.
    public var festivalClock: FestivalClock { FestivalClock(timezone: info?.fields.timezone) }

    private static let programmeScopes: Set<Scope> = [.programme, .festival, .roles, .moderation]

    private func refresh(_ s: Set<Scope>) async {
        let programmeChanged = !s.isDisjoint(with: Self.programmeScopes)
        if s.contains(.festival) || s.contains(.roles) {
            info = (try? await node.festivals())?.first { $0.id == festival }
            standing = (try? await node.standing(festival: festival)) ?? .attendee
        }
        if programmeChanged || s.contains(.announcements) {
            logWarning = (try? await node.logUsage(festival: festival))?.warning
        }
        if programmeChanged {
            days = (try? await node.days(festival: festival)) ?? []
            if query.day == nil || !days.contains(where: { $0.date == query.day }) {
                query.day = try? await node.openingDay(festival: festival, now: clock())
            }
            await readProgramme()
            facets = (try? await node.facets(festival: festival)) ?? facets
            nowNext = (try? await node.nowNext(festival: festival, now: clock())) ?? []
        }
        if programmeChanged || s.contains(.favourites) {
            agenda = (try? await node.agenda(festival: festival, remindMinutes: nil)) ?? []
            if !programmeChanged { await readProgramme() }
        }
        if !s.isDisjoint(with: [.announcements, .profiles, .moderation]) {
            announcements = (try? await node.announcements(festival: festival, now: clock())) ?? []
        }
        if programmeChanged || s.contains(.seen) {
            changes = (try? await node.changes(festival: festival, markSeen: false)) ?? []
        }
        if programmeChanged || !s.isDisjoint(with: [.crews, .profiles, .favourites]) { await readCrews() }
        version += 1
    }

    private func readCrews() async {
        let all = (try? await node.crews(festival: festival)) ?? []
        var ids = Set<String>()
        for crew in all {
            for m in crew.members {
                ids.formUnion(m.favourites)
                if let e = m.headingEvent { ids.insert(e) }
            }
        }
        var events: [String: EventView] = [:]
        for id in ids {
            if let d = try? await node.eventDetail(festival: festival, event: id) { events[id] = d.event }
        }
        var clashes: [String: [CrewClash]] = [:]
        for crew in all { clashes[crew.id] = (try? await node.crewClashes(festival: festival, crew: crew)) ?? [] }
        crewEvents = events
        crewClashes = clashes
        crews = all
    }

    /// Reads the programme for `query`: the first screenful at once, then the whole day, so a long
    /// day shows in a frame or two. A read overtaken by a newer one is dropped.
    private func readProgramme() async {
        readingProgramme += 1
        let ticket = readingProgramme
        let q = query
        guard let first = try? await node.dayView(festival: festival, query: q, offset: 0, limit: Self.firstPage)
        else { return }
        guard ticket == readingProgramme else { return }
        programme = first
        if first.total > UInt32(first.rows.count),
            let all = try? await node.dayView(festival: festival, query: q, offset: 0, limit: first.total),
            ticket == readingProgramme
        {
            programme = all
        }
    }

    /// Events on the first screen of a day, read before the rest.
    public static let firstPage: UInt32 = 60

    /// Shows another day, venue, track or tag.
    public func show(_ query: ProgrammeQuery) async {
        self.query = query
        await readProgramme()
        version += 1
    }

    /// Full-text search, best first.
    public func search(_ text: String) async -> [EventView] {
        let t = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if t.isEmpty { return [] }
        return (try? await node.search(festival: festival, query: t, limit: nil)) ?? []
    }

    /// Everything about one event.
    public func detail(_ event: String) async throws -> EventDetail {
        try await node.eventDetail(festival: festival, event: event)
    }

    /// How an op reached this device and who signed it, for "where this comes from".
    public func origin(of op: String) async throws -> OpOrigin {
        try await node.opOrigin(festival: festival, op: op)
    }

    /// The name an author shows in this festival, if they set one.
    public func displayName(of key: String) async -> String? {
        try? await node.displayName(festival: festival, key: key)
    }

    /// Marks or unmarks a favourite.
    public func setFavourite(_ event: String, _ on: Bool) async -> Outcome<Void> {
        let (node, f) = (self.node, festival)
        return await outcome { try await node.setFavourite(festival: f, event: event, favourite: on) }
    }

    /// An event as its form shows it (day, clock times, venue, track, description).
    public func eventForm(_ event: String) async throws -> EventForm {
        try await node.eventForm(festival: festival, event: event)
    }

    /// An empty form on the day the programme shows.
    public func newForm() -> EventForm {
        EventForm(
            title: "", day: query.day ?? days.first?.date ?? "", start: "", end: "", venueId: nil, track: "",
            description: "")
    }

    /// Adds an event: official for organisers, community for everyone else.
    public func addEvent(_ event: NewEvent) async -> Outcome<String> {
        let (node, f) = (self.node, festival)
        return await outcome { try await node.addEvent(festival: f, event: event) }
    }

    /// Saves an event's form: adds it (`event` nil) or changes what differs from `loaded`.
    /// Organisers' events are official, everyone else's community events.
    public func saveEvent(_ event: String?, form: EventForm, loaded: EventForm?) async -> Outcome<String> {
        let (node, f) = (self.node, festival)
        return await outcome { try await node.saveEvent(festival: f, event: event, form: form, loaded: loaded) }
    }

    /// Cancels or restores an event.
    public func cancelEvent(_ event: String, _ cancelled: Bool) async -> Outcome<Void> {
        let (node, f) = (self.node, festival)
        return await outcome { try await node.cancelEvent(festival: f, event: event, cancelled: cancelled) }
    }

    /// Posts an announcement; an urgent one is an emergency.
    public func announce(_ text: String, urgent: Bool) async -> Outcome<Void> {
        let (node, f) = (self.node, festival)
        return await outcome { try await node.announce(festival: f, text: text, urgent: urgent) }
    }

    /// Names an organiser by public key (hex).
    public func addOrganiser(_ key: String) async -> Outcome<Void> {
        let (node, f) = (self.node, festival)
        let k = key.trimmingCharacters(in: .whitespacesAndNewlines)
        return await outcome { try await node.addOrganiser(festival: f, key: k) }
    }

    /// Removes an organiser.
    public func removeOrganiser(_ key: String) async -> Outcome<Void> {
        let (node, f) = (self.node, festival)
        return await outcome { try await node.removeOrganiser(festival: f, key: key) }
    }

    /// Hides an event for everyone (organisers).
    public func hideEvent(_ event: String, _ hidden: Bool) async -> Outcome<Void> {
        let (node, f) = (self.node, festival)
        return await outcome { try await node.hideEvent(festival: f, event: event, hidden: hidden) }
    }

    /// Hides an event from this person's own programme (their devices follow), or shows it again.
    public func hideHere(_ event: String, _ hidden: Bool) async -> Outcome<Void> {
        let (node, f) = (self.node, festival)
        return await outcome { try await node.setHiddenHere(festival: f, event: event, hidden: hidden) }
    }

    /// Mutes an author on this device.
    public func mute(_ author: String, _ muted: Bool) async -> Outcome<Void> {
        let (node, f) = (self.node, festival)
        return await outcome { try await node.setMuted(festival: f, key: author, muted: muted) }
    }

    /// Imports a schedule file (Pentabarf XML, frab JSON, iCalendar or a Meadow archive).
    public func importSchedule(_ bytes: Data) async -> Outcome<String> {
        let node = self.node
        return await outcome { try await node.import(bytes: bytes) }
    }

    /// The favourites (or the whole programme) as an iCalendar file, for a calendar app.
    public func exportIcs(favouritesOnly: Bool) async -> Outcome<String> {
        let (node, f) = (self.node, festival)
        return await outcome { try await node.exportIcs(festival: f, favouritesOnly: favouritesOnly) }
    }

    /// One event as an iCalendar file, for "add to calendar" and the share sheet.
    public func eventIcs(_ event: String) async -> Outcome<String> {
        let (node, f) = (self.node, festival)
        return await outcome { try await node.exportEventIcs(festival: f, event: event) }
    }

    /// Marks every change seen: the badge clears.
    public func markSeen() async {
        _ = try? await node.changes(festival: festival, markSeen: true)
    }

    /// Starts a crew with this device as its admin.
    public func createCrew(_ name: String) async -> Outcome<String> {
        let (node, f) = (self.node, festival)
        return await outcome { try await node.createCrew(festival: f, name: name) }
    }

    /// Starts the crew of this person's own devices.
    public func createDevicesCrew(_ name: String) async -> Outcome<String> {
        let (node, f) = (self.node, festival)
        return await outcome { try await node.createDevicesCrew(festival: f, name: name) }
    }

    /// An invite link for one person to one of this device's crews.
    public func crewInvite(_ crew: String) async -> Outcome<String> {
        let (node, f) = (self.node, festival)
        return await outcome { try await node.crewInvite(festival: f, crew: crew) }
    }

    /// Asks to join a crew from its invite link.
    public func joinCrew(_ link: String) async -> Outcome<Void> {
        let node = self.node
        let l = link.trimmingCharacters(in: .whitespacesAndNewlines)
        return await outcome { try await node.joinCrew(link: l) }
    }

    /// Leaves a crew.
    public func leaveCrew(_ crew: String) async -> Outcome<Void> {
        let (node, f) = (self.node, festival)
        return await outcome { try await node.leaveCrew(festival: f, crew: crew) }
    }

    /// Removes a member from a crew this device is the admin of.
    public func removeFromCrew(_ crew: String, member: String) async -> Outcome<Void> {
        let (node, f) = (self.node, festival)
        return await outcome { try await node.removeFromCrew(festival: f, crew: crew, member: member) }
    }

    /// Tells this device's crews a note.
    public func shareNote(_ note: String) async -> Outcome<Void> {
        let (node, f) = (self.node, festival)
        return await outcome {
            try await node.shareWithCrews(festival: f, note: note, setHeading: false, heading: .headingTo, event: nil)
        }
    }

    /// Tells this device's crews where this person is heading, or that they are there now.
    public func shareHeading(_ heading: Heading, event: String?) async -> Outcome<Void> {
        let (node, f) = (self.node, festival)
        return await outcome {
            try await node.shareWithCrews(festival: f, note: nil, setHeading: true, heading: heading, event: event)
        }
    }

    /// Stops following changes.
    public func close() { feed?.cancel() }
}
