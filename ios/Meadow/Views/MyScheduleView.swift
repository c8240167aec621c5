import MeadowKit
import SwiftUI

/// My schedule: favourites by day with their times, the free time between them, clashes and
/// reminder times, all as the core's agenda says.
struct MyScheduleView: View {
    let model: FestivalModel
    @Environment(\.texts) private var texts

    var body: some View {
        let clock = model.festivalClock
        let titles = Dictionary(model.agenda.map { ($0.event.id, $0.event.title) }, uniquingKeysWith: { a, _ in a })
        let days = Dictionary(grouping: model.agenda, by: { $0.event.day })
        Group {
            if model.agenda.isEmpty {
                EmptyLine(text: "Nothing here yet: tap the star on an event to add it.")
                Spacer()
            } else {
                List {
                    ForEach(days.keys.sorted(), id: \.self) { day in
                        Section(clock.day(day, locale: texts.locale)) {
                            ForEach(days[day] ?? [], id: \.event.id) { entry in
                                if let gap = entry.gapBefore.map({ $0 / 60 }), gap > 0 {
                                    Text(texts.minutesFree(gap))
                                        .font(.caption.weight(.medium))
                                        .foregroundStyle(.tint)
                                        .padding(.leading, 60)
                                }
                                row(entry, clock: clock, titles: titles)
                            }
                        }
                    }
                }
                .listStyle(.plain)
                .accessibilityIdentifier("favourites")
            }
        }
        .toolbar {
            ToolbarItem(placement: .topBarLeading) {
                ExportFavouritesButton(model: model)
            }
        }
    }

    private func row(_ entry: AgendaEntry, clock: FestivalClock, titles: [String: String]) -> some View {
        let e = entry.event
        return EventRow(
            row: RowData(e), clock: clock,
            favourite: { on in Task { _ = await model.setFavourite(e.id, on) } }
        ) {
            if !entry.clashesWith.isEmpty {
                Warned(text: texts.clashesWith(entry.clashesWith.compactMap { titles[$0] }))
                    .font(.caption.weight(.medium))
                    .accessibilityIdentifier("clash-\(e.id)")
            }
            if let at = entry.remindAt {
                Label(texts.remindAt(clock.time(at)), systemImage: "bell")
                    .font(.caption)
                    .foregroundStyle(.secondary)
            }
        }
        .listRowBackground(entry.clashesWith.isEmpty ? nil : Color.red.opacity(0.08))
    }
}

/// Hands every favourite to a calendar app as one iCalendar file.
private struct ExportFavouritesButton: View {
    let model: FestivalModel
    @State private var file: URL?

    var body: some View {
        Group {
            if let file {
                ShareLink(item: file) {
                    Image(systemName: "calendar.badge.plus")
                }
                .accessibilityLabel("Add my schedule to the calendar")
                .accessibilityIdentifier("export-favourites")
            }
        }
        .task(id: model.version) {
            guard let ics = await model.exportIcs(favouritesOnly: true).value else { return }
            let url = FileManager.default.temporaryDirectory.appendingPathComponent("meadow-my-schedule.ics")
            if (try? ics.write(to: url, atomically: true, encoding: .utf8)) != nil { file = url }
        }
    }
}
