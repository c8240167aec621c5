import MeadowKit
import SwiftUI

/// One event: everything about it, favourite, add to calendar, share, where it comes from, the
/// crew going, and what its author or the organisers may do.
struct EventDetailView: View {
    let model: FestivalModel
    let event: String
    @State private var detail: EventDetail?
    @State private var calendarFile: URL?
    @State private var message: String?
    @Environment(\.texts) private var texts

    var body: some View {
        Group {
            if let detail {
                content(detail)
            } else {
                ProgressView()
            }
        }
        .navigationBarTitleDisplayMode(.inline)
        .task(id: model.version) { await load() }
    }

    private func load() async {
        detail = try? await model.detail(event)
        if calendarFile == nil, let ics = await model.eventIcs(event).value {
            let url = FileManager.default.temporaryDirectory.appendingPathComponent("meadow-\(event.prefix(8)).ics")
            if (try? ics.write(to: url, atomically: true, encoding: .utf8)) != nil { calendarFile = url }
        }
    }

    private func content(_ d: EventDetail) -> some View {
        let e = d.event
        let clock = model.festivalClock
        let when = "\(clock.dayTime(e.start, locale: texts.locale))–\(clock.time(e.end))"
        let place = [e.venueName, e.track].filter { !$0.isEmpty }.joined(separator: " · ")
        return ScrollView {
            VStack(alignment: .leading, spacing: 10) {
                HStack {
                    KindLabel(official: e.official)
                    if e.cancelled {
                        Text("Cancelled").font(.subheadline.weight(.semibold)).foregroundStyle(.red)
                    } else if e.moved {
                        Text("Moved").font(.subheadline.weight(.semibold)).foregroundStyle(.orange)
                    }
                    Spacer()
                    FavouriteButton(on: e.favourite, identifier: "detail-star") {
                        Task { message = await model.setFavourite(e.id, !e.favourite).failure }
                    }
                }
                Text(e.title)
                    .font(.title2.bold())
                    .strikethrough(e.cancelled)
                    .accessibilityAddTraits(.isHeader)
                    .accessibilityIdentifier("detail-title")
                if !e.subtitle.isEmpty { Text(e.subtitle).font(.headline) }
                Text(when).font(.headline.monospacedDigit()).accessibilityIdentifier("detail-time")
                if !place.isEmpty {
                    Text(place).foregroundStyle(.secondary).accessibilityIdentifier("detail-venue")
                }
                if let moved = d.movedFrom {
                    let at = moved.venueName.isEmpty ? "" : " · \(moved.venueName)"
                    (Text("First announced for")
                        + Text(
                            verbatim:
                                " \(clock.dayTime(moved.start, locale: texts.locale))–\(clock.time(moved.end))\(at)"))
                        .foregroundStyle(.orange)
                        .accessibilityIdentifier("detail-moved-from")
                }
                if !d.crewGoing.isEmpty {
                    Text(texts.crewGoing(d.crewGoing)).foregroundStyle(.tint).accessibilityIdentifier("detail-crew")
                }
                if !e.tags.isEmpty {
                    Text(verbatim: e.tags.map { "#\($0)" }.joined(separator: "  ")).foregroundStyle(.secondary)
                }
                if !e.people.isEmpty {
                    SectionTitle(text: Text("People"))
                    Text(e.people.joined(separator: ", "))
                }
                if !d.description.isEmpty {
                    Text(d.description).padding(.top, 4)
                }
                if !d.links.isEmpty {
                    SectionTitle(text: Text("Links"))
                    ForEach(d.links, id: \.url) { link in
                        if let url = URL(string: link.url) {
                            Link(link.title.isEmpty ? link.url : link.title, destination: url)
                        }
                    }
                }
                actions(d)
                if !model.crews.isEmpty && !e.cancelled {
                    crewHeading(e)
                }
                if let provenance = d.provenance {
                    SectionTitle(text: Text("Where this comes from"))
                    OriginView(label: Text("Signed by"), origin: provenance.created, clock: clock)
                        .accessibilityIdentifier("provenance-created")
                    if let last = provenance.lastChange {
                        OriginView(label: Text("Last changed by"), origin: last, clock: clock)
                            .accessibilityIdentifier("provenance-changed")
                    }
                }
                if let message {
                    Text(message).foregroundStyle(.red).accessibilityIdentifier("detail-message")
                }
            }
            .padding()
            .frame(maxWidth: .infinity, alignment: .leading)
        }
        .accessibilityIdentifier("event-detail")
    }

    @ViewBuilder
    private func actions(_ d: EventDetail) -> some View {
        let e = d.event
        let organiser = model.isOrganiser
        HStack {
            if let calendarFile {
                ShareLink(item: calendarFile) {
                    Label("Add to calendar", systemImage: "calendar.badge.plus")
                }
                .buttonStyle(.bordered)
                .accessibilityIdentifier("add-to-calendar")
            }
            ShareLink(item: shareText(e)) {
                Label("Share", systemImage: "square.and.arrow.up")
            }
            .buttonStyle(.bordered)
            .accessibilityIdentifier("share-event")
            if d.editable {
                NavigationLink(value: Route.edit(e.id)) {
                    Label("Edit", systemImage: "pencil")
                }
                .buttonStyle(.borderedProminent)
                .accessibilityIdentifier("edit")
            }
        }
        .padding(.top, 8)
        VStack(alignment: .leading, spacing: 8) {
            if d.editable {
                Button {
                    Task { message = await model.cancelEvent(e.id, !e.cancelled).failure }
                } label: {
                    if e.cancelled {
                        Text("Restore event")
                    } else {
                        Text("Cancel event")
                    }
                }
                .accessibilityIdentifier("cancel-event")
            }
            // Hiding is for community content; organisers cancel their own.
            if organiser && !e.official {
                Button("Hide for everyone", role: .destructive) {
                    Task { message = await model.hideEvent(e.id, true).failure }
                }
                .accessibilityIdentifier("hide-event")
            }
            Button {
                Task { message = await model.hideHere(e.id, !d.hiddenHere).failure }
            } label: {
                if d.hiddenHere {
                    Text("Show in my programme again")
                } else {
                    Text("Hide from my programme")
                }
            }
            .accessibilityIdentifier("hide-here")
            if !e.official {
                Button("Mute this author") {
                    Task { message = await model.mute(e.creator, true).failure }
                }
                .accessibilityIdentifier("mute-author")
            }
        }
    }

    private func crewHeading(_ e: EventView) -> some View {
        HStack {
            Button {
                Task { message = await model.shareHeading(.headingTo, event: e.id).failure }
            } label: {
                Label("Tell my crews I'm heading here", systemImage: "figure.walk")
            }
            .accessibilityIdentifier("heading-to")
            Button {
                Task { message = await model.shareHeading(.hereNow, event: e.id).failure }
            } label: {
                Label("I'm here now", systemImage: "mappin.and.ellipse")
            }
            .accessibilityIdentifier("here-now")
        }
        .buttonStyle(.bordered)
        .font(.subheadline)
    }

    private func shareText(_ e: EventView) -> String {
        let clock = model.festivalClock
        let parts = [e.title, "\(clock.dayTime(e.start, locale: texts.locale))–\(clock.time(e.end))", e.venueName]
        return parts.filter { !$0.isEmpty }.joined(separator: " · ")
    }
}

/// A heading above a part of a screen.
struct SectionTitle: View {
    let text: Text

    var body: some View {
        text
            .font(.subheadline.weight(.semibold))
            .foregroundStyle(.tint)
            .padding(.top, 12)
            .accessibilityAddTraits(.isHeader)
    }
}

/// Who signed an op, when their clock says they wrote it, and how it reached this device.
struct OriginView: View {
    let label: Text
    let origin: OpOrigin
    let clock: FestivalClock
    @Environment(\.texts) private var texts

    var body: some View {
        let o = origin
        let who = [o.authorName, o.fingerprint].filter { !$0.isEmpty }.joined(separator: " · ")
        VStack(alignment: .leading, spacing: 2) {
            (label + Text(verbatim: " \(who)")).font(.subheadline)
            role.font(.caption).foregroundStyle(.secondary)
            HStack(spacing: 4) {
                Text(texts.writtenAt(clock.dayTime(o.writtenAt, locale: texts.locale)))
                if o.clockAhead { Text("(their clock is ahead of ours)") }
            }
            .font(.caption)
            .foregroundStyle(o.clockAhead ? Color.red : Color.secondary)
            Group {
                if let at = o.receivedAt {
                    Text(texts.reachedHere(clock.dayTime(at, locale: texts.locale), via: o.via, peer: o.peer))
                } else {
                    Text("Here since before this device recorded arrivals")
                }
            }
            .font(.caption)
            .foregroundStyle(.secondary)
            if o.verifiedHere {
                Label("Signature checked on this device, offline", systemImage: "checkmark.seal")
                    .font(.caption)
                    .foregroundStyle(.secondary)
            }
        }
        .padding(.vertical, 4)
        .accessibilityElement(children: .combine)
    }

    private var role: Text {
        let kind = origin.official ? Text("organiser") : Text("community")
        if origin.ownDevice { return kind + Text(verbatim: " · ") + Text("you, or one of your devices") }
        if !origin.crew.isEmpty {
            return kind + Text(verbatim: " · \(texts.inYourCrew(origin.crew))")
        }
        return kind
    }
}
