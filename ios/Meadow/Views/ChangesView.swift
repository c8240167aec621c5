import MeadowKit
import SwiftUI

/// What changed since this device last looked: marked seen when the screen is left, or at once
/// with the button.
struct ChangesView: View {
    let model: FestivalModel
    @Environment(\.texts) private var texts
    @State private var looked = false

    var body: some View {
        let clock = model.festivalClock
        Group {
            if model.changes.isEmpty {
                EmptyLine(text: "No changes since you last looked")
                Spacer()
            } else {
                List(model.changes, id: \.event.id) { change in
                    EventRow(
                        row: RowData(change.event), clock: clock,
                        favourite: { on in Task { _ = await model.setFavourite(change.event.id, on) } }
                    ) {
                        Text(describe(change.kind, clock: clock))
                            .font(.caption.weight(.medium))
                            .foregroundStyle(.tint)
                            .accessibilityIdentifier("change-\(change.event.id)")
                    }
                }
                .listStyle(.plain)
                .accessibilityIdentifier("changes")
            }
        }
        .toolbar {
            if !model.changes.isEmpty {
                ToolbarItem(placement: .topBarLeading) {
                    Button("Mark all seen") { Task { await model.markSeen() } }
                        .accessibilityIdentifier("mark-seen")
                }
            }
        }
        .onAppear { looked = !model.changes.isEmpty }
        .onDisappear {
            // Seen once looked at: the badge clears when the person moves on.
            if looked { Task { await model.markSeen() } }
            looked = false
        }
    }

    private func describe(_ kind: ChangeKind, clock: FestivalClock) -> String {
        if case .moved(let fromStart, _, let fromVenue) = kind {
            let from = [clock.dayTime(fromStart, locale: texts.locale), fromVenue].filter { !$0.isEmpty }
            return texts.change(kind, from: from.joined(separator: ", "))
        }
        return texts.change(kind, from: nil)
    }
}
