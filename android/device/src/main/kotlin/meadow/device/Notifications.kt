package meadow.device

import android.app.Notification
import android.app.NotificationChannel
import android.app.NotificationManager
import android.app.PendingIntent
import android.content.Context
import android.content.Intent
import meadow.Strings
import meadow.stringsFor

/** The app's notification channels and the notifications it posts. */
object Notifications {
    /** The ongoing notification of the sync service. */
    const val CHANNEL_SYNC = "sync"

    /** Favourites that start soon. */
    const val CHANNEL_REMINDERS = "reminders"

    /** Emergency announcements: they make a sound and show over other apps. */
    const val CHANNEL_EMERGENCY = "emergency"

    /** The sync service's notification id. */
    const val SYNC_ID = 1

    /** The strings for the device's language. */
    fun strings(context: Context): Strings = stringsFor(context.resources.configuration.locales[0].language)

    /** Creates the channels (idempotent; Android keeps what the person changed). */
    fun createChannels(context: Context) {
        val s = strings(context)
        val nm = context.getSystemService(NotificationManager::class.java)
        nm.createNotificationChannel(NotificationChannel(CHANNEL_SYNC, s.channelSync, NotificationManager.IMPORTANCE_LOW))
        nm.createNotificationChannel(NotificationChannel(CHANNEL_REMINDERS, s.channelReminders, NotificationManager.IMPORTANCE_DEFAULT))
        nm.createNotificationChannel(NotificationChannel(CHANNEL_EMERGENCY, s.channelEmergency, NotificationManager.IMPORTANCE_HIGH))
    }

    /** Opens the app (its launcher activity) on the event or festival named in [extras]. */
    fun openApp(context: Context, request: Int, extras: Map<String, String> = emptyMap()): PendingIntent? {
        val launch = context.packageManager.getLaunchIntentForPackage(context.packageName) ?: Intent().setPackage(context.packageName)
        extras.forEach { (k, v) -> launch.putExtra(k, v) }
        return PendingIntent.getActivity(context, request, launch, PendingIntent.FLAG_IMMUTABLE or PendingIntent.FLAG_UPDATE_CURRENT)
    }

    /** The sync service's ongoing notification. */
    fun sync(context: Context, peers: Int): Notification =
        Notification.Builder(context, CHANNEL_SYNC)
            .setSmallIcon(android.R.drawable.stat_notify_sync)
            .setContentTitle(strings(context).appName)
            .setContentText(strings(context).syncNotification(peers))
            .setOngoing(true)
            .setContentIntent(openApp(context, 0))
            .build()

    /** A favourite that starts soon. */
    fun reminder(context: Context, title: String, text: String, event: String): Notification =
        Notification.Builder(context, CHANNEL_REMINDERS)
            .setSmallIcon(android.R.drawable.ic_popup_reminder)
            .setContentTitle(title)
            .setContentText(text)
            .setAutoCancel(true)
            .setContentIntent(openApp(context, event.hashCode(), mapOf(EXTRA_EVENT to event)))
            .build()

    /** An emergency announcement. */
    fun emergency(context: Context, text: String): Notification =
        Notification.Builder(context, CHANNEL_EMERGENCY)
            .setSmallIcon(android.R.drawable.stat_sys_warning)
            .setContentTitle(strings(context).emergency)
            .setContentText(text)
            .setStyle(Notification.BigTextStyle().bigText(text))
            .setCategory(Notification.CATEGORY_ALARM)
            .setContentIntent(openApp(context, text.hashCode()))
            .build()

    /** The intent extra naming an event to open. */
    const val EXTRA_EVENT = "meadow.event"
}
