package meadow.device

import android.app.NotificationManager
import android.app.Service
import android.content.Context
import android.content.Intent
import android.content.pm.ServiceInfo
import android.os.IBinder
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.cancel
import kotlinx.coroutines.launch
import meadow.changes
import uniffi.meadow_core.Scope

/**
 * Keeps sync running while the app is open (and a little after): a foreground service with an
 * ongoing notification saying how many peers it shares the programme with. It also raises an
 * emergency announcement as a notification when one arrives from a peer, and plans the
 * reminders again when favourites or the programme change.
 */
class SyncService : Service() {
    private val scope = CoroutineScope(SupervisorJob() + Dispatchers.Default)
    private var radio: BleRadio? = null

    /** Whether Bluetooth exchange runs, and if not why (the app shows it). */
    val radioState: RadioState get() = radio?.state ?: RadioState.Stopped

    /** Whether the service listens for emergencies yet (tests wait for it). */
    internal val primed = kotlinx.coroutines.flow.MutableStateFlow(false)

    override fun onBind(intent: Intent?): IBinder? = null

    override fun onCreate() {
        super.onCreate()
        Notifications.createChannels(this)
        startForeground(Notifications.SYNC_ID, Notifications.sync(this, 0), ServiceInfo.FOREGROUND_SERVICE_TYPE_CONNECTED_DEVICE)
        val node = DeviceNode.get(this)
        scope.launch {
            // Bluetooth swaps with phones nearby, for the current festival, where allowed.
            node.currentFestival()?.let { f -> radio = BleRadio(this@SyncService, node).also { it.start(f) } }
        }
        scope.launch {
            // The core runs networking by itself and tells of its changes through the feed.
            node.startNetworking(0u, true)
            node.changes(null, initial = true).collect { c ->
                if (!c.network) return@collect
                val peers = node.netStatus().peers.toInt()
                getSystemService(NotificationManager::class.java).notify(Notifications.SYNC_ID, Notifications.sync(this@SyncService, peers))
            }
        }
        scope.launch {
            node.changes(null, initial = true).collect { c ->
                val f = c.festival
                if (!primed.value) {
                    // Subscribed: emergencies not told yet (the core remembers which were, across
                    // restarts) are told now; read after subscribing, so none can be missed.
                    node.currentFestival()?.let { cur -> raiseEmergencies(cur) }
                    primed.value = true
                    return@collect
                }
                if (f == null) return@collect
                radio?.stateChanged()
                if (Scope.ANNOUNCEMENTS in c.scopes) raiseEmergencies(f)
                if (Scope.FAVOURITES in c.scopes || Scope.PROGRAMME in c.scopes) Reminders.plan(this@SyncService, f)
            }
        }
    }

    private suspend fun raiseEmergencies(festival: String) {
        val nm = getSystemService(NotificationManager::class.java)
        DeviceNode.get(this).emergenciesToNotify(festival, now())
            .forEach { nm.notify(it.id.hashCode(), Notifications.emergency(this, it.text)) }
    }

    override fun onStartCommand(intent: Intent?, flags: Int, startId: Int): Int = START_STICKY

    override fun onDestroy() {
        scope.cancel()
        radio?.close()
        // Networking stops with the service; the node stays open for the app.
        kotlinx.coroutines.runBlocking { DeviceNode.get(this@SyncService).stopNetworking() }
        super.onDestroy()
    }

    companion object {
        /** Starts the service (from the activity's onStart). */
        fun start(context: Context) {
            context.startForegroundService(Intent(context, SyncService::class.java))
        }

        /** Stops it (when the person turns sync off). */
        fun stop(context: Context) {
            context.stopService(Intent(context, SyncService::class.java))
        }

        private fun now() = System.currentTimeMillis() / 1000
    }
}
