import Foundation

/// What MeadowKit asks of the Bluetooth LE hardware. The app implements it over CoreBluetooth
/// (`CBCentralManager` and `CBPeripheralManager`); the tests over a simulated link. It only moves
/// bytes and reports back through `ProximityRadio`'s methods: every decision is the core's.
public protocol RadioHardware: AnyObject, Sendable {
    /// Scan for the Meadow service.
    func startScan()
    /// Stop scanning.
    func stopScan()
    /// Advertise the Meadow service. `serviceData` is the core's 10-byte payload; iOS cannot put
    /// service data in an advertisement, so its hardware advertises the service UUID only and
    /// peers read the same bytes from the State characteristic.
    func advertise(serviceData: Data)
    /// Stop advertising.
    func stopAdvertising()
    /// As central: connect to `peer`, discover the service, then either read State (`readState`,
    /// answered by `stateRead`) or subscribe to RX (answered by `centralReady`).
    func connect(peer: UInt64, readState: Bool)
    /// As central, after a State read on the same connection: subscribe to RX, then
    /// `centralReady`.
    func subscribe(peer: UInt64)
    /// Send one packet to `peer`: as central a write without response to TX, as peripheral a
    /// notification on RX. False when the radio's queue is full: `sendReady` says when to retry.
    func send(peer: UInt64, packet: Data, asCentral: Bool) -> Bool
    /// Drop the connection to `peer`; the hardware then reports `disconnected`.
    func disconnect(peer: UInt64)
}

/// Bluetooth LE for Meadow: turns the radio's callbacks into calls of the core's `Encounters`
/// scheduler and `LinkSession`s, and does what the scheduler asks. Every callback is queued and
/// handled in order on one task, as the core's sessions need their packets in order.
public final class ProximityRadio: @unchecked Sendable {
    // Shared state is touched only on the event task, except what `lock` guards.
    private let node: MeadowNode
    private let festival: String
    private let hardware: RadioHardware
    private let clock: @Sendable () -> UInt64
    private let events: AsyncStream<Event>.Continuation
    private var worker: Task<Void, Never>?
    private var encounters: Encounters?
    private var links: [UInt64: RadioLink] = [:]
    private let lock = NSLock()
    private var queued = 0
    private var handled = 0
    private var stateValueCache: Data?
    private var endedLinks: [LinkEnd] = []

    private enum Event {
        case pump
        case discovered(UInt64, Data?)
        case stateRead(UInt64, Data?)
        case centralReady(UInt64, UInt32)
        case incoming(UInt64)
        case received(UInt64, Data)
        case sendReady(UInt64)
        case mtu(UInt64, UInt32)
        case disconnected(UInt64)
        case storeChanged
    }

    /// A radio for `festival` on `node`; `clock` gives milliseconds (the tests drive it).
    public init(
        node: MeadowNode, festival: String, hardware: RadioHardware,
        clock: @escaping @Sendable () -> UInt64 = { UInt64(Date().timeIntervalSince1970 * 1000) }
    ) {
        self.node = node
        self.festival = festival
        self.hardware = hardware
        self.clock = clock
        let (stream, continuation) = AsyncStream<Event>.makeStream()
        events = continuation
        worker = Task { [weak self] in
            for await event in stream {
                guard let self else { return }
                await self.handle(event)
                self.lock.withLock { self.handled += 1 }
            }
        }
    }

    deinit { events.finish() }

    /// Starts the scheduler with what the store holds; the first `pump` advertises and scans.
    public func start() async throws {
        let state = try await node.proximityState(festival: festival)
        let e = try Encounters(state: state, l2cap: false, nowMs: clock())
        encounters = e
        lock.withLock { stateValueCache = try? e.stateValue(psm: 0) }
        post(.pump)
    }

    /// Stops advertising, scanning and every link.
    public func stop() {
        hardware.stopAdvertising()
        hardware.stopScan()
        for peer in lock.withLock({ Array(links.keys) }) { hardware.disconnect(peer: peer) }
        events.finish()
        worker?.cancel()
    }

    /// Links open now.
    public var openLinks: Int { lock.withLock { links.count } }

    /// How each swap so far ended.
    public var ended: [LinkEnd] { lock.withLock { endedLinks } }

    /// Milliseconds until the scheduler or a session wants `pump` again (the app's timer).
    public func nextWake() -> UInt64 {
        let now = clock()
        let due = (try? encounters?.pollTimeout(nowMs: now)) ?? (now + 5_000)
        return due > now ? due - now : 0
    }

    /// The State characteristic's value, for a central's read (answered at once).
    public func stateValue() -> Data? { lock.withLock { stateValueCache } }

    /// Time passed: the scheduler and the sessions act on what is due.
    public func pump() { post(.pump) }

    /// A scan found `peer` with the service's data, or (nil) with the service UUID only.
    public func discovered(peer: UInt64, serviceData: Data?) { post(.discovered(peer, serviceData)) }

    /// A State read as central finished (nil: it failed).
    public func stateRead(peer: UInt64, value: Data?) { post(.stateRead(peer, value)) }

    /// As central: connected, service found and RX subscribed, with this ATT MTU.
    public func centralReady(peer: UInt64, mtu: UInt32) { post(.centralReady(peer, mtu)) }

    /// As peripheral: a central connected (subscribed to RX or wrote TX first).
    public func incoming(peer: UInt64) { post(.incoming(peer)) }

    /// Bytes arrived from `peer` (a TX write as peripheral, an RX notification as central).
    public func received(peer: UInt64, bytes: Data) { post(.received(peer, bytes)) }

    /// The radio can take more packets for `peer`.
    public func sendReady(peer: UInt64) { post(.sendReady(peer)) }

    /// The ATT MTU with `peer` changed.
    public func mtuChanged(peer: UInt64, mtu: UInt32) { post(.mtu(peer, mtu)) }

    /// The connection to `peer` is gone.
    public func disconnected(peer: UInt64) { post(.disconnected(peer)) }

    /// What the store holds changed: the advertisement follows once it settles.
    public func storeChanged() { post(.storeChanged) }

    /// Waits until every callback queued so far is handled (tests, and the app before a
    /// background task ends).
    public func settle() async {
        while lock.withLock({ handled < queued }) { try? await Task.sleep(nanoseconds: 1_000_000) }
    }

    private func post(_ event: Event) {
        lock.withLock { queued += 1 }
        if case .terminated = events.yield(event) { lock.withLock { queued -= 1 } }
    }

    private func handle(_ event: Event) async {
        guard let e = encounters else { return }
        let now = clock()
        switch event {
        case .pump:
            for link in lock.withLock({ Array(links.values) }) {
                if let due = link.session?.nextTimeout(), due <= now, let s = link.session {
                    if let end = try? await s.tick(nowMs: now) { finish(link.peer, end, cameUp: true) }
                }
            }
        case .discovered(let peer, let data):
            // A peer whose advertisement does not decode is ignored, not trusted.
            if let data {
                try? e.seenServiceData(peer: peer, payload: data, nowMs: now)
            } else {
                try? e.seenServiceOnly(peer: peer, nowMs: now)
            }
        case .stateRead(let peer, let value):
            // A value that does not decode counts as a failed read.
            if (try? e.stateRead(peer: peer, value: value, nowMs: now)) == nil {
                try? e.stateRead(peer: peer, value: nil, nowMs: now)
            }
            await act(e, now)
            // The scheduler went on with a swap (subscribe), or the link is over.
            if let link = lock.withLock({ links[peer] }), !link.subscribing {
                _ = lock.withLock { links.removeValue(forKey: peer) }
                hardware.disconnect(peer: peer)
            }
            return
        case .centralReady(let peer, let mtu):
            guard let link = lock.withLock({ links[peer] }) else { return hardware.disconnect(peer: peer) }
            link.setMtu(mtu)
            link.session = try? await node.initiateLink(link: link, festival: festival, via: .bluetooth, nowMs: now)
            if link.session == nil { hardware.disconnect(peer: peer) }
        case .incoming(let peer):
            if lock.withLock({ links[peer] }) != nil { break }
            guard (try? e.incoming(peer: peer, nowMs: now)) == true else { return hardware.disconnect(peer: peer) }
            let link = RadioLink(peer: peer, central: false, hardware: hardware)
            lock.withLock { links[peer] = link }
        case .received(let peer, let bytes):
            guard let link = lock.withLock({ links[peer] }) else { return }
            let session = link.session ?? node.respondLink(link: link, via: .bluetooth, nowMs: now)
            link.session = session
            do {
                if let end = try await session.received(bytes: bytes, nowMs: now) { finish(peer, end, cameUp: true) }
            } catch {
                hardware.disconnect(peer: peer)
            }
        case .sendReady(let peer):
            lock.withLock { links[peer] }?.flush()
        case .mtu(let peer, let mtu):
            lock.withLock { links[peer] }?.setMtu(mtu)
        case .disconnected(let peer):
            let link = lock.withLock { links[peer] }
            let end = try? await link?.session?.closed()
            finish(peer, end ?? nil, cameUp: link?.session != nil)
        case .storeChanged:
            if let state = try? await node.proximityState(festival: festival) {
                try? e.setState(state: state, nowMs: now)
                lock.withLock { stateValueCache = try? e.stateValue(psm: 0) }
            }
        }
        await act(e, now)
    }

    /// Does what the scheduler asks, until it asks nothing more.
    private func act(_ e: Encounters, _ now: UInt64) async {
        while let action = try? e.pollAction(nowMs: now) {
            switch action {
            case .startScan: hardware.startScan()
            case .stopScan: hardware.stopScan()
            case .advertise(let serviceData, _): hardware.advertise(serviceData: serviceData)
            case .stopAdvertising: hardware.stopAdvertising()
            case .connect(let peer): connect(peer, read: false)
            case .readState(let peer): connect(peer, read: true)
            case .disconnect(let peer):
                lock.withLock { links[peer] }?.endedByScheduler = true
                hardware.disconnect(peer: peer)
            }
        }
    }

    private func connect(_ peer: UInt64, read: Bool) {
        if let existing = lock.withLock({ links[peer] }), existing.central {
            // After a State read: the swap goes on over the same connection.
            existing.subscribing = true
            hardware.subscribe(peer: peer)
            return
        }
        let link = RadioLink(peer: peer, central: true, hardware: hardware)
        link.subscribing = !read
        lock.withLock { links[peer] = link }
        hardware.connect(peer: peer, readState: read)
    }

    /// A link ended: the scheduler hears how, and a swap that brought ops refreshes the state.
    private func finish(_ peer: UInt64, _ end: LinkEnd?, cameUp: Bool) {
        guard let link = lock.withLock({ links.removeValue(forKey: peer) }) else { return }
        if let end { lock.withLock { endedLinks.append(end) } }
        let outcome: LinkOutcome =
            end?.finished == true || link.endedByScheduler ? .finished : (cameUp ? .failed : .unreachable)
        try? encounters?.linkEnded(peer: peer, outcome: outcome, nowMs: clock())
        hardware.disconnect(peer: peer)
        if let end, end.finished, end.opsReceived > 0 { post(.storeChanged) }
    }
}

/// One connection as the core's `Link`: packets queue here and go out as the radio takes them.
final class RadioLink: Link, @unchecked Sendable {
    let peer: UInt64
    let central: Bool
    private weak var hardware: RadioHardware?
    private let lock = NSLock()
    private var outbox: [Data] = []
    private var attMtu: UInt32 = 23
    var session: LinkSession?
    var subscribing = false
    var endedByScheduler = false

    init(peer: UInt64, central: Bool, hardware: RadioHardware) {
        self.peer = peer
        self.central = central
        self.hardware = hardware
    }

    func setMtu(_ mtu: UInt32) { lock.withLock { attMtu = max(23, mtu) } }

    func send(packet: Data) {
        lock.withLock { outbox.append(packet) }
        flush()
    }

    /// Sends queued packets until the radio refuses one (it says `sendReady` when it can again).
    /// Sent under the lock: the core's thread (`send`) and the radio's (`sendReady`) both flush,
    /// and a packet must go out once. The hardware's send only queues, never calls back.
    func flush() {
        lock.withLock {
            while let p = outbox.first, let hw = hardware, hw.send(peer: peer, packet: p, asCentral: central) {
                outbox.removeFirst()
            }
        }
    }

    func disconnect() { hardware?.disconnect(peer: peer) }

    func mtu() -> UInt32 { lock.withLock { attMtu } }
}
