import Foundation

/// The texts MeadowKit composes (counts, times, changes, provenance, notifications), in English
/// and German. The views' fixed labels are in the app's String Catalog; these take arguments.
public struct Texts: Sendable, Equatable {
    /// A language Meadow speaks.
    public enum Language: Sendable, Equatable {
        /// English, the default.
        case english
        /// German.
        case german
    }

    /// The language of these texts.
    public let language: Language

    /// Texts in `language`.
    public init(_ language: Language) { self.language = language }

    /// The texts for a locale or language tag: German for `de`, else English.
    public init(locale: Locale) {
        let code = locale.identifier.lowercased()
        language = code.hasPrefix("de") ? .german : .english
    }

    private var de: Bool { language == .german }

    /// The locale dates are shown in, matching these texts.
    public var locale: Locale { Locale(identifier: de ? "de_DE" : "en_GB") }

    /// "Emergency", the banner's and the notification's title.
    public var emergency: String { de ? "Notfall" : "Emergency" }

    /// "you", for this person in a list of people.
    public var you: String { de ? "du" : "you" }

    /// A free gap before a favourite: `45 min free`, `1 h 15 min free`.
    public func minutesFree(_ minutes: Int64) -> String {
        if minutes >= 60 {
            return de ? "\(minutes / 60) Std. \(minutes % 60) Min. frei" : "\(minutes / 60) h \(minutes % 60) min free"
        }
        return de ? "\(minutes) Min. frei" : "\(minutes) min free"
    }

    /// `Clashes with A, B`.
    public func clashesWith(_ titles: [String]) -> String {
        let t = titles.joined(separator: ", ")
        return de ? "Überschneidet sich mit \(t)" : "Clashes with \(t)"
    }

    /// `Reminder at 14:20`.
    public func remindAt(_ time: String) -> String { de ? "Erinnerung um \(time)" : "Reminder at \(time)" }

    /// What happened to an event since the last look; `from` is the old time, as shown.
    public func change(_ kind: ChangeKind, from: String?) -> String {
        switch kind {
        case .new: return de ? "Neu" : "New"
        case .moved: return de ? "Verlegt (war \(from ?? "?"))" : "Moved (was \(from ?? "?"))"
        case .cancelled: return de ? "Abgesagt" : "Cancelled"
        case .restored: return de ? "Findet wieder statt" : "Back on"
        case .updated: return de ? "Geändert" : "Updated"
        case .deleted: return de ? "Entfernt" : "Removed"
        }
    }

    /// `3 peers`.
    public func peers(_ n: UInt32) -> String {
        if de { return n == 1 ? "1 Gerät" : "\(n) Geräte" }
        return n == 1 ? "1 peer" : "\(n) peers"
    }

    /// `Last sync 14:30`, or that there was none.
    public func lastSync(_ time: String?) -> String {
        guard let time else { return de ? "Noch nicht abgeglichen" : "Not synced yet" }
        return de ? "Zuletzt abgeglichen \(time)" : "Last sync \(time)"
    }

    /// `12 changes received`.
    public func received(_ n: UInt64) -> String { de ? "\(n) Änderungen empfangen" : "\(n) changes received" }

    /// `376 events`.
    public func eventCount(_ n: UInt64) -> String {
        if de { return n == 1 ? "1 Veranstaltung" : "\(n) Veranstaltungen" }
        return n == 1 ? "1 event" : "\(n) events"
    }

    /// A reminder's text: `Starts at 14:30 · Main Stage`.
    public func reminderText(time: String, venue: String) -> String {
        let head = de ? "Beginnt um \(time)" : "Starts at \(time)"
        return venue.isEmpty ? head : "\(head) · \(venue)"
    }

    /// A favourite that moved, as a notification says it.
    public func favouriteMoved(to time: String) -> String {
        de ? "Verlegt auf \(time)" : "Moved to \(time)"
    }

    /// A favourite that was cancelled, as a notification says it.
    public var favouriteCancelled: String { de ? "Abgesagt" : "Cancelled" }

    /// `4 members`.
    public func crewMembers(_ n: Int) -> String {
        if de { return n == 1 ? "1 Mitglied" : "\(n) Mitglieder" }
        return n == 1 ? "1 member" : "\(n) members"
    }

    /// `2 devices`.
    public func devices(_ n: Int) -> String {
        if de { return n == 1 ? "1 Gerät" : "\(n) Geräte" }
        return n == 1 ? "1 device" : "\(n) devices"
    }

    /// `2 of your crew`, beside a programme row.
    public func crewCount(_ n: UInt32) -> String { de ? "\(n) aus deiner Crew" : "\(n) of your crew" }

    /// `Going from your crew: Ana, Ben`.
    public func crewGoing(_ names: [String]) -> String {
        let n = names.joined(separator: ", ")
        return de ? "Aus deiner Crew dabei: \(n)" : "Going from your crew: \(n)"
    }

    /// `in your crew Friends`, after who signed an event.
    public func inYourCrew(_ crew: String) -> String { de ? "in deiner Crew \(crew)" : "in your crew \(crew)" }

    /// Two crew members whose favourites overlap.
    public func crewApart(_ first: String, _ firstEvent: String, _ second: String, _ secondEvent: String) -> String {
        de
            ? "Getrennt: \(first) bei \(firstEvent), während \(second) bei \(secondEvent)"
            : "Apart: \(first) at \(firstEvent) while \(second) at \(secondEvent)"
    }

    /// `written 14:02 by their clock`.
    public func writtenAt(_ time: String) -> String {
        de ? "geschrieben \(time) nach deren Uhr" : "written \(time) by their clock"
    }

    /// How an op reached this device: `Here since 14:05, over Bluetooth from peer 1a2b…`.
    public func reachedHere(_ time: String, via: Via?, peer: String?) -> String {
        let how: String
        switch via {
        case .here: how = de ? "auf diesem Gerät geschrieben" : "written on this device"
        case .import: how = de ? "aus einem importierten Programm" : "from an imported schedule"
        case .archive: how = de ? "aus einem Festival-Archiv" : "from a festival archive"
        case .iroh: how = de ? "über das Internet" : "over the internet"
        case .lan: how = de ? "über das lokale Netz" : "over the local network"
        case .bluetooth: how = de ? "über Bluetooth" : "over Bluetooth"
        case .wifiDirect: how = de ? "über Wi-Fi Direct" : "over Wi-Fi Direct"
        case .multipeer: how = de ? "über Multipeer" : "over Multipeer"
        case nil: how = de ? "auf einem dieser Version unbekannten Weg" : "by a way this version does not know"
        }
        let from = peer.map { de ? " von Peer \($0.prefix(12))" : " from peer \($0.prefix(12))" } ?? ""
        return (de ? "Hier seit \(time), \(how)" : "Here since \(time), \(how)") + from
    }

    /// The network line of the sync screen: running or not, peers, last sync.
    public func syncLine(_ status: NetStatus, clock: FestivalClock) -> String {
        guard status.running else { return de ? "Abgleich aus" : "Sync is off" }
        return "\(peers(status.peers)) · \(lastSync(status.lastSync.map { clock.time($0) }))"
    }
}
