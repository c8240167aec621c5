import Foundation
import MeadowKit
import UserNotifications

/// Hands MeadowKit's `AlertPlanner` decisions to UserNotifications: reminders scheduled ahead on
/// the calendar (an iOS app does not run in the background to fire them), favourite changes and
/// emergencies at once. Keeps the `told` set in UserDefaults; a tapped notification opens its event.
@MainActor
final class NotificationPlanner {
    /// Called with the event of a tapped notification.
    var onOpen: (String) -> Void = { _ in }

    private let asks: Bool
    private let delegate: NotificationDelegate
    private let defaults = UserDefaults.standard
    private static let toldKey = "meadow.notifications.told"

    /// A planner; without `asks` (the UI tests) it never asks for permission or posts.
    init(asks: Bool) {
        self.asks = asks
        let delegate = NotificationDelegate()
        self.delegate = delegate
        UNUserNotificationCenter.current().delegate = delegate
        delegate.open = { [weak self] event in
            Task { @MainActor in self?.onOpen(event) }
        }
    }

    /// Asks once for alerts and sounds (time-sensitive ones need no extra prompt).
    func requestPermission() async {
        guard asks else { return }
        await Self.requestAuthorization()
    }

    /// Ids of changes already told, oldest first; the newest 500 are kept.
    private var toldList: [String] {
        get { defaults.stringArray(forKey: Self.toldKey) ?? [] }
        // An Array, not the ArraySlice `suffix` gives: UserDefaults takes property lists only.
        set { defaults.set(Array(newValue.suffix(500)), forKey: Self.toldKey) }
    }

    private var told: Set<String> { Set(toldList) }

    /// Plans everything due for the open festival now: pending reminders are replaced by
    /// MeadowKit's, and what is due at once is posted.
    func plan(model: FestivalModel, node: MeadowNode) async {
        guard asks, await Self.allowed() else { return }
        let planner = AlertPlanner(texts: Texts(locale: .current), clock: model.festivalClock)
        guard
            let alerts = try? await planner.plan(
                node: node, festival: model.festival, now: unixNow(), told: told)
        else { return }
        let reminders = alerts.filter(\.isReminder)
        let pending = await Self.pendingIdentifiers()
        let stale = pending.filter {
            $0.hasPrefix(PlannedAlert.reminderPrefix) && !reminders.contains(where: { r in r.id == $0 })
        }
        await Self.post(alerts, removing: stale)
        toldList += alerts.filter { $0.kind == .favouriteChanged }.map(\.id)
    }

    // The notification centre's objects (settings, requests) are not Sendable: they stay off the
    // main actor, in these nonisolated helpers, and only Sendable values come back.

    private nonisolated static func requestAuthorization() async {
        _ = try? await UNUserNotificationCenter.current().requestAuthorization(options: [.alert, .sound, .badge])
    }

    private nonisolated static func allowed() async -> Bool {
        let status = await UNUserNotificationCenter.current().notificationSettings().authorizationStatus
        return status == .authorized || status == .provisional
    }

    private nonisolated static func pendingIdentifiers() async -> [String] {
        await UNUserNotificationCenter.current().pendingNotificationRequests().map(\.identifier)
    }

    private nonisolated static func post(_ alerts: [PlannedAlert], removing stale: [String]) async {
        let center = UNUserNotificationCenter.current()
        center.removePendingNotificationRequests(withIdentifiers: stale)
        for alert in alerts { try? await center.add(request(for: alert)) }
    }

    private nonisolated static func request(for alert: PlannedAlert) -> UNNotificationRequest {
        let content = UNMutableNotificationContent()
        content.title = alert.title
        content.body = alert.body
        if let event = alert.event { content.userInfo = ["event": event] }
        switch alert.kind {
        case .reminder:
            content.sound = .default
            content.interruptionLevel = .active
        case .favouriteChanged:
            content.sound = .default
            content.interruptionLevel = .active
        case .emergency:
            // Critical alerts need an entitlement Apple grants rarely: time-sensitive, loud.
            // Critical alerts need an entitlement Apple grants case by case: time-sensitive
            // with the default sound breaks through Focus without it.
            content.sound = .default
            content.interruptionLevel = .timeSensitive
            content.relevanceScore = 1
        }
        var trigger: UNNotificationTrigger?
        if let at = alert.fireAt {
            let date = Date(timeIntervalSince1970: TimeInterval(at))
            let parts = Calendar.current.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
            trigger = UNCalendarNotificationTrigger(dateMatching: parts, repeats: false)
        }
        return UNNotificationRequest(identifier: alert.id, content: content, trigger: trigger)
    }
}

/// The notification centre's delegate: shows alerts while the app is open, and says which event
/// a tapped one belongs to.
final class NotificationDelegate: NSObject, UNUserNotificationCenterDelegate, @unchecked Sendable {
    // Set once, before the centre calls it.
    var open: @Sendable (String) -> Void = { _ in }

    func userNotificationCenter(
        _ center: UNUserNotificationCenter, willPresent notification: UNNotification,
        withCompletionHandler completionHandler: @escaping (UNNotificationPresentationOptions) -> Void
    ) {
        completionHandler([.banner, .list, .sound])
    }

    func userNotificationCenter(
        _ center: UNUserNotificationCenter, didReceive response: UNNotificationResponse,
        withCompletionHandler completionHandler: @escaping () -> Void
    ) {
        if let event = response.notification.request.content.userInfo["event"] as? String { open(event) }
        completionHandler()
    }
}
