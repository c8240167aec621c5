package meadow.device

import android.app.AlarmManager
import android.app.NotificationManager
import android.app.PendingIntent
import android.content.BroadcastReceiver
import android.content.Context
import android.content.Intent
import kotlinx.coroutines.runBlocking

/**
 * Reminders for favourites that start soon. The core decides when each fires (its agenda's
 * remind-at, at the device's reminder lead); this schedules one alarm per favourite, and the
 * receiver asks the core again at that moment which reminders are due, so a favourite moved or cancelled
 * meanwhile reminds at its new time, or not at all.
 */
object Reminders {
    private const val ACTION = "meadow.REMIND"
    private const val EXTRA_FESTIVAL = "meadow.festival"

    private fun intent(context: Context, festival: String, event: String): PendingIntent = PendingIntent.getBroadcast(
        context,
        event.hashCode(),
        Intent(context, ReminderReceiver::class.java).setAction(ACTION).putExtra(EXTRA_FESTIVAL, festival).putExtra(Notifications.EXTRA_EVENT, event),
        PendingIntent.FLAG_IMMUTABLE or PendingIntent.FLAG_UPDATE_CURRENT,
    )

    /** Schedules an alarm for each favourite whose reminder is still to come; returns how many. */
    suspend fun plan(context: Context, festival: String, now: Long = System.currentTimeMillis() / 1000): Int {
        val alarms = context.getSystemService(AlarmManager::class.java)
        val agenda = DeviceNode.get(context).agenda(festival, null)
        var planned = 0
        for (entry in agenda) {
            val pending = intent(context, festival, entry.event.id)
            val at = entry.remindAt
            if (at == null || at < now) {
                alarms.cancel(pending)
                continue
            }
            // Inexact within a minute: exact alarms need a permission people rarely grant.
            alarms.setWindow(AlarmManager.RTC_WAKEUP, at * 1000, 60_000, pending)
            planned++
        }
        return planned
    }

    /** Posts the reminders due at [now]; returns the events reminded of. */
    suspend fun fire(context: Context, festival: String, now: Long = System.currentTimeMillis() / 1000): List<String> {
        val node = DeviceNode.get(context)
        val soon = node.remindersDue(festival, now)
        val clock = meadow.Clock(node.festivals().firstOrNull { it.id == festival }?.fields?.timezone)
        val s = Notifications.strings(context)
        val nm = context.getSystemService(NotificationManager::class.java)
        for (e in soon) {
            nm.notify(e.id.hashCode(), Notifications.reminder(context, e.title, s.reminderText(clock.time(e.start), e.venueName), e.id))
        }
        return soon.map { it.id }
    }

    internal fun festivalOf(intent: Intent): String? = intent.getStringExtra(EXTRA_FESTIVAL)
}

/** Where a reminder alarm lands. */
class ReminderReceiver : BroadcastReceiver() {
    override fun onReceive(context: Context, intent: Intent) {
        val festival = Reminders.festivalOf(intent) ?: return
        val done = goAsync()
        Thread {
            try {
                runBlocking { Reminders.fire(context, festival) }
            } finally {
                done.finish()
            }
        }.start()
    }
}
