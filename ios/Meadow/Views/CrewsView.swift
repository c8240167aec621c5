import MeadowKit
import SwiftUI

/// Crews: who is in each, where they are going and what they marked, where they will be apart;
/// create, invite (QR code and link), join by link or scan, share a note, leave; and "my
/// devices", the crew of this person's own devices.
struct CrewsView: View {
    let model: FestivalModel
    @State private var name = ""
    @State private var link = ""
    @State private var note = ""
    @State private var message: String?
    @State private var invite: String?
    @State private var scanning = false
    @Environment(\.texts) private var texts

    var body: some View {
        let people = model.crews.filter { !$0.devices }
        let mine = model.crews.filter(\.devices)
        List {
            if people.isEmpty {
                Section {
                    Text(
                        "No crews yet. A crew shares favourites, a note and where you are going, end to end encrypted, with no server."
                    )
                    .foregroundStyle(.secondary)
                }
            }
            ForEach(people, id: \.id) { crew in
                CrewSection(model: model, crew: crew, clashes: model.crewClashes[crew.id] ?? []) {
                    Task { await makeInvite(crew.id) }
                } leave: {
                    Task { message = await model.leaveCrew(crew.id).failure }
                }
            }
            if let invite {
                Section {
                    QRCodeView(text: invite)
                        .frame(maxWidth: 260)
                        .frame(maxWidth: .infinity)
                        .accessibilityLabel("Crew invite QR code")
                        .accessibilityIdentifier("crew-qr")
                    Text("Good for one person for a day. It lets them ask to join, nothing more.").font(.footnote)
                    Text(invite).font(.caption.monospaced()).textSelection(.enabled)
                        .accessibilityIdentifier("crew-invite-link")
                    ShareLink(item: invite) { Label("Share link", systemImage: "square.and.arrow.up") }
                }
            }
            if !people.isEmpty {
                Section {
                    TextField("Note for your crews", text: $note).accessibilityIdentifier("crew-note")
                    Button("Share") { Task { message = await model.shareNote(note).failure } }
                        .accessibilityIdentifier("crew-share")
                }
            }
            Section {
                Text(
                    "Your phone, laptop and tablet as one private crew: favourites, hidden events, mutes and what you have seen follow you."
                )
                .font(.footnote)
                .foregroundStyle(.secondary)
                ForEach(mine, id: \.id) { crew in
                    VStack(alignment: .leading, spacing: 4) {
                        Text(crew.name).font(.headline)
                        Text(texts.devices(crew.members.count)).font(.caption).foregroundStyle(.secondary)
                        ForEach(crew.members, id: \.key) { m in
                            Text(verbatim: "• \(m.fingerprint)\(m.isMe ? " (\(texts.you))" : "")")
                                .font(.caption.monospaced())
                        }
                    }
                    .accessibilityElement(children: .combine)
                    if crew.isAdmin {
                        Button("Invite one person") { Task { await makeInvite(crew.id) } }
                            .accessibilityIdentifier("devices-invite")
                    }
                }
                if mine.isEmpty {
                    Button("Link my devices") {
                        Task { message = await model.createDevicesCrew(String(localized: "My devices")).failure }
                    }
                    .accessibilityIdentifier("devices-create")
                }
            } header: {
                Text("My devices")
            }
            Section {
                TextField("Crew name", text: $name).accessibilityIdentifier("crew-name")
                Button("Create crew") {
                    Task {
                        message = await model.createCrew(name).failure
                        if message == nil { name = "" }
                    }
                }
                .disabled(name.trimmingCharacters(in: .whitespaces).isEmpty)
                .accessibilityIdentifier("crew-create")
            }
            Section {
                TextField("Crew invite link", text: $link)
                    .textInputAutocapitalization(.never)
                    .autocorrectionDisabled()
                    .accessibilityIdentifier("crew-link")
                Button("Ask to join") { Task { await join(link) } }
                    .disabled(link.isEmpty)
                    .accessibilityIdentifier("crew-join")
                Button {
                    scanning = true
                } label: {
                    Label("Scan a code", systemImage: "qrcode.viewfinder")
                }
                .accessibilityIdentifier("crew-scan")
            }
            if let message {
                Section {
                    Text(message).foregroundStyle(.secondary).accessibilityIdentifier("crew-message")
                }
            }
        }
        .navigationTitle("Crews")
        .accessibilityIdentifier("crews")
        .sheet(isPresented: $scanning) {
            QRScannerSheet { scanned in
                // The code holds the same link: scanning it asks to join at once.
                link = scanned.link
                Task { await join(scanned.link) }
            }
        }
    }

    private func makeInvite(_ crew: String) async {
        let outcome = await model.crewInvite(crew)
        invite = outcome.value
        message = outcome.failure
    }

    private func join(_ text: String) async {
        let outcome = await model.joinCrew(text)
        message =
            outcome.failure
            ?? String(localized: "Asked to join: you are in once the admin's phone has seen the request.")
    }
}

/// One crew: its members, where they are heading, their favourites with times, where they will
/// be apart, and invite (admin) or leave.
private struct CrewSection: View {
    let model: FestivalModel
    let crew: CrewView
    let clashes: [CrewClash]
    let invite: () -> Void
    let leave: () -> Void
    @Environment(\.texts) private var texts

    var body: some View {
        Section {
            ForEach(crew.members, id: \.key) { member($0) }
            ForEach(Array(clashes.enumerated()), id: \.offset) { _, clash in
                Warned(
                    text: texts.crewApart(
                        name(clash.first), title(clash.firstEvent), name(clash.second), title(clash.secondEvent))
                )
                .font(.caption)
                .accessibilityIdentifier("crew-clash")
            }
            if crew.isAdmin {
                Button("Invite one person", action: invite).accessibilityIdentifier("crew-invite")
            } else {
                Button("Leave crew", role: .destructive, action: leave).accessibilityIdentifier("crew-leave")
            }
        } header: {
            VStack(alignment: .leading) {
                Text(crew.name).font(.headline)
                HStack(spacing: 4) {
                    Text(texts.crewMembers(crew.members.count))
                    if crew.isAdmin {
                        Text(verbatim: "·")
                        Text("You are its admin")
                    }
                }
                .font(.caption)
            }
            .accessibilityIdentifier("crew-\(crew.id.prefix(8))")
        }
    }

    private func name(_ key: String) -> String {
        guard let m = crew.members.first(where: { $0.key == key }) else { return String(key.prefix(8)) }
        return (m.name.isEmpty ? m.fingerprint : m.name) + (m.isMe ? " (\(texts.you))" : "")
    }

    private func title(_ event: String) -> String { model.crewEvents[event]?.title ?? "" }

    private func member(_ m: CrewMember) -> some View {
        let clock = model.festivalClock
        let favourites = m.favourites.compactMap { model.crewEvents[$0] }.sorted { $0.start < $1.start }
        return HStack(alignment: .top) {
            memberInfo(m, favourites: favourites, clock: clock)
            Spacer()
            if crew.isAdmin && !m.isMe {
                Button("Remove", role: .destructive) {
                    Task { _ = await model.removeFromCrew(crew.id, member: m.key) }
                }
                .buttonStyle(.borderless)
                .font(.caption)
            }
        }
    }

    private func memberInfo(_ m: CrewMember, favourites: [EventView], clock: FestivalClock) -> some View {
        VStack(alignment: .leading, spacing: 2) {
            Text(name(m.key)).font(.subheadline.weight(.semibold))
            if let heading = m.heading, let event = m.headingEvent.flatMap({ model.crewEvents[$0] }) {
                HStack(spacing: 4) {
                    if heading == .hereNow {
                        Text("Here now")
                    } else {
                        Text("Heading to")
                    }
                    Text(event.title)
                }
                .foregroundStyle(.orange)
            }
            if !m.note.isEmpty { Text(verbatim: "“\(m.note)”") }
            if m.silent {
                Text("Has shared nothing yet").font(.caption).foregroundStyle(.secondary)
            }
            ForEach(favourites, id: \.id) { e in
                let place = e.venueName.isEmpty ? "" : " · \(e.venueName)"
                Text(verbatim: "★ \(clock.dayTime(e.start, locale: texts.locale)) \(e.title)\(place)")
                    .font(.caption)
                    .foregroundStyle(.secondary)
            }
        }
        .accessibilityElement(children: .combine)
    }
}
