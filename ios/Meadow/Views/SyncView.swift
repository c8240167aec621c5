import MeadowKit
import SwiftUI

/// Sync: whether it runs, peers, the last sync, what arrived; the radios nearby.
struct SyncView: View {
    let model: FestivalModel
    @Environment(AppModel.self) private var app
    @Environment(DeviceServices.self) private var device
    @Environment(\.texts) private var texts
    @State private var failure: String?

    var body: some View {
        let net = app.net
        Form {
            Section {
                Group {
                    if net.running {
                        Text("Syncing with nearby devices")
                    } else {
                        Text("Sync is off")
                    }
                }
                .font(.headline)
                .accessibilityIdentifier("sync-state")
                Text(texts.syncLine(net, clock: model.festivalClock)).accessibilityIdentifier("sync-line")
                Text(texts.peers(net.peers)).accessibilityIdentifier("sync-peers")
                Text(texts.lastSync(net.lastSync.map { model.festivalClock.dayTime($0, locale: texts.locale) }))
                    .accessibilityIdentifier("sync-last")
                Text(texts.received(net.opsReceived)).foregroundStyle(.secondary)
                FieldError(reason: failure, identifier: "sync-error")
                Button {
                    Task { await toggle(net.running) }
                } label: {
                    if net.running {
                        Text("Stop sync")
                    } else {
                        Text("Start sync")
                    }
                }
                .accessibilityIdentifier("sync-toggle")
            } header: {
                Text("Local network")
            }
            Section {
                LabeledContent {
                    bluetoothState
                } label: {
                    Text("Bluetooth")
                }
                .accessibilityIdentifier("bluetooth-state")
                LabeledContent {
                    Text(texts.peers(UInt32(device.multipeerPeers)))
                } label: {
                    Text("Multipeer")
                }
                Toggle("Sync with phones nearby", isOn: radios)
                    .accessibilityIdentifier("radios-toggle")
            } header: {
                Text("Nearby")
            }
        }
        .navigationTitle("Sync")
        .accessibilityIdentifier("sync")
    }

    private var radios: Binding<Bool> {
        Binding(
            get: { @MainActor in device.radiosRunning },
            set: { @MainActor in device.setRadios($0, festival: app.current?.festival) })
    }

    @ViewBuilder
    private var bluetoothState: some View {
        switch device.bluetooth {
        case .on: Text("On")
        case .off: Text("Off")
        case .unauthorized: Text("Not allowed in Settings")
        case .unsupported: Text("Not on this device")
        case .unknown: Text("Unknown")
        }
    }

    private func toggle(_ running: Bool) async {
        if running {
            await app.stopSync()
            failure = nil
        } else {
            failure = await app.startSync().failure
        }
    }
}
