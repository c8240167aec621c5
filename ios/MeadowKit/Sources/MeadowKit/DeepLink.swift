import Foundation

/// A `meadow://` link the app was opened with, scanned from a QR code, or pasted: what it asks.
/// The parser only sorts links; the core checks each one in full when it is followed.
public enum DeepLink: Equatable, Sendable {
    /// `meadow://join/<ticket>`: fetch a festival from the peer named in the ticket.
    case joinFestival(String)
    /// `meadow://crew/<festival>/<crew>/<admin>/<admin crew key>/<secret>`: ask to join a crew.
    case joinCrew(String)

    /// The link in its canonical form, as the core takes it.
    public var link: String {
        switch self {
        case .joinFestival(let l), .joinCrew(let l): return l
        }
    }

    private static let base32 = Set("abcdefghijklmnopqrstuvwxyz234567")
    private static let hex = Set("0123456789abcdef")

    /// Reads a link, or the bare ticket text (`meadow…`) that `meadow invite` prints; nil for
    /// anything else (another scheme, a truncated or mangled link, stray characters).
    public static func parse(_ text: String) -> DeepLink? {
        let t = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !t.isEmpty, t.count <= 4096 else { return nil }
        let lower = t.lowercased()
        if lower.hasPrefix("meadow://join/") {
            return ticket(String(lower.dropFirst("meadow://join/".count)))
        }
        if lower.hasPrefix("meadow://crew/") {
            let parts = lower.dropFirst("meadow://crew/".count).split(separator: "/", omittingEmptySubsequences: false)
            guard parts.count == 5, parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(hex.contains) }) else { return nil }
            return .joinCrew("meadow://crew/" + parts.joined(separator: "/"))
        }
        if !lower.contains(":") { return ticket(lower) }
        return nil
    }

    private static func ticket(_ body: String) -> DeepLink? {
        // A ticket is `meadow` and base32 (lowercase, no padding) of the festival and a peer.
        guard body.hasPrefix("meadow"), body.count > "meadow".count + 8, body.allSatisfy(base32.contains) else {
            return nil
        }
        return .joinFestival("meadow://join/" + body)
    }
}
