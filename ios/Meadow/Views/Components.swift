import MeadowKit
import SwiftUI

// MARK: Environment

private struct TextsKey: EnvironmentKey {
    static let defaultValue = Texts(locale: .current)
}

extension EnvironmentValues {
    /// MeadowKit's parametrised texts in the app's language (the fixed ones are in the catalog).
    var texts: Texts {
        get { self[TextsKey.self] }
        set { self[TextsKey.self] = newValue }
    }
}

// MARK: Navigation

/// A screen opened on top of a tab.
enum Route: Hashable {
    case event(String)
    case edit(String?)
    case search
    case announcements
    case organiser
    case invite
    case sync
    case identity
    case crews
    case festivals
}

// MARK: Rows

/// What one row of a list shows of an event, whichever record it came from.
struct RowData: Identifiable, Equatable {
    let id: String
    let title: String
    let start: Int64
    let end: Int64
    let venue: String
    let track: String
    let cancelled: Bool
    let moved: Bool
    let official: Bool
    let favourite: Bool
    let crew: UInt32

    init(_ e: EventView) {
        id = e.id
        title = e.title
        start = e.start
        end = e.end
        venue = e.venueName
        track = e.track
        cancelled = e.cancelled
        moved = e.moved
        official = e.official
        favourite = e.favourite
        crew = e.crew
    }

    /// A day view's row, its venue and track looked up in the view's tables.
    init(_ r: DayRow, in view: DayView) {
        id = r.id
        title = r.title
        start = r.start
        end = r.end
        venue = r.venue.flatMap { Int($0) < view.venues.count ? view.venues[Int($0)] : nil } ?? ""
        track = r.track.flatMap { Int($0) < view.tracks.count ? view.tracks[Int($0)] : nil } ?? ""
        cancelled = r.cancelled
        moved = r.moved
        official = r.official
        favourite = r.favourite
        crew = r.crew
    }

    /// `Venue · Track`, what of them there is.
    var place: String { [venue, track].filter { !$0.isEmpty }.joined(separator: " · ") }
}

/// "Official" or "Community", told apart by label and colour at once.
struct KindLabel: View {
    let official: Bool

    var body: some View {
        Group {
            if official {
                Text("Official")
            } else {
                Text("Community")
            }
        }
        .font(.caption2.weight(.medium))
        .padding(.horizontal, 6)
        .padding(.vertical, 1)
        .background(
            (official ? Color.green : Color.orange).opacity(0.22), in: RoundedRectangle(cornerRadius: 4))
    }
}

/// A star that marks a favourite, its action said for VoiceOver.
struct FavouriteButton: View {
    let on: Bool
    let identifier: String
    let toggle: () -> Void

    var body: some View {
        Button(action: toggle) {
            Image(systemName: on ? "star.fill" : "star")
                .foregroundStyle(on ? Color.orange : Color.secondary)
                .imageScale(.large)
                .frame(minWidth: 44, minHeight: 44)
        }
        .buttonStyle(.borderless)
        .accessibilityLabel(on ? Text("Remove from my schedule") : Text("Add to my schedule"))
        .accessibilityIdentifier(identifier)
    }
}

/// One event in a list: times, title (struck through when cancelled), kind, venue, crew, star.
/// `extra` adds lines below (a clash, a reminder, what changed).
struct EventRow<Extra: View>: View {
    let row: RowData
    let clock: FestivalClock
    let favourite: (Bool) -> Void
    @ViewBuilder var extra: () -> Extra
    @Environment(\.texts) private var texts

    var body: some View {
        HStack(alignment: .center, spacing: 8) {
            NavigationLink(value: Route.event(row.id)) {
                HStack(alignment: .top, spacing: 8) {
                    RoundedRectangle(cornerRadius: 2)
                        .fill(row.official ? Color.green.opacity(0.6) : Color.orange)
                        .frame(width: 4)
                        .accessibilityHidden(true)
                    VStack(alignment: .leading) {
                        Text(clock.time(row.start)).font(.subheadline.weight(.semibold).monospacedDigit())
                        Text(clock.time(row.end)).font(.caption.monospacedDigit()).foregroundStyle(.secondary)
                    }
                    .fixedSize()
                    VStack(alignment: .leading, spacing: 2) {
                        Text(row.title)
                            .font(.body.weight(.medium))
                            .strikethrough(row.cancelled)
                            .foregroundStyle(row.cancelled ? Color.secondary : Color.primary)
                            .lineLimit(2)
                        HStack(spacing: 6) {
                            KindLabel(official: row.official)
                            if row.cancelled {
                                Text("Cancelled").font(.caption2).foregroundStyle(.red)
                            } else if row.moved {
                                Text("Moved").font(.caption2).foregroundStyle(.orange)
                            }
                            Text(row.place).font(.caption).foregroundStyle(.secondary).lineLimit(1)
                        }
                        if row.crew > 0 {
                            Text(texts.crewCount(row.crew))
                                .font(.caption2)
                                .foregroundStyle(.tint)
                                .accessibilityIdentifier("crew-count-\(row.id)")
                        }
                        extra()
                    }
                }
                .accessibilityElement(children: .combine)
            }
            .accessibilityIdentifier("event-\(row.id)")
            FavouriteButton(on: row.favourite, identifier: "star-\(row.id)") { favourite(!row.favourite) }
        }
    }
}

extension EventRow where Extra == EmptyView {
    init(row: RowData, clock: FestivalClock, favourite: @escaping (Bool) -> Void) {
        self.init(row: row, clock: clock, favourite: favourite) { EmptyView() }
    }
}

/// The line in a day's list where now is.
struct NowMarker: View {
    let time: String

    var body: some View {
        HStack(spacing: 6) {
            Text("Now").font(.caption.bold()).foregroundStyle(.red)
            Text(time).font(.caption.bold().monospacedDigit()).foregroundStyle(.red)
            Rectangle().fill(Color.red).frame(height: 2).accessibilityHidden(true)
        }
        .accessibilityElement(children: .combine)
        .accessibilityIdentifier("now-marker")
    }
}

/// A warning: the warning sign, then the text.
struct Warned: View {
    let text: String
    var color: Color = .red

    var body: some View {
        Label {
            Text(text)
        } icon: {
            Image(systemName: "exclamationmark.triangle.fill")
        }
        .foregroundStyle(color)
    }
}

/// The core's reason beside a form field, if it refused that field.
struct FieldError: View {
    let reason: String?
    let identifier: String

    var body: some View {
        if let reason {
            Text(reason)
                .font(.footnote)
                .foregroundStyle(.red)
                .accessibilityIdentifier(identifier)
        }
    }
}

/// A chip that is chosen or not (days, list or grid).
struct Chip: View {
    let label: Text
    let selected: Bool
    let action: () -> Void

    var body: some View {
        Button(action: action) {
            label
                .font(.subheadline)
                .padding(.horizontal, 12)
                .padding(.vertical, 6)
                .background(
                    selected ? Color.accentColor.opacity(0.2) : Color.clear, in: RoundedRectangle(cornerRadius: 8)
                )
                .overlay(RoundedRectangle(cornerRadius: 8).strokeBorder(Color.secondary.opacity(0.4)))
        }
        .buttonStyle(.plain)
        .accessibilityAddTraits(selected ? .isSelected : [])
    }
}

/// A quiet line saying a list is empty.
struct EmptyLine: View {
    let text: LocalizedStringKey

    var body: some View {
        Text(text)
            .font(.body)
            .foregroundStyle(.secondary)
            .frame(maxWidth: .infinity, alignment: .leading)
            .padding(24)
    }
}

/// The start of a public key, as lists show it.
func shortKey(_ key: String) -> String { key.count > 12 ? "\(key.prefix(8))…\(key.suffix(4))" : key }
