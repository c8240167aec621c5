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
    private let center = UNUserNotificationCenter.current()
    private let delegate: NotificationDelegate
    private let defaults = UserDefaults.standard
    private static let toldKey = "meadow.notifications.told"

    /// A planner; without `asks` (the UI tests) it never asks for permission or posts.
    init(asks: Bool) {
        self.asks = asks
        let delegate = NotificationDelegate()
        self.delegate = delegate
        center.delegate = delegate
        delegate.open = { [weak self] event in
            Task { @MainActor in self?.onOpen(event) }
        }
    }

    /// Asks once for alerts and sounds (time-sensitive ones need no extra prompt).
    func requestPermission() async {
        guard asks else { return }
        _ = try? await center.requestAuthorization(options: [.alert, .sound, .badge])
    }

    private var told: Set<String> {
        get { Set(defaults.stringArray(forKey: Self.toldKey) ?? []) }
        set { defaults.set(Array(newValue).suffix(500), forKey: Self.toldKey) }
    }

    /// Plans everything due for the open festival now: pending reminders are replaced by
    /// MeadowKit's, and what is due at once is posted.
    func plan(model: FestivalModel, node: MeadowNode) async {
        guard asks else { return }
        let settings = await center.notificationSettings()
        guard settings.authorizationStatus == .authorized || settings.authorizationStatus == .provisional else {
            return
        }
        let planner = AlertPlanner(texts: Texts(locale: .current), clock: model.festivalClock)
        guard
            let alerts = try? await planner.plan(
                node: node, festival: model.festival, now: unixNow(), told: told)
        else { return }
        let reminders = alerts.filter(\.isReminder)
        let pending = await center.pendingNotificationRequests().map(\.identifier)
        let stale = pending.filter {
            $0.hasPrefix(PlannedAlert.reminderPrefix) && !reminders.contains(where: { r in r.id == $0 })
        }
        center.removePendingNotificationRequests(withIdentifiers: stale)
        var toldNow = told
        for alert in alerts {
            try? await center.add(request(for: alert))
            if alert.kind == .favouriteChanged { toldNow.insert(alert.id) }
        }
        told = toldNow
    }

    private func request(for alert: PlannedAlert) -> UNNotificationRequest {
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
            content.sound = .defaultCritical
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
