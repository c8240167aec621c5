import MeadowKit
import SwiftUI

/// The festivals on this device: open one, try the demo, join one by link or QR code, or create one.
struct FestivalsView: View {
    @Environment(AppModel.self) private var app
    @State private var name = ""
    @State private var timezone = TimeZone.current.identifier
    @State private var first = ""
    @State private var last = ""
    @State private var created: Outcome<String>?
    @State private var busy = false

    var body: some View {
        Form {
            Section {
                ForEach(app.festivals, id: \.id) { festival in
                    HStack {
                        VStack(alignment: .leading, spacing: 2) {
                            Text(festival.fields.name).font(.headline)
                            Text(
                                verbatim:
                                    "\(festival.fields.startDate) – \(festival.fields.endDate) · \(festival.fields.timezone)"
                            )
                            .font(.caption)
                            .foregroundStyle(.secondary)
                        }
                        .accessibilityElement(children: .combine)
                        Spacer()
                        if app.current?.festival == festival.id {
                            Text("Open now").foregroundStyle(.tint)
                        } else {
                            Button("Open") { Task { await app.open(festival.id) } }
                                .buttonStyle(.borderless)
                                .accessibilityIdentifier("open-\(festival.fields.name)")
                        }
                    }
                }
                if app.festivals.isEmpty {
                    Button {
                        Task {
                            busy = true
                            _ = await app.createDemo(start: Launch.today())
                            busy = false
                        }
                    } label: {
                        Label("Try the demo festival", systemImage: "sparkles")
                    }
                    .disabled(busy)
                    .accessibilityIdentifier("demo")
                }
            }
            JoinSection()
            Section {
                TextField("Name", text: $name).accessibilityIdentifier("new-name")
                FieldError(reason: created?.error(at: "name"), identifier: "new-name-error")
                TextField("Time zone", text: $timezone)
                    .textInputAutocapitalization(.never)
                    .autocorrectionDisabled()
                    .accessibilityIdentifier("new-timezone")
                FieldError(reason: created?.error(at: "timezone"), identifier: "new-timezone-error")
                TextField("First day", text: $first, prompt: Text(verbatim: "2026-07-10"))
                    .keyboardType(.numbersAndPunctuation)
                    .accessibilityIdentifier("new-first")
                FieldError(reason: created?.error(at: "start_date"), identifier: "new-first-error")
                TextField("Last day", text: $last, prompt: Text(verbatim: "2026-07-12"))
                    .keyboardType(.numbersAndPunctuation)
                    .accessibilityIdentifier("new-last")
                FieldError(reason: created?.error(at: "end_date"), identifier: "new-last-error")
                if case .failed(let reason)? = created {
                    FieldError(reason: reason, identifier: "new-error")
                }
                Button("Create") {
                    Task { created = await app.create(name: name, timezone: timezone, start: first, end: last) }
                }
                .accessibilityIdentifier("new-create")
            } header: {
                Text("New festival")
            }
        }
        .navigationTitle("Festivals")
        .accessibilityIdentifier("festivals")
    }
}

/// Paste or scan an invite to join a festival.
struct JoinSection: View {
    @Environment(AppModel.self) private var app
    @State private var link = ""
    @State private var error: String?
    @State private var busy = false
    @State private var scanning = false

    var body: some View {
        Section {
            TextField("Invite link", text: $link, prompt: Text(verbatim: "meadow://join/…"))
                .textInputAutocapitalization(.never)
                .autocorrectionDisabled()
                .accessibilityIdentifier("join-link")
            FieldError(reason: error, identifier: "join-link-error")
            HStack {
                Button("Join") { join(link) }
                    .disabled(busy || link.trimmingCharacters(in: .whitespaces).isEmpty)
                    .accessibilityIdentifier("join")
                Spacer()
                Button {
                    scanning = true
                } label: {
                    Label("Scan QR code", systemImage: "qrcode.viewfinder")
                }
                .accessibilityIdentifier("scan")
            }
            .buttonStyle(.borderless)
            // On one row: a modifier on the Section would go to each of its rows.
            .sheet(isPresented: $scanning) {
                QRScannerSheet { scanned in
                    link = scanned.link
                    join(scanned.link)
                }
            }
            if busy { ProgressView() }
        } header: {
            Text("Join a festival")
        }
    }

    private func join(_ text: String) {
        busy = true
        Task {
            switch DeepLink.parse(text) {
            case .some(let link):
                error = await app.follow(link).failure
            case .none:
                error = await app.join(text).failure
            }
            busy = false
        }
    }
}
