import Foundation

/// A local notification the app should post or schedule: the decision is made here, tested here;
/// the app's UserNotifications glue only hands it to the system.
public struct PlannedAlert: Equatable, Sendable, Identifiable {
    /// What kind of alert, for its category, sound and interruption level.
    public enum Kind: Equatable, Sendable {
        /// A favourite starts soon.
        case reminder
        /// A favourite moved or was cancelled.
        case favouriteChanged
        /// An emergency announcement: time-sensitive, with sound.
        case emergency
    }

    /// Stable identifier: scheduling it again replaces it instead of adding another.
    public let id: String
    /// Its kind.
    public let kind: Kind
    /// The title line.
    public let title: String
    /// The body.
    public let body: String
    /// When it fires (Unix seconds); nil: at once.
    public let fireAt: Int64?
    /// The event it opens, if any.
    public let event: String?

    /// The prefix of every reminder's id: pending reminders with it and no longer planned are
    /// stale.
    public static let reminderPrefix = "reminder-"

    /// Whether this is a reminder (scheduled ahead, replaced when the plan changes).
    public var isReminder: Bool { kind == .reminder }
}

/// Decides the app's notifications from what the core says: reminders for favourites at the
/// agenda's remind-at time (scheduled ahead, since an iOS app does not run in the background to
/// fire them), a favourite moved or cancelled since it was last told, and emergencies not told
/// yet (the core remembers those, so a restart does not tell them again).
public struct AlertPlanner: Sendable {
    /// The texts in the phone's language.
    public let texts: Texts
    /// The festival's clock, for the times in the texts.
    public let clock: FestivalClock

    /// A planner speaking `texts` and showing times on `clock`.
    public init(texts: Texts, clock: FestivalClock) {
        self.texts = texts
        self.clock = clock
    }

    /// The reminders to schedule at `now`: one per favourite whose remind-at is still to come.
    /// The app replaces every pending reminder with these, so a favourite moved or unmarked
    /// meanwhile reminds at its new time, or not at all.
    public func reminders(_ agenda: [AgendaEntry], now: Int64) -> [PlannedAlert] {
        agenda.compactMap { entry in
            guard let at = entry.remindAt, at >= now, !entry.event.cancelled else { return nil }
            let e = entry.event
            return PlannedAlert(
                id: PlannedAlert.reminderPrefix + e.id, kind: .reminder, title: e.title,
                body: texts.reminderText(time: clock.time(e.start), venue: e.venueName), fireAt: at, event: e.id)
        }
    }

    /// Favourites moved or cancelled since the last look that are not in `told` yet (ids this
    /// returned before, which the app keeps).
    public func favouriteChanges(_ changes: [ChangeView], told: Set<String>) -> [PlannedAlert] {
        changes.compactMap { change in
            let e = change.event
            guard e.favourite else { return nil }
            let body: String
            let key: String
            switch change.kind {
            case .moved:
                body = texts.favouriteMoved(to: "\(clock.dayTime(e.start, locale: texts.locale)) · \(e.venueName)")
                key = "moved-\(e.id)-\(e.start)-\(e.venue ?? "")"
            case .cancelled:
                body = texts.favouriteCancelled
                key = "cancelled-\(e.id)"
            default:
                return nil
            }
            guard !told.contains(key) else { return nil }
            return PlannedAlert(id: key, kind: .favouriteChanged, title: e.title, body: body, fireAt: nil, event: e.id)
        }
    }

    /// Emergencies to tell at once.
    public func emergencies(_ announcements: [AnnouncementView]) -> [PlannedAlert] {
        announcements.map {
            PlannedAlert(
                id: "emergency-\($0.id)", kind: .emergency, title: texts.emergency, body: $0.text, fireAt: nil,
                event: nil)
        }
    }

    /// Everything due for `festival` at `now`: reminders to (re)schedule, then what to post at once.
    /// Emergencies count as told from here on (the core keeps that).
    public func plan(node: MeadowNode, festival: String, now: Int64, told: Set<String>) async throws -> [PlannedAlert] {
        let agenda = try await node.agenda(festival: festival, remindMinutes: nil)
        let changes = try await node.changes(festival: festival, markSeen: false)
        let urgent = try await node.emergenciesToNotify(festival: festival, now: now)
        return reminders(agenda, now: now) + favouriteChanges(changes, told: told) + emergencies(urgent)
    }
}
