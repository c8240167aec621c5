import Foundation
import Observation

/// Unix seconds now: the models' default clock.
public func unixNow() -> Int64 { Int64(Date().timeIntervalSince1970) }

/// The app around the festivals: which festivals this device holds, which one is open, this
/// identity, and what networking does. Opening a festival makes its `FestivalModel`. Kept current
/// by the core's change feed: nothing is polled.
@MainActor
@Observable
public final class AppModel {
    /// The node every read and write goes through.
    public let node: MeadowNode
    /// Unix seconds; the tests fix it inside the festival.
    public let clock: @Sendable () -> Int64
    /// Festivals on this device.
    public private(set) var festivals: [FestivalView] = []
    /// The open festival, if any.
    public private(set) var current: FestivalModel?
    /// Networking: running, peers, last sync, the invite.
    public private(set) var net = NetStatus(
        running: false, invite: nil, peers: 0, sessions: 0, opsReceived: 0, lastSync: nil)
    /// This identity's display name in the open festival.
    public private(set) var displayName: String?
    /// This device's fingerprint, to read aloud.
    public let fingerprint: String
    /// This device's public key (hex), to be named organiser.
    public let publicKey: String

    @ObservationIgnored private var feed: Task<Void, Never>?
    @ObservationIgnored private var opening: Task<Void, Never>?

    /// Follows the node's feed and opens the device's current festival, if it has one.
    public init(node: MeadowNode, clock: @escaping @Sendable () -> Int64 = unixNow) {
        self.node = node
        self.clock = clock
        fingerprint = node.fingerprint()
        publicKey = node.publicKey()
        let stream = node.changeStream(festival: nil, initial: true)
        feed = Task { [weak self] in
            var first = true
            for await change in stream {
                guard let self else { return }
                await self.apply(change)
                if first {
                    first = false
                    if self.current == nil, let f = try? await node.currentFestival() { await self.open(f) }
                }
            }
        }
    }

    private func apply(_ change: StoreChange) async {
        if change.network { await readNet() }
        if change.festival == nil || change.scopes.contains(.festival) { await readFestivals() }
        if change.scopes.contains(.profiles), change.festival != nil, change.festival == current?.festival {
            await readName()
        }
    }

    private func readFestivals() async {
        if let all = try? await node.festivals() { festivals = all }
    }

    private func readName() async {
        guard let f = current?.festival else { return displayName = nil }
        displayName = try? await node.displayName(festival: f, key: nil)
    }

    private func readNet() async {
        if let status = try? await node.netStatus() { net = status }
    }

    /// Opens a festival and makes it this device's current one. One at a time: the start-up read
    /// of the current festival and a festival opened meanwhile (created, joined, picked) must not
    /// each make a model, leaving the screens on one and the caller holding the other.
    public func open(_ festival: String) async {
        let previous = opening
        let task = Task { [weak self] in
            await previous?.value
            guard let self, self.current?.festival != festival else { return }
            try? await self.node.useFestival(festival: festival)
            self.current?.close()
            self.current = FestivalModel(node: self.node, festival: festival, clock: self.clock)
        }
        opening = task
        await task.value
        await readName()
        await readNet()
    }

    /// Creates a festival owned by this device and opens it.
    public func create(name: String, timezone: String, start: String, end: String) async -> Outcome<String> {
        let node = self.node
        let result = await outcome {
            try await node.createFestival(name: name, timezone: timezone, startDate: start, endDate: end)
        }
        if let id = result.value {
            await readFestivals()
            await open(id)
        }
        return result
    }

    /// Creates the demo festival (four days from `start`, `YYYY-MM-DD`) and opens it.
    public func createDemo(start: String) async -> Outcome<String> {
        let node = self.node
        let result = await outcome { try await node.createDemo(startDate: start) }
        if let id = result.value {
            await readFestivals()
            await open(id)
        }
        return result
    }

    /// Joins a festival from an invite link or its text (over the LAN if `lan`) and opens it.
    public func join(_ invite: String, lan: Bool = true) async -> Outcome<String> {
        let node = self.node
        let ticket = invite.trimmingCharacters(in: .whitespacesAndNewlines)
        let result = await outcome { try await node.join(ticket: ticket, lan: lan) }
        if let id = result.value {
            // The core marked what the festival held as seen: changes count from here.
            await readFestivals()
            await open(id)
        }
        return result
    }

    /// Imports a schedule file (Pentabarf XML, frab JSON, iCalendar or a Meadow archive) and
    /// opens the festival it made or updated.
    public func importFile(_ bytes: Data) async -> Outcome<String> {
        let node = self.node
        let result = await outcome { try await node.import(bytes: bytes) }
        if let id = result.value {
            await readFestivals()
            await open(id)
        }
        return result
    }

    /// Does what a `meadow://` link asks: joins its festival or asks to join its crew.
    public func follow(_ link: DeepLink) async -> Outcome<String> {
        switch link {
        case .joinFestival(let invite):
            return await join(invite)
        case .joinCrew(let invite):
            let node = self.node
            return await outcome {
                try await node.joinCrew(link: invite)
                return invite
            }
        }
    }

    /// Starts networking, so peers can sync and the invite can be shown.
    public func startSync(lan: Bool = true) async -> Outcome<NetStatus> {
        let node = self.node
        let result = await outcome { try await node.startNetworking(port: 0, lan: lan) }
        if let status = result.value { net = status }
        return result
    }

    /// Stops networking.
    public func stopSync() async {
        try? await node.stopNetworking()
        await readNet()
    }

    /// Sets this identity's display name in the open festival.
    public func setDisplayName(_ name: String) async -> Outcome<Void> {
        guard let f = current?.festival else { return .failed("no festival is open") }
        let node = self.node
        let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
        let result = await outcome {
            try await node.setDisplayName(festival: f, name: trimmed)
        }
        await readName()
        return result
    }

    /// Stops following the feed (and the open festival's).
    public func close() {
        feed?.cancel()
        current?.close()
    }
}
