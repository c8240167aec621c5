import Foundation

/// Times as the festival's clocks show them (its own zone, whatever the phone's).
public struct FestivalClock: Sendable {
    /// The festival's zone (the phone's when the festival names none this system knows).
    public let zone: TimeZone

    /// A clock for an IANA zone such as `Europe/Berlin`.
    public init(timezone: String?) {
        zone = timezone.flatMap { TimeZone(identifier: $0) } ?? .current
    }

    private func formatter(_ pattern: String, _ locale: Locale) -> DateFormatter {
        let f = DateFormatter()
        f.calendar = Calendar(identifier: .gregorian)
        f.locale = locale
        f.timeZone = zone
        f.dateFormat = pattern
        return f
    }

    /// `14:30`.
    public func time(_ secs: Int64) -> String {
        formatter("HH:mm", Locale(identifier: "en_US_POSIX")).string(from: Date(timeIntervalSince1970: Double(secs)))
    }

    /// `14:30–15:45`.
    public func span(_ start: Int64, _ end: Int64) -> String { "\(time(start))–\(time(end))" }

    /// `Fri 10 Jul` for a festival day `2026-07-10` (the day as written when it is not a date).
    public func day(_ date: String, locale: Locale) -> String {
        let parse = formatter("yyyy-MM-dd", Locale(identifier: "en_US_POSIX"))
        parse.timeZone = TimeZone(identifier: "UTC")
        guard let d = parse.date(from: date) else { return date }
        let show = formatter("EEE d MMM", locale)
        show.timeZone = TimeZone(identifier: "UTC")
        return show.string(from: d)
    }

    /// `Fri 14:30`.
    public func dayTime(_ secs: Int64, locale: Locale) -> String {
        formatter("EEE HH:mm", locale).string(from: Date(timeIntervalSince1970: Double(secs)))
    }

    /// Unix seconds of a local time `HH:MM` on a festival day, or nil if it is not one.
    public func at(_ date: String, _ hhmm: String) -> Int64? {
        let p = formatter("yyyy-MM-dd HH:mm", Locale(identifier: "en_US_POSIX"))
        p.isLenient = false
        let t = hhmm.trimmingCharacters(in: .whitespaces)
        guard t.count == 5, let d = p.date(from: "\(date) \(t)") else { return nil }
        return Int64(d.timeIntervalSince1970)
    }
}
