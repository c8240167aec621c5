import MeadowKit
import SwiftUI

/// Per venue, what is on now and what comes next.
struct NowNextView: View {
    let model: FestivalModel

    var body: some View {
        let clock = model.festivalClock
        Group {
            if model.nowNext.isEmpty {
                EmptyLine(text: "Nothing on")
                Spacer()
            } else {
                List(model.nowNext, id: \.venueName) { venue in
                    Section {
                        line(Text("Now"), venue.now, clock)
                        line(Text("Next"), venue.next, clock)
                    } header: {
                        if venue.venueName.isEmpty {
                            Text(verbatim: "—")
                        } else {
                            Text(venue.venueName)
                        }
                    }
                }
                .accessibilityIdentifier("now-next")
            }
        }
    }

    @ViewBuilder
    private func line(_ label: Text, _ event: EventView?, _ clock: FestivalClock) -> some View {
        if let event {
            NavigationLink(value: Route.event(event.id)) {
                HStack(alignment: .firstTextBaseline) {
                    label.font(.subheadline.weight(.semibold)).foregroundStyle(.tint)
                    VStack(alignment: .leading, spacing: 2) {
                        Text(event.title).strikethrough(event.cancelled)
                        Text(clock.span(event.start, event.end))
                            .font(.caption.monospacedDigit())
                            .foregroundStyle(.secondary)
                    }
                    Spacer()
                    KindLabel(official: event.official)
                }
                .accessibilityElement(children: .combine)
            }
        } else {
            HStack {
                label.font(.subheadline.weight(.semibold)).foregroundStyle(.tint)
                Text("Nothing on").foregroundStyle(.secondary)
            }
            .accessibilityElement(children: .combine)
        }
    }
}
