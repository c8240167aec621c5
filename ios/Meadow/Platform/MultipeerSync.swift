import Foundation
import MeadowKit
import MultipeerConnectivity

/// Sync with Meadow phones nearby over MultipeerConnectivity (peer-to-peer Wi-Fi and Bluetooth,
/// no network needed): each connection carries one sync session over a pair of streams, one each
/// way, as MeadowKit's `StreamLink`. The side with the lower peer name dials; the other answers.
final class MultipeerSync: NSObject, @unchecked Sendable {
    // MultipeerConnectivity calls in on its own queues; the pairing guards its own state.
    static let serviceType = "meadow-sync"
    private static let streamName = "meadow"

    private let node: MeadowNode
    private let festival: String
    private let me: MCPeerID
    private let session: MCSession
    private let advertiser: MCNearbyServiceAdvertiser
    private let browser: MCNearbyServiceBrowser
    private let onPeers: @Sendable (Int) -> Void
    /// Who dials, which streams make a pair, when a peer may be invited again (MeadowKit, tested).
    private let pairing: StreamPairing<MCPeerID>

    /// Sync for `festival`; `onPeers` hears how many peers are connected.
    init(node: MeadowNode, festival: String, onPeers: @escaping @MainActor @Sendable (Int) -> Void) {
        self.node = node
        self.festival = festival
        self.onPeers = { n in Task { @MainActor in onPeers(n) } }
        me = MCPeerID(displayName: Self.localName())
        pairing = StreamPairing(me: me.displayName, cooldown: 300)
        session = MCSession(peer: me, securityIdentity: nil, encryptionPreference: .required)
        // The festival id in the discovery info: phones of other festivals do not connect.
        advertiser = MCNearbyServiceAdvertiser(
            peer: me, discoveryInfo: ["f": String(festival.prefix(16))], serviceType: Self.serviceType)
        browser = MCNearbyServiceBrowser(peer: me, serviceType: Self.serviceType)
        super.init()
        session.delegate = self
        advertiser.delegate = self
        browser.delegate = self
    }

    /// A random name per install: no device name goes over the air.
    private static func localName() -> String {
        let key = "meadow.multipeer.name"
        if let name = UserDefaults.standard.string(forKey: key) { return name }
        let name = "meadow-" + UUID().uuidString.prefix(8).lowercased()
        UserDefaults.standard.set(name, forKey: key)
        return name
    }

    /// Advertises and browses.
    func start() {
        advertiser.startAdvertisingPeer()
        browser.startBrowsingForPeers()
    }

    /// Stops finding peers and drops every connection.
    func stop() {
        advertiser.stopAdvertisingPeer()
        browser.stopBrowsingForPeers()
        session.disconnect()
    }

    private func dials(_ peer: MCPeerID) -> Bool { pairing.dials(peer.displayName) }

    /// Opens this side's stream towards `peer`, and runs the session once both ways are open.
    private func openStream(to peer: MCPeerID) {
        guard let output = try? session.startStream(withName: Self.streamName, toPeer: peer) else {
            session.cancelConnectPeer(peer)
            return
        }
        if let stream = pairing.outgoing(output, to: peer) { run(stream, with: peer) }
    }

    private func run(_ stream: FoundationByteStream, with peer: MCPeerID) {
        let (node, festival, name) = (self.node, self.festival, peer.displayName)
        let dialer = dials(peer)
        Task.detached { [weak self] in
            if dialer {
                _ = try? await StreamLink.dial(node: node, festival: festival, stream: stream, via: .multipeer)
            } else {
                _ = await StreamLink.answer(node: node, stream: stream, via: .multipeer)
            }
            self?.synced(name)
        }
    }

    /// A session with the peer named `name` ended: its connection goes, and it waits its turn.
    private func synced(_ name: String) {
        pairing.synced(name)
        for peer in session.connectedPeers where peer.displayName == name { session.cancelConnectPeer(peer) }
    }
}

extension MultipeerSync: MCSessionDelegate {
    func session(_ session: MCSession, peer peerID: MCPeerID, didChange state: MCSessionState) {
        onPeers(session.connectedPeers.count)
        switch state {
        case .connected:
            // The dialer opens its stream first; the answerer opens its own on receiving it.
            if dials(peerID) { openStream(to: peerID) }
        case .notConnected:
            pairing.dropped(peerID)
        default:
            break
        }
    }

    func session(
        _ session: MCSession, didReceive stream: InputStream, withName streamName: String, fromPeer peerID: MCPeerID
    ) {
        guard streamName == Self.streamName else { return stream.close() }
        if let paired = pairing.incoming(stream, from: peerID) {
            run(paired, with: peerID)
        } else if !dials(peerID) {
            openStream(to: peerID)
        }
    }

    func session(_ session: MCSession, didReceive data: Data, fromPeer peerID: MCPeerID) {}

    func session(
        _ session: MCSession, didStartReceivingResourceWithName resourceName: String, fromPeer peerID: MCPeerID,
        with progress: Progress
    ) {}

    func session(
        _ session: MCSession, didFinishReceivingResourceWithName resourceName: String, fromPeer peerID: MCPeerID,
        at localURL: URL?, withError error: Error?
    ) {}
}

extension MultipeerSync: MCNearbyServiceAdvertiserDelegate, MCNearbyServiceBrowserDelegate {
    func advertiser(
        _ advertiser: MCNearbyServiceAdvertiser, didReceiveInvitationFromPeer peerID: MCPeerID,
        withContext context: Data?,
        invitationHandler: @escaping (Bool, MCSession?) -> Void
    ) {
        let ours = context.map { String(decoding: $0, as: UTF8.self) } == festival
        invitationHandler(ours, ours ? session : nil)
    }

    func browser(
        _ browser: MCNearbyServiceBrowser, foundPeer peerID: MCPeerID, withDiscoveryInfo info: [String: String]?
    ) {
        // One side invites: the one that dials.
        guard info?["f"] == String(festival.prefix(16)), pairing.mayInvite(peerID.displayName),
            !session.connectedPeers.contains(peerID)
        else { return }
        browser.invitePeer(peerID, to: session, withContext: Data(festival.utf8), timeout: 20)
    }

    func browser(_ browser: MCNearbyServiceBrowser, lostPeer peerID: MCPeerID) {}
}
