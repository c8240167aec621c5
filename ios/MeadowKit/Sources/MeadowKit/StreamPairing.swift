import Foundation

/// The rules of a Multipeer connection, kept out of the app's glue so they are tested here: a
/// connection gives one-way streams, one each way, which are paired into one `ByteStream`; the
/// side with the lower peer name dials (invites and opens its stream first), the other answers;
/// a peer synced with recently waits its turn before it is invited again.
public final class StreamPairing<Peer: Hashable>: @unchecked Sendable {
    // Every field is guarded by `lock`: Multipeer calls in on its own queues.
    private let me: String
    private let cooldown: TimeInterval
    private let lock = NSLock()
    private var inputs: [Peer: InputStream] = [:]
    private var outputs: [Peer: OutputStream] = [:]
    private var lastSync: [String: Date] = [:]

    /// Pairing for this device, named `me` on the air; peers wait `cooldown` seconds after a sync.
    public init(me: String, cooldown: TimeInterval = 300) {
        self.me = me
        self.cooldown = cooldown
    }

    /// Whether this side dials the peer named `peer` (the lower name dials: exactly one side does).
    public func dials(_ peer: String) -> Bool { me < peer }

    /// This side's stream towards `peer` opened: the pair, once the peer's stream is here too.
    public func outgoing(_ stream: OutputStream, to peer: Peer) -> FoundationByteStream? {
        lock.withLock {
            outputs[peer] = stream
            return takePair(peer)
        }
    }

    /// The peer's stream towards this side arrived: the pair, once this side's is open too.
    public func incoming(_ stream: InputStream, from peer: Peer) -> FoundationByteStream? {
        lock.withLock {
            inputs[peer] = stream
            return takePair(peer)
        }
    }

    private func takePair(_ peer: Peer) -> FoundationByteStream? {
        guard let input = inputs[peer], let output = outputs[peer] else { return nil }
        inputs[peer] = nil
        outputs[peer] = nil
        return FoundationByteStream(input: input, output: output)
    }

    /// The connection to `peer` is gone: a half-made pair is closed and forgotten.
    public func dropped(_ peer: Peer) {
        let (input, output) = lock.withLock { (inputs.removeValue(forKey: peer), outputs.removeValue(forKey: peer)) }
        input?.close()
        output?.close()
    }

    /// Streams waiting for their other half.
    public var waiting: Int { lock.withLock { inputs.count + outputs.count } }

    /// A session with the peer named `peer` ended at `at`.
    public func synced(_ peer: String, at: Date = Date()) { lock.withLock { lastSync[peer] = at } }

    /// Whether to invite the peer named `peer` now: only the side that dials, and not while its
    /// last sync is fresher than the cool-down.
    public func mayInvite(_ peer: String, now: Date = Date()) -> Bool {
        guard dials(peer) else { return false }
        guard let last = lock.withLock({ lastSync[peer] }) else { return true }
        return now.timeIntervalSince(last) >= cooldown
    }
}
