import MeadowKit
import SwiftUI

/// The newest emergency announcement, over every tab; tapping it opens the announcements.
struct EmergencyBanner: View {
    let announcement: AnnouncementView
    let open: () -> Void
    @Environment(\.texts) private var texts

    var body: some View {
        Button(action: open) {
            VStack(alignment: .leading, spacing: 2) {
                Label(texts.emergency, systemImage: "exclamationmark.triangle.fill")
                    .font(.headline)
                Text(announcement.text)
                    .font(.subheadline)
                    .multilineTextAlignment(.leading)
            }
            .foregroundStyle(Color.white)
            .frame(maxWidth: .infinity, alignment: .leading)
            .padding(.horizontal)
            .padding(.vertical, 10)
            .background(Color.red)
        }
        .buttonStyle(.plain)
        .accessibilityElement(children: .combine)
        .accessibilityAddTraits(.isButton)
        .accessibilityIdentifier("emergency-banner")
    }
}
