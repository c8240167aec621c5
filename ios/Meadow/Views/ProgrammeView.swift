import MeadowKit
import SwiftUI

/// The programme of a day, as a list or as a grid, with the day, venue, track and tag chosen above.
struct ProgrammeView: View {
    let model: FestivalModel
    @Environment(\.texts) private var texts
    @SceneStorage("programme.grid") private var grid = false

    var body: some View {
        VStack(spacing: 0) {
            filters
            Divider()
            if let view = model.programme {
                if view.rows.isEmpty {
                    EmptyLine(text: "No events")
                    Spacer()
                } else if grid {
                    GridView(view: view, clock: model.festivalClock, now: model.clock())
                } else {
                    ProgrammeList(model: model, view: view)
                }
            } else {
                ProgressView().frame(maxHeight: .infinity)
            }
        }
    }

    private var filters: some View {
        VStack(alignment: .leading, spacing: 6) {
            ScrollView(.horizontal, showsIndicators: false) {
                HStack(spacing: 6) {
                    ForEach(model.days, id: \.date) { day in
                        let label = model.festivalClock.day(day.date, locale: texts.locale)
                        Chip(label: Text(label), selected: day.date == model.query.day) {
                            show { $0.day = day.date }
                        }
                        .accessibilityLabel(label + ", " + texts.eventCount(day.events))
                        .accessibilityIdentifier("day-\(day.date)")
                    }
                }
                .padding(.horizontal)
            }
            .accessibilityIdentifier("days")
            ScrollView(.horizontal, showsIndicators: false) {
                HStack(spacing: 6) {
                    Chip(label: Text("List"), selected: !grid) { grid = false }
                        .accessibilityIdentifier("mode-list")
                    Chip(label: Text("Grid"), selected: grid) { grid = true }
                        .accessibilityIdentifier("mode-grid")
                    venueMenu
                    trackMenu
                    tagMenu
                }
                .padding(.horizontal)
            }
        }
        .padding(.vertical, 6)
    }

    private var venueMenu: some View {
        let chosen = model.facets.venues.first { $0.id == model.query.venueId }
        return Menu {
            Button("All venues") { show { $0.venueId = nil } }
            ForEach(model.facets.venues, id: \.id) { venue in
                Button(venue.name) { show { $0.venueId = venue.id } }
            }
        } label: {
            FilterLabel(text: chosen.map { Text($0.name) } ?? Text("All venues"), chosen: chosen != nil)
        }
        .accessibilityIdentifier("filter-venue")
    }

    private var trackMenu: some View {
        Menu {
            Button("All tracks") { show { $0.track = nil } }
            ForEach(model.facets.tracks, id: \.self) { track in
                Button(track) { show { $0.track = track } }
            }
        } label: {
            FilterLabel(
                text: model.query.track.map { Text($0) } ?? Text("All tracks"), chosen: model.query.track != nil)
        }
        .accessibilityIdentifier("filter-track")
    }

    private var tagMenu: some View {
        Menu {
            Button("All tags") { show { $0.tag = nil } }
            ForEach(model.facets.tags, id: \.self) { tag in
                Button {
                    show { $0.tag = tag }
                } label: {
                    Text(verbatim: "#" + tag)
                }
            }
        } label: {
            FilterLabel(
                text: model.query.tag.map { Text(verbatim: "#" + $0) } ?? Text("All tags"),
                chosen: model.query.tag != nil)
        }
        .accessibilityIdentifier("filter-tag")
    }

    private func show(_ change: (inout ProgrammeQuery) -> Void) {
        var query = model.query
        change(&query)
        Task { await model.show(query) }
    }
}

/// A filter menu's chip: what is chosen, or "all".
private struct FilterLabel: View {
    let text: Text
    let chosen: Bool

    var body: some View {
        HStack(spacing: 4) {
            text
            Image(systemName: "chevron.down").imageScale(.small).accessibilityHidden(true)
        }
        .font(.subheadline)
        .padding(.horizontal, 12)
        .padding(.vertical, 6)
        .background(chosen ? Color.accentColor.opacity(0.2) : Color.clear, in: RoundedRectangle(cornerRadius: 8))
        .overlay(RoundedRectangle(cornerRadius: 8).strokeBorder(Color.secondary.opacity(0.4)))
    }
}

/// The day as a list, with the now line where the core puts it; a day that holds now opens there.
struct ProgrammeList: View {
    let model: FestivalModel
    let view: DayView

    var body: some View {
        let now = model.clock()
        let rows = view.rows.map { RowData($0, in: view) }
        let marker = nowLine(view: view, now: now).map { Int($0) }
        let clock = model.festivalClock
        ScrollViewReader { proxy in
            List {
                ForEach(Array(rows.enumerated()), id: \.element.id) { index, row in
                    if index == marker {
                        NowMarker(time: clock.time(now)).id("now")
                    }
                    EventRow(row: row, clock: clock) { on in
                        Task { _ = await model.setFavourite(row.id, on) }
                    }
                }
                if marker == rows.count {
                    NowMarker(time: clock.time(now)).id("now")
                }
            }
            .listStyle(.plain)
            .accessibilityIdentifier("programme-list")
            .onAppear {
                if marker != nil { proxy.scrollTo("now", anchor: .top) }
            }
        }
    }
}
