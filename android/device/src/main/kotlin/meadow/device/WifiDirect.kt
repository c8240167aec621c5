package meadow.device

import android.content.BroadcastReceiver
import android.content.Context
import android.content.Intent
import android.content.IntentFilter
import android.net.wifi.p2p.WifiP2pConfig
import android.net.wifi.p2p.WifiP2pDevice
import android.net.wifi.p2p.WifiP2pInfo
import android.net.wifi.p2p.WifiP2pManager
import java.net.InetSocketAddress
import java.net.ServerSocket
import kotlin.concurrent.thread
import uniffi.meadow_ffi.LinkEnd
import uniffi.meadow_ffi.MeadowNode

/**
 * Wi-Fi Direct for Meadow: finds peers, forms a group with one, and runs a sync over a socket in
 * that group ([StreamLink]). The group owner listens on [PORT]; the other side dials it. The
 * choice of peer stays with the caller (the scheduler's), as with Bluetooth.
 */
class WifiDirect(private val context: Context, private val node: MeadowNode, private val festival: String) {
    private val manager: WifiP2pManager? = context.getSystemService(WifiP2pManager::class.java)
    private var channel: WifiP2pManager.Channel? = null

    /** Peers found by the last discovery. */
    @Volatile var peers: List<WifiP2pDevice> = emptyList()
        private set

    /** How syncs in groups ended. */
    val ended = java.util.concurrent.CopyOnWriteArrayList<LinkEnd>()

    private val receiver = object : BroadcastReceiver() {
        override fun onReceive(c: Context, intent: Intent) {
            val ch = channel ?: return
            when (intent.action) {
                WifiP2pManager.WIFI_P2P_PEERS_CHANGED_ACTION ->
                    manager?.requestPeers(ch) { list -> peers = list.deviceList.toList() }
                WifiP2pManager.WIFI_P2P_CONNECTION_CHANGED_ACTION ->
                    manager?.requestConnectionInfo(ch) { info -> if (info?.groupFormed == true) sync(info) }
            }
        }
    }

    /** Starts discovering peers; false when the device has no Wi-Fi Direct or it is missing permissions. */
    fun start(): Boolean {
        val m = manager ?: return false
        if (Permissions.missing(context, Permissions.nearby()).isNotEmpty()) return false
        channel = m.initialize(context, context.mainLooper, null)
        val filter = IntentFilter().apply {
            addAction(WifiP2pManager.WIFI_P2P_PEERS_CHANGED_ACTION)
            addAction(WifiP2pManager.WIFI_P2P_CONNECTION_CHANGED_ACTION)
        }
        context.registerReceiver(receiver, filter, Context.RECEIVER_NOT_EXPORTED)
        channel?.let { m.discoverPeers(it, null) }
        return true
    }

    /** Forms a group with a peer found by discovery. */
    fun connect(peer: WifiP2pDevice) {
        val ch = channel ?: return
        manager?.connect(ch, WifiP2pConfig().apply { deviceAddress = peer.deviceAddress }, null)
    }

    private fun sync(info: WifiP2pInfo) {
        thread(name = "meadow-wifi-direct", isDaemon = true) {
            val end = runCatching {
                if (info.isGroupOwner) {
                    ServerSocket(PORT).use { StreamLink.answer(node, it) }
                } else {
                    StreamLink.dial(node, festival, InetSocketAddress(info.groupOwnerAddress, PORT))
                }
            }.getOrNull()
            end?.let { ended += it }
            channel?.let { manager?.removeGroup(it, null) }
        }
    }

    /** Stops discovery and leaves any group. */
    fun stop() {
        runCatching { context.unregisterReceiver(receiver) }
        channel?.let { manager?.stopPeerDiscovery(it, null); manager?.removeGroup(it, null) }
        channel = null
    }

    companion object {
        /** The port the group owner listens on. */
        const val PORT = 47_100
    }
}
