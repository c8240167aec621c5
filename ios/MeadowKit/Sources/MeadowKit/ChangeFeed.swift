import Foundation

extension Scope {
    /// Every scope: "everything changed", the first item of a feed that asks for it.
    public static let all: [Scope] = [
        .festival, .programme, .announcements, .roles, .moderation, .profiles, .favourites, .seen, .crews,
    ]
}

/// Hands the core's changes (heard on one of its threads) to an `AsyncStream`.
final class FeedListener: ChangeListener, @unchecked Sendable {
    // The continuation is itself thread-safe; `festival` never changes.
    private let festival: String?
    private let continuation: AsyncStream<StoreChange>.Continuation

    init(festival: String?, continuation: AsyncStream<StoreChange>.Continuation) {
        self.festival = festival
        self.continuation = continuation
    }

    func onChange(change: StoreChange) throws {
        if festival == nil || change.festival == festival {
            continuation.yield(change)
        }
    }
}

extension MeadowNode {
    /// The core's change feed as an `AsyncStream`: every change stored, whatever brought it (this
    /// device, a peer over the network, a Bluetooth link). Iterating subscribes; ending the
    /// iteration (or the task) closes the subscription, after which nothing more is heard.
    ///
    /// With `festival`, only that festival's changes. With `initial`, the stream first says
    /// "everything changed" (for the device, networking included, when `festival` is nil), so a
    /// model that reads on every change also reads once at the start, with no gap between its
    /// first read and its subscription.
    public func changeStream(festival: String? = nil, initial: Bool = false) -> AsyncStream<StoreChange> {
        AsyncStream(bufferingPolicy: .unbounded) { continuation in
            let subscription = self.subscribe(listener: FeedListener(festival: festival, continuation: continuation))
            if initial {
                continuation.yield(StoreChange(festival: festival, scopes: Scope.all, network: festival == nil))
            }
            continuation.onTermination = { _ in subscription.cancel() }
        }
    }
}
