import MeadowKit
import SwiftUI
import UIKit

/// This device's identity: the fingerprint to read aloud, the public key to be named organiser,
/// and the display name in the open festival.
struct IdentityView: View {
    @Environment(AppModel.self) private var app
    @State private var name = ""
    @State private var result: Outcome<Void>?
    @State private var copied = false

    var body: some View {
        Form {
            Section {
                Text(app.fingerprint)
                    .font(.title3.monospaced())
                    .textSelection(.enabled)
                    .accessibilityIdentifier("fingerprint")
            } header: {
                Text("Fingerprint")
            } footer: {
                Text("Read it aloud to someone who wants to be sure it is you.")
            }
            Section {
                Text(app.publicKey)
                    .font(.caption.monospaced())
                    .textSelection(.enabled)
                    .accessibilityIdentifier("public-key")
                Button {
                    UIPasteboard.general.string = app.publicKey
                    copied = true
                } label: {
                    if copied {
                        Label("Copied", systemImage: "checkmark")
                    } else {
                        Label("Copy public key", systemImage: "doc.on.doc")
                    }
                }
                .accessibilityIdentifier("copy-key")
            } header: {
                Text("Public key")
            }
            Section {
                TextField("Display name", text: $name).accessibilityIdentifier("display-name")
                FieldError(reason: result?.failure, identifier: "display-name-error")
                Button("Save") { Task { result = await app.setDisplayName(name) } }
                    .accessibilityIdentifier("display-name-save")
            }
        }
        .navigationTitle("Identity")
        .accessibilityIdentifier("identity")
        .onAppear { name = app.displayName ?? "" }
        .onChange(of: app.displayName) { _, saved in name = saved ?? "" }
    }
}
