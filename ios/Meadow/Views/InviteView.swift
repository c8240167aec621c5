import MeadowKit
import SwiftUI

/// The invite for the open festival: a QR code and the link, to share; and joining another.
struct InviteView: View {
    @Environment(AppModel.self) private var app

    var body: some View {
        Form {
            Section {
                if let invite = app.net.invite {
                    QRCodeView(text: invite)
                        .frame(maxWidth: 280)
                        .frame(maxWidth: .infinity)
                        .accessibilityLabel("Festival invite QR code")
                        .accessibilityIdentifier("qr")
                    Text("Scan this code with Meadow, or share the link.")
                    Text(invite)
                        .font(.caption.monospaced())
                        .lineLimit(3)
                        .textSelection(.enabled)
                        .accessibilityIdentifier("invite-link")
                    ShareLink(item: invite) {
                        Label("Share link", systemImage: "square.and.arrow.up")
                    }
                    .accessibilityIdentifier("share-invite")
                } else {
                    Text("Sync is off").foregroundStyle(.secondary)
                    ProgressView()
                }
            }
            JoinSection()
        }
        .navigationTitle("Invite")
        .accessibilityIdentifier("invite")
        .task {
            // The invite names this device as a peer: sync must run to hand it out.
            if !app.net.running { _ = await app.startSync() }
        }
    }
}
