import MeadowKit
import SwiftUI
import UniformTypeIdentifiers

/// Organiser tools: announce (an urgent one is an emergency), name and remove organisers by key,
/// import a schedule file, and the core's word when this festival's log fills up.
struct OrganiserView: View {
    let model: FestivalModel
    @State private var text = ""
    @State private var urgent = false
    @State private var announceResult: Outcome<Void>?
    @State private var key = ""
    @State private var keyResult: Outcome<Void>?
    @State private var note: String?
    @State private var importing = false
    @State private var names: [String: String] = [:]

    /// What the importer offers: Pentabarf XML, frab JSON, iCalendar and Meadow archives.
    static let scheduleTypes: [UTType] = [
        .xml, .json, UTType(filenameExtension: "ics") ?? .calendarEvent,
        UTType(exportedAs: "org.meadow.archive", conformingTo: .data),
    ]

    var body: some View {
        Form {
            if let warning = model.logWarning {
                Section {
                    Warned(text: warning).accessibilityIdentifier("log-warning")
                }
            }
            Section {
                TextField("Announcement", text: $text, axis: .vertical)
                    .lineLimit(2...6)
                    .accessibilityIdentifier("announce-text")
                Toggle("Emergency (banner on every screen)", isOn: $urgent)
                    .accessibilityIdentifier("announce-urgent")
                FieldError(reason: announceResult?.failure, identifier: "announce-error")
                Button("Post") { Task { await announce() } }
                    .disabled(text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty)
                    .accessibilityIdentifier("announce-post")
            } header: {
                Text("Announce")
            }
            Section {
                if let info = model.info {
                    VStack(alignment: .leading) {
                        Text(names[info.owner] ?? shortKey(info.owner))
                        (Text("Owner") + Text(verbatim: " · \(shortKey(info.owner))"))
                            .font(.caption.monospaced())
                            .foregroundStyle(.secondary)
                    }
                    .accessibilityElement(children: .combine)
                    ForEach(info.organisers, id: \.self) { organiser in
                        HStack {
                            VStack(alignment: .leading) {
                                Text(names[organiser] ?? shortKey(organiser))
                                Text(shortKey(organiser)).font(.caption.monospaced()).foregroundStyle(.secondary)
                            }
                            .accessibilityElement(children: .combine)
                            Spacer()
                            Button("Remove", role: .destructive) {
                                Task { note = await model.removeOrganiser(organiser).failure }
                            }
                            .buttonStyle(.borderless)
                        }
                    }
                }
                TextField("Public key", text: $key)
                    .font(.body.monospaced())
                    .textInputAutocapitalization(.never)
                    .autocorrectionDisabled()
                    .accessibilityIdentifier("organiser-key")
                FieldError(reason: keyResult?.failure, identifier: "organiser-key-error")
                Button("Add organiser") { Task { await addOrganiser() } }
                    .disabled(key.isEmpty)
                    .accessibilityIdentifier("organiser-add")
            } header: {
                Text("Organisers")
            }
            Section {
                Button("Import schedule file") { importing = true }
                    .accessibilityIdentifier("import")
                if let note {
                    Text(note).accessibilityIdentifier("organiser-note")
                }
            }
        }
        .navigationTitle("Organiser tools")
        .accessibilityIdentifier("organiser")
        .fileImporter(isPresented: $importing, allowedContentTypes: Self.scheduleTypes) { picked in
            guard case .success(let url) = picked else { return }
            Task { await importFile(url) }
        }
        .task(id: model.info) { await readNames() }
    }

    private func announce() async {
        let outcome = await model.announce(text, urgent: urgent)
        announceResult = outcome
        if outcome.value != nil {
            text = ""
            urgent = false
        }
    }

    private func addOrganiser() async {
        let outcome = await model.addOrganiser(key)
        keyResult = outcome
        if outcome.value != nil { key = "" }
    }

    private func importFile(_ url: URL) async {
        let scoped = url.startAccessingSecurityScopedResource()
        defer { if scoped { url.stopAccessingSecurityScopedResource() } }
        guard let bytes = try? Data(contentsOf: url) else {
            note = String(localized: "The file could not be read.")
            return
        }
        let outcome = await model.importSchedule(bytes)
        note = outcome.value != nil ? String(localized: "Imported") : outcome.failure
    }

    /// Organisers by the names they set.
    private func readNames() async {
        guard let info = model.info else { return }
        var found: [String: String] = [:]
        for key in [info.owner] + info.organisers {
            if let name = await model.displayName(of: key), !name.isEmpty { found[key] = name }
        }
        names = found
    }
}
