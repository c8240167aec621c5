import MeadowKit
import SwiftUI

/// Add an event, or edit one: community for attendees, official for organisers, as the core
/// decides. The core reads the times on the chosen day; its refusals show beside the field they
/// name.
struct EventFormView: View {
    let model: FestivalModel
    let event: String?
    @State private var form: EventForm?
    @State private var loaded: EventForm?
    @State private var result: Outcome<String>?
    @State private var saving = false
    @Environment(\.dismiss) private var dismiss
    @Environment(\.texts) private var texts

    var body: some View {
        Group {
            if let binding = Binding($form) {
                fields(binding)
            } else {
                ProgressView()
            }
        }
        .navigationTitle(event == nil ? Text("Add event") : Text("Edit event"))
        .navigationBarTitleDisplayMode(.inline)
        .toolbar {
            ToolbarItem(placement: .confirmationAction) {
                Button("Save") { Task { await save() } }
                    .disabled(form == nil || saving)
                    .accessibilityIdentifier("save")
            }
        }
        .task {
            guard form == nil else { return }
            if let event {
                // The form as the core shows the event: its festival day and clock times on it.
                let f = try? await model.eventForm(event)
                loaded = f
                form = f
            } else {
                form = model.newForm()
            }
        }
    }

    private func fields(_ form: Binding<EventForm>) -> some View {
        let official = model.isOrganiser
        return Form {
            Section {
                HStack {
                    KindLabel(official: official)
                    if official {
                        Text("Posted as an official event").font(.footnote)
                    } else {
                        Text("Posted as a community event").font(.footnote)
                    }
                }
                .accessibilityElement(children: .combine)
                .accessibilityIdentifier("posts-as")
                TextField("Title", text: form.title)
                    .accessibilityIdentifier("field-title")
                FieldError(reason: result?.error(at: "title"), identifier: "field-title-error")
            }
            Section {
                Picker("Day", selection: form.day) {
                    ForEach(dayChoices(form.wrappedValue.day), id: \.self) { day in
                        Text(model.festivalClock.day(day, locale: texts.locale)).tag(day)
                    }
                }
                .accessibilityIdentifier("field-day")
                FieldError(reason: result?.error(at: "day"), identifier: "field-day-error")
                HStack {
                    TextField("Start", text: form.start, prompt: Text("HH:MM"))
                        .keyboardType(.numbersAndPunctuation)
                        .accessibilityIdentifier("field-start")
                    TextField("End", text: form.end, prompt: Text("HH:MM"))
                        .keyboardType(.numbersAndPunctuation)
                        .accessibilityIdentifier("field-end")
                }
                FieldError(reason: result?.error(at: "start"), identifier: "field-start-error")
                FieldError(reason: result?.error(at: "end"), identifier: "field-end-error")
            }
            Section {
                Picker("Venue", selection: form.venueId) {
                    Text("No venue").tag(String?.none)
                    ForEach(model.facets.venues, id: \.id) { venue in
                        Text(venue.name).tag(Optional(venue.id))
                    }
                }
                .accessibilityIdentifier("field-venue")
                FieldError(reason: result?.error(at: "venue"), identifier: "field-venue-error")
                TextField("Track", text: form.track)
                    .accessibilityIdentifier("field-track")
                FieldError(reason: result?.error(at: "track"), identifier: "field-track-error")
                TextField("Description", text: form.description, axis: .vertical)
                    .lineLimit(3...8)
                    .accessibilityIdentifier("field-description")
                FieldError(reason: result?.error(at: "description"), identifier: "field-description-error")
            }
            if case .failed(let reason)? = result {
                Section {
                    FieldError(reason: reason, identifier: "form-error")
                }
            }
        }
        .accessibilityIdentifier("edit-event")
    }

    /// The festival's days, with the form's own day if it is not among them.
    private func dayChoices(_ current: String) -> [String] {
        let days = model.days.map(\.date)
        return days.contains(current) || current.isEmpty ? days : [current] + days
    }

    private func save() async {
        guard let form else { return }
        saving = true
        let outcome = await model.saveEvent(event, form: form, loaded: loaded)
        saving = false
        result = outcome
        if outcome.value != nil { dismiss() }
    }
}
