import MeadowKit
import SwiftUI

/// Full-text search over the programme, best first; the results follow the store.
struct SearchView: View {
    let model: FestivalModel
    @State private var text = ""
    @State private var hits: [EventView]?
    @Environment(\.texts) private var texts

    var body: some View {
        let clock = model.festivalClock
        List {
            if let hits {
                if hits.isEmpty {
                    Text("Nothing found").foregroundStyle(.secondary)
                }
                ForEach(hits, id: \.id) { e in
                    EventRow(
                        row: RowData(e), clock: clock,
                        favourite: { on in Task { _ = await model.setFavourite(e.id, on) } }
                    ) {
                        Text(clock.day(e.day, locale: texts.locale)).font(.caption).foregroundStyle(.secondary)
                    }
                }
            }
        }
        .listStyle(.plain)
        .accessibilityIdentifier("search-results")
        .navigationTitle("Search")
        .searchable(
            text: $text, placement: .navigationBarDrawer(displayMode: .always), prompt: Text("Title, person, tag…")
        )
        .task(id: SearchKey(text: text, version: model.version)) {
            // A short pause while typing, then the core's search.
            try? await Task.sleep(nanoseconds: 200_000_000)
            guard !Task.isCancelled else { return }
            let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
            if trimmed.isEmpty {
                hits = nil
            } else {
                hits = await model.search(trimmed)
            }
        }
    }
}

private struct SearchKey: Equatable {
    let text: String
    let version: Int
}
