import Foundation
import MeadowKit
import Observation
import SwiftUI

/// The device's side of the app: Bluetooth and Multipeer for the open festival, notifications,
/// links and files the app is opened with, and where a tapped notification leads. It moves bytes
/// and hands things to the system; every decision is MeadowKit's or the core's.
@MainActor
@Observable
final class DeviceServices {
    /// An event to show, from a tapped notification or a link; the root view opens it.
    var eventToOpen: String?
    /// What following a link or importing a file came to, if it failed: shown once.
    var linkProblem: String?
    /// Bluetooth's state, for the sync screen.
    private(set) var bluetooth: BluetoothPower = .unknown
    /// Devices connected over Multipeer now.
    private(set) var multipeerPeers = 0

    private let node: MeadowNode
    private let radios: Bool
    let notifications: NotificationPlanner
    @ObservationIgnored private var radio: BluetoothRadio?
    @ObservationIgnored private var multipeer: MultipeerSync?
    @ObservationIgnored private var festival: String?

    /// Services over `node`; without `radios` (the UI tests) nothing asks for Bluetooth,
    /// the local network or notification permission.
    init(node: MeadowNode, radios: Bool) {
        self.node = node
        self.radios = radios
        notifications = NotificationPlanner(asks: radios)
        notifications.onOpen = { [weak self] event in self?.eventToOpen = event }
    }

    /// The app is up: ask for notifications and follow the open festival.
    func started(app: AppModel) async {
        await notifications.requestPermission()
        follow(app.current?.festival)
    }

    /// The open festival changed: the radios follow it.
    func follow(_ festival: String?) {
        guard radios, festival != self.festival else { return }
        self.festival = festival
        radio?.stop()
        multipeer?.stop()
        radio = nil
        multipeer = nil
        guard let festival else { return }
        let radio = BluetoothRadio(node: node, festival: festival) { [weak self] power in
            self?.bluetooth = power
        }
        radio.start()
        self.radio = radio
        let multipeer = MultipeerSync(node: node, festival: festival) { [weak self] peers in
            self?.multipeerPeers = peers
        }
        multipeer.start()
        self.multipeer = multipeer
    }

    /// Whether Bluetooth and Multipeer run (the sync screen's switch turns them off and on).
    var radiosRunning: Bool { radio != nil }

    /// Turns the radios off, or on again for the open festival.
    func setRadios(_ on: Bool, festival: String?) {
        if on {
            self.festival = nil
            follow(festival)
        } else {
            radio?.stop()
            multipeer?.stop()
            radio = nil
            multipeer = nil
            self.festival = nil
            bluetooth = .off
            multipeerPeers = 0
        }
    }

    /// The app came to the front or went away: notifications are planned again on the way.
    func scene(_ phase: ScenePhase, app: AppModel) {
        switch phase {
        case .active, .background:
            if let model = app.current { Task { await notifications.plan(model: model, node: node) } }
        default:
            break
        }
    }

    /// A `meadow://` link, or a schedule file handed to the app.
    func open(_ url: URL, app: AppModel) {
        if url.isFileURL {
            Task { await importFile(url, app: app) }
            return
        }
        guard let link = DeepLink.parse(url.absoluteString) else {
            linkProblem = String(localized: "This link is not a Meadow invite.")
            return
        }
        Task {
            let result = await app.follow(link)
            linkProblem = result.failure
        }
    }

    private func importFile(_ url: URL, app: AppModel) async {
        let scoped = url.startAccessingSecurityScopedResource()
        defer { if scoped { url.stopAccessingSecurityScopedResource() } }
        guard let bytes = try? Data(contentsOf: url) else {
            linkProblem = String(localized: "The file could not be read.")
            return
        }
        guard let model = app.current else {
            linkProblem = await app.importFile(bytes).failure
            return
        }
        linkProblem = await model.importSchedule(bytes).failure
    }
}
