package meadow.device

import android.bluetooth.BluetoothDevice
import android.bluetooth.BluetoothGatt
import android.bluetooth.BluetoothGattCallback
import android.bluetooth.BluetoothGattCharacteristic
import android.bluetooth.BluetoothGattDescriptor
import android.bluetooth.BluetoothGattServer
import android.bluetooth.BluetoothGattServerCallback
import android.bluetooth.BluetoothGattService
import android.bluetooth.BluetoothManager
import android.bluetooth.BluetoothProfile
import android.bluetooth.BluetoothStatusCodes
import android.bluetooth.le.AdvertiseCallback
import android.bluetooth.le.AdvertiseData
import android.bluetooth.le.AdvertiseSettings
import android.bluetooth.le.ScanCallback
import android.bluetooth.le.ScanFilter
import android.bluetooth.le.ScanResult
import android.bluetooth.le.ScanSettings
import android.content.Context
import android.os.ParcelUuid
import java.util.UUID
import java.util.concurrent.ConcurrentHashMap
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.ExperimentalCoroutinesApi
import kotlinx.coroutines.Job
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.cancel
import kotlinx.coroutines.delay
import kotlinx.coroutines.launch
import uniffi.meadow_core.Via
import uniffi.meadow_ffi.Encounters
import uniffi.meadow_ffi.Link
import uniffi.meadow_ffi.LinkEnd
import uniffi.meadow_ffi.LinkOutcome
import uniffi.meadow_ffi.LinkSession
import uniffi.meadow_ffi.MeadowNode
import uniffi.meadow_ffi.RadioAction
import uniffi.meadow_ffi.proximityUuids

/** Whether the radio runs, and if not, why: what the app tells the user. */
sealed class RadioState {
    /** Scanning, advertising and serving the Meadow service. */
    data object Running : RadioState()
    /** The device has no Bluetooth LE. */
    data object NoBluetooth : RadioState()
    /** Bluetooth is switched off. */
    data object BluetoothOff : RadioState()
    /** The user has not granted these permissions. */
    data class MissingPermissions(val permissions: List<String>) : RadioState()
    /** Not started. */
    data object Stopped : RadioState()
}

/**
 * Bluetooth LE for Meadow on Android: advertises, scans, serves the Meadow GATT service and
 * connects to peers, all as the core's [Encounters] scheduler says, and moves the bytes of sync
 * sessions ([LinkSession]) between GATT and the core. It decides nothing itself.
 */
@OptIn(ExperimentalCoroutinesApi::class)
class BleRadio(
    private val context: Context,
    private val node: MeadowNode,
    private val clock: () -> Long = System::currentTimeMillis,
) {
    private val uuids = proximityUuids()
    val service: UUID = UUID.fromString(uuids.service)
    val stateUuid: UUID = UUID.fromString(uuids.state)
    val txUuid: UUID = UUID.fromString(uuids.tx)
    val rxUuid: UUID = UUID.fromString(uuids.rx)

    private val manager: BluetoothManager? = context.getSystemService(BluetoothManager::class.java)
    // One thread for every call into the scheduler and the sessions: the radio's callbacks come
    // on binder threads in any order.
    private val scope = CoroutineScope(SupervisorJob() + Dispatchers.Default.limitedParallelism(1))
    private var encounters: Encounters? = null
    private var festival: String? = null
    private var pumping: Job? = null
    private val devices = ConcurrentHashMap<Long, BluetoothDevice>()
    private val links = ConcurrentHashMap<Long, GattLink>()

    /** The GATT server, once started. */
    var server: BluetoothGattServer? = null
        private set

    /** Links open now. */
    val openLinks: Int get() = links.size

    /** Whether the radio runs. */
    @Volatile var state: RadioState = RadioState.Stopped
        private set

    /** Ends of swaps so far (for the sync notification and tests). */
    val ended = java.util.concurrent.CopyOnWriteArrayList<LinkEnd>()

    private fun now(): ULong = clock().toULong()

    private fun peerOf(device: BluetoothDevice): Long = device.address.hashCode().toLong() and 0xffffffffL

    /** Starts advertising and scanning for [festival]; says why not when it cannot. */
    suspend fun start(festival: String): RadioState {
        val adapter = manager?.adapter ?: return RadioState.NoBluetooth.also { state = it }
        val missing = Permissions.missing(context, Permissions.nearby())
        if (missing.isNotEmpty()) return RadioState.MissingPermissions(missing).also { state = it }
        if (!adapter.isEnabled) return RadioState.BluetoothOff.also { state = it }
        this.festival = festival
        encounters = Encounters(node.proximityState(festival), false, now())
        server = manager.openGattServer(context, serverCallback)?.also { it.addService(meadowService()) }
        state = RadioState.Running
        pumping = scope.launch {
            while (true) {
                pump()
                val e = encounters ?: break
                val wait = (e.pollTimeout(now()).toLong() - clock()).coerceIn(50L, 5_000L)
                delay(wait)
            }
        }
        return state
    }

    /** Stops everything the radio started. */
    fun stop() {
        pumping?.cancel()
        manager?.adapter?.bluetoothLeAdvertiser?.stopAdvertising(advertiseCallback)
        manager?.adapter?.bluetoothLeScanner?.stopScan(scanCallback)
        server?.close()
        server = null
        state = RadioState.Stopped
    }

    /** Closes the radio for good. */
    fun close() {
        stop()
        scope.cancel()
    }

    /** What the store holds changed: the advertisement follows once it settles. */
    fun stateChanged() {
        val f = festival ?: return
        scope.launch { encounters?.setState(node.proximityState(f), now()) }
    }

    /** The Meadow service: State (read), TX (write without response), RX (notify). */
    fun meadowService(): BluetoothGattService {
        val s = BluetoothGattService(service, BluetoothGattService.SERVICE_TYPE_PRIMARY)
        s.addCharacteristic(
            BluetoothGattCharacteristic(stateUuid, BluetoothGattCharacteristic.PROPERTY_READ, BluetoothGattCharacteristic.PERMISSION_READ),
        )
        s.addCharacteristic(
            BluetoothGattCharacteristic(
                txUuid,
                BluetoothGattCharacteristic.PROPERTY_WRITE_NO_RESPONSE,
                BluetoothGattCharacteristic.PERMISSION_WRITE,
            ),
        )
        val rx = BluetoothGattCharacteristic(rxUuid, BluetoothGattCharacteristic.PROPERTY_NOTIFY, 0)
        rx.addDescriptor(
            BluetoothGattDescriptor(CCCD, BluetoothGattDescriptor.PERMISSION_READ or BluetoothGattDescriptor.PERMISSION_WRITE),
        )
        s.addCharacteristic(rx)
        return s
    }

    /** Does what the scheduler asks, until it asks nothing more. */
    private fun pump() {
        val e = encounters ?: return
        val adapter = manager?.adapter ?: return
        while (true) {
            when (val a = e.pollAction(now()) ?: return) {
                is RadioAction.StartScan -> adapter.bluetoothLeScanner?.startScan(scanFilters(), scanSettings(), scanCallback)
                is RadioAction.StopScan -> adapter.bluetoothLeScanner?.stopScan(scanCallback)
                is RadioAction.Advertise -> {
                    val advertiser = adapter.bluetoothLeAdvertiser ?: continue
                    // A restart: Android gives the new advertisement a new random address, so the
                    // address rotates with the salt.
                    advertiser.stopAdvertising(advertiseCallback)
                    advertiser.startAdvertising(advertiseSettings(), advertiseData(a.serviceData), advertiseCallback)
                }
                is RadioAction.StopAdvertising -> adapter.bluetoothLeAdvertiser?.stopAdvertising(advertiseCallback)
                is RadioAction.Connect -> connect(a.peer.toLong(), read = false)
                is RadioAction.ReadState -> connect(a.peer.toLong(), read = true)
                is RadioAction.Disconnect -> links[a.peer.toLong()]?.endSlice()
            }
        }
    }

    private fun scanFilters(): List<ScanFilter> = listOf(
        // Android peers advertise service data; iOS peers list the service UUID.
        ScanFilter.Builder().setServiceData(ParcelUuid(service), byteArrayOf()).build(),
        ScanFilter.Builder().setServiceUuid(ParcelUuid(service)).build(),
    )

    private fun scanSettings(): ScanSettings = ScanSettings.Builder().setScanMode(ScanSettings.SCAN_MODE_BALANCED).build()

    private fun advertiseSettings(): AdvertiseSettings = AdvertiseSettings.Builder()
        .setAdvertiseMode(AdvertiseSettings.ADVERTISE_MODE_BALANCED)
        .setTxPowerLevel(AdvertiseSettings.ADVERTISE_TX_POWER_MEDIUM)
        .setConnectable(true)
        .build()

    /** The legacy advertisement: the Meadow service's 10 bytes of service data and nothing else. */
    fun advertiseData(serviceData: ByteArray): AdvertiseData = AdvertiseData.Builder()
        .setIncludeDeviceName(false)
        .setIncludeTxPowerLevel(false)
        .addServiceData(ParcelUuid(service), serviceData)
        .build()

    private val advertiseCallback = object : AdvertiseCallback() {}

    /** What scans find goes to the scheduler. */
    val scanCallback = object : ScanCallback() {
        override fun onScanResult(callbackType: Int, result: ScanResult) {
            val peer = peerOf(result.device)
            devices[peer] = result.device
            val record = result.scanRecord ?: return
            scope.launch {
                val e = encounters ?: return@launch
                val data = record.getServiceData(ParcelUuid(service))
                // A peer whose advertisement does not decode is ignored, not trusted.
                runCatching {
                    when {
                        data != null -> e.seenServiceData(peer.toULong(), data, now())
                        record.serviceUuids?.contains(ParcelUuid(service)) == true -> e.seenServiceOnly(peer.toULong(), now())
                    }
                }
                pump()
            }
        }
    }

    private fun connect(peer: Long, read: Boolean) {
        val existing = links[peer]
        if (existing?.gatt != null) {
            // After a State read: the swap goes on over the same connection.
            existing.subscribe()
            return
        }
        val device = devices[peer]
        if (device == null) {
            encounters?.linkEnded(peer.toULong(), LinkOutcome.UNREACHABLE, now())
            return
        }
        val link = GattLink(peer, device, central = true)
        link.readFirst = read
        links[peer] = link
        link.gatt = device.connectGatt(context, false, link.clientCallback, BluetoothDevice.TRANSPORT_LE)
    }

    /** A link ended: the scheduler hears how. */
    private fun finish(peer: Long, end: LinkEnd?, cameUp: Boolean) {
        val link = links.remove(peer) ?: return
        end?.let { ended += it }
        val outcome = when {
            end?.finished == true || link.endedByScheduler -> LinkOutcome.FINISHED
            cameUp -> LinkOutcome.FAILED
            else -> LinkOutcome.UNREACHABLE
        }
        encounters?.linkEnded(peer.toULong(), outcome, now())
        if (end?.finished == true && (end.opsReceived > 0uL)) stateChanged()
        link.gatt?.close()
    }

    /** One connection, as central (it writes TX, hears RX) or peripheral (the other way round). */
    inner class GattLink(val peer: Long, val device: BluetoothDevice, val central: Boolean) : Link {
        var gatt: BluetoothGatt? = null
        var session: LinkSession? = null
        var readFirst = false
        var endedByScheduler = false
        @Volatile var attMtu = 23
        private val outbox = ArrayDeque<ByteArray>()
        private var inFlight = false

        override fun send(packet: ByteArray) {
            synchronized(this) { outbox.addLast(packet) }
            flush()
        }

        /** The radio took the last packet: send the next. */
        fun sent() {
            synchronized(this) { inFlight = false }
            flush()
        }

        private fun flush() {
            val p = synchronized(this) {
                if (inFlight) return
                outbox.removeFirstOrNull()?.also { inFlight = true }
            } ?: return
            val status = if (central) {
                val g = gatt ?: return
                val tx = g.getService(service)?.getCharacteristic(txUuid) ?: return
                g.writeCharacteristic(tx, p, BluetoothGattCharacteristic.WRITE_TYPE_NO_RESPONSE)
            } else {
                val rx = server?.getService(service)?.getCharacteristic(rxUuid) ?: return
                server?.notifyCharacteristicChanged(device, rx, false, p) ?: return
            }
            if (status != BluetoothStatusCodes.SUCCESS) {
                // The stack refused it: try again when it reports the next send done.
                synchronized(this) { outbox.addFirst(p); inFlight = false }
            }
        }

        /** The core ended the session (finished or failed): drop the connection. */
        override fun disconnect() {
            if (central) gatt?.disconnect() else server?.cancelConnection(device)
        }

        /** The scheduler ended the link's time slice: what arrived is kept, the rest comes later. */
        fun endSlice() {
            endedByScheduler = true
            disconnect()
        }

        override fun mtu(): UInt = attMtu.toUInt()

        fun received(bytes: ByteArray) {
            scope.launch {
                val s = session ?: respond()
                s.received(bytes, now())?.let { finish(peer, it, cameUp = true) }
            }
        }

        /** The peripheral's side starts at the central's first write: the MTU is known by then. */
        private fun respond(): LinkSession = node.respondLink(this, Via.BLUETOOTH, now()).also { session = it }

        /** Central: notifications on RX, then the session starts. */
        fun subscribe() {
            subscribing = true
            val g = gatt ?: return
            val rx = g.getService(service)?.getCharacteristic(rxUuid) ?: return g.disconnect()
            g.setCharacteristicNotification(rx, true)
            rx.getDescriptor(CCCD)?.let { g.writeDescriptor(it, BluetoothGattDescriptor.ENABLE_NOTIFICATION_VALUE) }
        }

        val clientCallback = object : BluetoothGattCallback() {
            private var cameUp = false

            override fun onConnectionStateChange(g: BluetoothGatt, status: Int, newState: Int) {
                if (newState == BluetoothProfile.STATE_CONNECTED) {
                    cameUp = true
                    g.requestMtu(517)
                } else if (newState == BluetoothProfile.STATE_DISCONNECTED) {
                    scope.launch { finish(peer, session?.closed(), cameUp) }
                }
            }

            override fun onMtuChanged(g: BluetoothGatt, mtu: Int, status: Int) {
                attMtu = mtu
                g.discoverServices()
            }

            override fun onServicesDiscovered(g: BluetoothGatt, status: Int) {
                val svc = g.getService(service) ?: return g.disconnect()
                if (readFirst) svc.getCharacteristic(stateUuid)?.let { g.readCharacteristic(it) } else subscribe()
            }

            override fun onCharacteristicRead(g: BluetoothGatt, c: BluetoothGattCharacteristic, value: ByteArray, status: Int) {
                scope.launch {
                    val e = encounters ?: return@launch
                    // A value that does not decode counts as a failed read.
                    val ok = runCatching { e.stateRead(peer.toULong(), value.takeIf { status == BluetoothGatt.GATT_SUCCESS }, now()) }
                    if (ok.isFailure) e.stateRead(peer.toULong(), null, now())
                    pump()
                    // The scheduler went on with a swap (subscribe), or it already counted the
                    // link as ended: then only the connection is left to close.
                    if (!subscribing) {
                        links.remove(peer)
                        g.disconnect()
                        g.close()
                    }
                }
            }

            override fun onDescriptorWrite(g: BluetoothGatt, d: BluetoothGattDescriptor, status: Int) {
                val f = festival ?: return
                scope.launch { session = node.initiateLink(this@GattLink, f, Via.BLUETOOTH, now()) }
            }

            override fun onCharacteristicChanged(g: BluetoothGatt, c: BluetoothGattCharacteristic, value: ByteArray) {
                if (c.uuid == rxUuid) received(value)
            }

            override fun onCharacteristicWrite(g: BluetoothGatt, c: BluetoothGattCharacteristic, status: Int) = sent()
        }

        /** Set once the central subscribes to RX (the swap is on). */
        var subscribing = false
    }

    /** The GATT server's side: peers that connect to this phone. */
    val serverCallback = object : BluetoothGattServerCallback() {
        override fun onConnectionStateChange(device: BluetoothDevice, status: Int, newState: Int) {
            val peer = peerOf(device)
            if (newState == BluetoothProfile.STATE_CONNECTED) {
                devices[peer] = device
                scope.launch {
                    val e = encounters
                    if (e == null || !e.incoming(peer.toULong(), now())) {
                        server?.cancelConnection(device)
                        return@launch
                    }
                    links[peer] = GattLink(peer, device, central = false)
                    pump()
                }
            } else if (newState == BluetoothProfile.STATE_DISCONNECTED) {
                scope.launch { finish(peer, links[peer]?.session?.closed(), cameUp = true) }
            }
        }

        override fun onMtuChanged(device: BluetoothDevice, mtu: Int) {
            links[peerOf(device)]?.attMtu = mtu
        }

        override fun onCharacteristicReadRequest(device: BluetoothDevice, requestId: Int, offset: Int, c: BluetoothGattCharacteristic) {
            val value = if (c.uuid == stateUuid) encounters?.stateValue(0u) else null
            val s = server ?: return
            if (value == null || offset > value.size) {
                s.sendResponse(device, requestId, BluetoothGatt.GATT_FAILURE, offset, null)
            } else {
                s.sendResponse(device, requestId, BluetoothGatt.GATT_SUCCESS, offset, value.copyOfRange(offset, value.size))
            }
        }

        override fun onCharacteristicWriteRequest(
            device: BluetoothDevice,
            requestId: Int,
            c: BluetoothGattCharacteristic,
            preparedWrite: Boolean,
            responseNeeded: Boolean,
            offset: Int,
            value: ByteArray,
        ) {
            val ok = c.uuid == txUuid && !preparedWrite && offset == 0
            if (responseNeeded) {
                server?.sendResponse(device, requestId, if (ok) BluetoothGatt.GATT_SUCCESS else BluetoothGatt.GATT_FAILURE, 0, null)
            }
            // In order after the connection it belongs to, which is handled on the same thread.
            if (ok) scope.launch { links[peerOf(device)]?.received(value) }
        }

        override fun onDescriptorWriteRequest(
            device: BluetoothDevice,
            requestId: Int,
            d: BluetoothGattDescriptor,
            preparedWrite: Boolean,
            responseNeeded: Boolean,
            offset: Int,
            value: ByteArray,
        ) {
            if (responseNeeded) server?.sendResponse(device, requestId, BluetoothGatt.GATT_SUCCESS, 0, null)
        }

        override fun onNotificationSent(device: BluetoothDevice, status: Int) {
            links[peerOf(device)]?.sent()
        }
    }

    companion object {
        /** The Client Characteristic Configuration descriptor. */
        val CCCD: UUID = UUID.fromString("00002902-0000-1000-8000-00805f9b34fb")
    }
}
