package meadow.device

import android.Manifest
import android.app.AlarmManager
import android.app.Application
import android.app.NotificationManager
import android.content.Intent
import kotlinx.coroutines.runBlocking
import org.junit.After
import org.junit.Assert.assertEquals
import org.junit.Assert.assertNotNull
import org.junit.Assert.assertTrue
import org.junit.Test
import org.junit.runner.RunWith
import org.robolectric.Robolectric
import org.robolectric.RobolectricTestRunner
import org.robolectric.RuntimeEnvironment
import org.robolectric.Shadows.shadowOf
import org.robolectric.annotation.Config
import uniffi.meadow_ffi.EventChanges
import uniffi.meadow_ffi.NewEvent

/** The Android-only glue under Robolectric, over the real library (loaded through JNA). */
@RunWith(RobolectricTestRunner::class)
@Config(sdk = [34], manifest = Config.NONE)
class DeviceTest {
    private val app: Application get() = RuntimeEnvironment.getApplication()
    private val nm: NotificationManager get() = app.getSystemService(NotificationManager::class.java)

    /** A festival on the device's node with one favourite at 14:00 Berlin on 10 July 2026. */
    private fun festivalWithFavourite(): Pair<String, String> = runBlocking {
        val node = DeviceNode.get(app)
        val f = node.createFestival("Wiese", "Europe/Berlin", "2026-07-10", "2026-07-12")
        val venue = node.addVenue(f, "Zelt B")
        val e = node.addEvent(f, NewEvent("Bees in the city", START, START + 2700, venue, "Talks", ""))
        node.setFavourite(f, e, true)
        f to e
    }

    private fun waitFor(what: String, ok: () -> Boolean) {
        val deadline = System.currentTimeMillis() + 20_000
        while (!ok()) {
            check(System.currentTimeMillis() < deadline) { "timed out waiting for $what" }
            shadowOf(android.os.Looper.getMainLooper()).idle()
            Thread.sleep(20)
        }
    }

    @After
    fun close() = DeviceNode.close()

    @Test
    fun theSyncServiceRunsInTheForegroundAndRaisesEmergencies() {
        val (f, _) = festivalWithFavourite()
        val controller = Robolectric.buildService(SyncService::class.java).create()
        val service = controller.get()
        val ongoing = shadowOf(service).lastForegroundNotification
        assertNotNull("no foreground notification", ongoing)
        assertEquals(Notifications.CHANNEL_SYNC, ongoing.channelId)
        assertTrue(ongoing.flags and android.app.Notification.FLAG_ONGOING_EVENT != 0)
        val node = DeviceNode.get(app)
        waitFor("networking") { runBlocking { node.netStatus().running } }
        waitFor("the service to listen") { service.primed.value }
        // An emergency stored while the service runs becomes a notification on its channel.
        runBlocking { node.announce(f, "Storm: leave the field", true) }
        waitFor("the emergency notification") {
            shadowOf(nm).allNotifications.any { it.channelId == Notifications.CHANNEL_EMERGENCY }
        }
        val n = shadowOf(nm).allNotifications.first { it.channelId == Notifications.CHANNEL_EMERGENCY }
        assertEquals("Storm: leave the field", n.extras.getString(android.app.Notification.EXTRA_TEXT))
        // A normal announcement is no notification.
        runBlocking { node.announce(f, "Lost and found is at the gate", false) }
        Thread.sleep(300)
        assertEquals(1, shadowOf(nm).allNotifications.count { it.channelId == Notifications.CHANNEL_EMERGENCY })
        controller.destroy()
        assertTrue("networking still runs after the service stopped", !runBlocking { node.netStatus().running })
        // An emergency that arrives while no service runs is told when one starts again; the
        // one told before is not told twice (the core remembers, across restarts).
        runBlocking { node.announce(f, "Lightning: to the cars", true) }
        val again = Robolectric.buildService(SyncService::class.java).create()
        waitFor("the new service to listen") { again.get().primed.value }
        waitFor("the new emergency") { shadowOf(nm).allNotifications.count { it.channelId == Notifications.CHANNEL_EMERGENCY } == 2 }
        Thread.sleep(300)
        assertEquals(2, shadowOf(nm).allNotifications.count { it.channelId == Notifications.CHANNEL_EMERGENCY })
        again.destroy()
        assertEquals(NotificationManager.IMPORTANCE_HIGH, nm.getNotificationChannel(Notifications.CHANNEL_EMERGENCY).importance)
    }

    @Test
    fun remindersFireAtTheCoresTimeAndFollowAMove() {
        val (f, e) = festivalWithFavourite()
        val alarms = shadowOf(app.getSystemService(AlarmManager::class.java))
        Notifications.createChannels(app)
        assertEquals(1, runBlocking { Reminders.plan(app, f, now = START - 3600) })
        val alarm = alarms.scheduledAlarms.single()
        assertEquals((START - 15 * 60) * 1000, alarm.triggerAtMs)
        // At the reminder's time the core names the favourite; the notification says when and where.
        assertEquals(listOf(e), runBlocking { Reminders.fire(app, f, now = START - 15 * 60) })
        val n = shadowOf(nm).allNotifications.single { it.channelId == Notifications.CHANNEL_REMINDERS }
        assertEquals("Bees in the city", n.extras.getString(android.app.Notification.EXTRA_TITLE))
        assertEquals("Starts at 14:00 · Zelt B", n.extras.getString(android.app.Notification.EXTRA_TEXT))
        // Moved an hour later: the old alarm reminds of nothing, the plan moves with it.
        nm.cancelAll()
        runBlocking { DeviceNode.get(app).editEvent(f, e, EventChanges(start = START + 3600, end = START + 3600 + 2700)) }
        assertEquals(emptyList<String>(), runBlocking { Reminders.fire(app, f, now = START - 15 * 60) })
        assertTrue(shadowOf(nm).allNotifications.isEmpty())
        runBlocking { Reminders.plan(app, f, now = START - 3600) }
        assertEquals((START + 3600 - 15 * 60) * 1000, alarms.scheduledAlarms.single().triggerAtMs)
        // Cancelled: no reminder at all.
        runBlocking { DeviceNode.get(app).cancelEvent(f, e, true) }
        assertEquals(0, runBlocking { Reminders.plan(app, f, now = START - 3600) })
        assertTrue(alarms.scheduledAlarms.isEmpty())
        // The receiver does the same from an alarm's intent.
        ReminderReceiver().onReceive(app, Intent())
    }

    @Test
    fun permissionsAreAskedByWhatTheyAreFor() {
        assertEquals(listOf(Manifest.permission.POST_NOTIFICATIONS), Permissions.notifications(34))
        assertTrue(Permissions.notifications(30).isEmpty())
        assertEquals(
            listOf(Manifest.permission.BLUETOOTH_SCAN, Manifest.permission.BLUETOOTH_ADVERTISE, Manifest.permission.BLUETOOTH_CONNECT, Manifest.permission.NEARBY_WIFI_DEVICES),
            Permissions.nearby(34),
        )
        assertEquals(listOf(Manifest.permission.ACCESS_FINE_LOCATION), Permissions.nearby(28))
        shadowOf(app).grantPermissions(Manifest.permission.BLUETOOTH_SCAN)
        assertEquals(
            listOf(Manifest.permission.BLUETOOTH_ADVERTISE, Manifest.permission.BLUETOOTH_CONNECT, Manifest.permission.NEARBY_WIFI_DEVICES),
            Permissions.missing(app, Permissions.nearby(34)),
        )
    }

    companion object {
        /** Friday 10 July 2026, 14:00 in Berlin. */
        const val START = 1_783_684_800L
    }
}
