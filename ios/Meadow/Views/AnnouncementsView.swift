import MeadowKit
import SwiftUI

/// Announcements, newest first; emergencies and important ones stand out in colour and words.
struct AnnouncementsView: View {
    let model: FestivalModel
    @Environment(\.texts) private var texts

    var body: some View {
        Group {
            if model.announcements.isEmpty {
                EmptyLine(text: "No announcements")
                Spacer()
            } else {
                List(model.announcements, id: \.id) { a in
                    VStack(alignment: .leading, spacing: 4) {
                        switch a.priority {
                        case .emergency:
                            Warned(text: texts.emergency).font(.headline)
                        case .high:
                            Text("Important").font(.headline).foregroundStyle(.orange)
                        case .normal:
                            EmptyView()
                        }
                        Text(a.text)
                        if !a.authorName.isEmpty {
                            Text(verbatim: "— \(a.authorName)").font(.caption).foregroundStyle(.secondary)
                        }
                    }
                    .padding(.vertical, 4)
                    .accessibilityElement(children: .combine)
                    .listRowBackground(a.priority == .emergency ? Color.red.opacity(0.12) : nil)
                }
                .accessibilityIdentifier("announcements")
            }
        }
        .navigationTitle("Announcements")
    }
}
