package meadow.device

import android.app.Application
import android.bluetooth.BluetoothAdapter
import android.bluetooth.BluetoothDevice
import android.bluetooth.BluetoothGattCharacteristic
import android.bluetooth.BluetoothGattServer
import android.bluetooth.BluetoothManager
import android.bluetooth.BluetoothStatusCodes
import android.os.ParcelUuid
import java.net.InetAddress
import java.net.ServerSocket
import java.nio.file.Files
import java.util.concurrent.CopyOnWriteArrayList
import kotlin.concurrent.thread
import kotlinx.coroutines.runBlocking
import org.junit.After
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertNotNull
import org.junit.Assert.assertNull
import org.junit.Assert.assertTrue
import org.junit.Before
import org.junit.Test
import org.junit.runner.RunWith
import org.robolectric.RobolectricTestRunner
import org.robolectric.RuntimeEnvironment
import org.robolectric.Shadows.shadowOf
import org.robolectric.annotation.Config
import org.robolectric.annotation.Implementation
import org.robolectric.annotation.Implements
import org.robolectric.shadows.ShadowBluetoothGattServer
import uniffi.meadow_ffi.Encounters
import uniffi.meadow_ffi.MeadowNode
import uniffi.meadow_ffi.NewEvent
import uniffi.meadow_ffi.RadioAction

/** Robolectric does not shadow notifications from a GATT server: this one records them. */
@Implements(BluetoothGattServer::class)
class RecordingGattServer : ShadowBluetoothGattServer() {
    @Implementation
    fun notifyCharacteristicChanged(device: BluetoothDevice, c: BluetoothGattCharacteristic, confirm: Boolean, value: ByteArray): Int {
        notified += value
        return BluetoothStatusCodes.SUCCESS
    }

    companion object {
        val notified = CopyOnWriteArrayList<ByteArray>()
    }
}

/** The Bluetooth LE glue under Robolectric, over the real library. */
@RunWith(RobolectricTestRunner::class)
@Config(sdk = [34], manifest = Config.NONE, shadows = [RecordingGattServer::class])
class BleRadioTest {
    private val app: Application get() = RuntimeEnvironment.getApplication()
    private val adapter: BluetoothAdapter get() = app.getSystemService(BluetoothManager::class.java).adapter
    private var radio: BleRadio? = null

    @Before
    fun clear() = RecordingGattServer.notified.clear()

    @After
    fun close() {
        radio?.close()
        DeviceNode.close()
    }

    private fun festival(node: MeadowNode): String = runBlocking {
        val f = node.createFestival("Wiese", "Europe/Berlin", "2026-07-10", "2026-07-12")
        node.addEvent(f, NewEvent("Bees in the city", 1_783_684_800L, 1_783_687_500L, null, "Talks", ""))
        f
    }

    private fun grant() = shadowOf(app).grantPermissions(*Permissions.nearby(34).toTypedArray())

    private fun waitFor(what: String, ok: () -> Boolean) {
        val deadline = System.currentTimeMillis() + 20_000
        while (!ok()) {
            check(System.currentTimeMillis() < deadline) { "timed out waiting for $what" }
            shadowOf(android.os.Looper.getMainLooper()).idle()
            Thread.sleep(20)
        }
    }

    private fun started(): Pair<BleRadio, String> {
        grant()
        shadowOf(adapter).setEnabled(true)
        val node = DeviceNode.get(app)
        val f = festival(node)
        val r = BleRadio(app, node).also { radio = it }
        assertEquals(RadioState.Running, runBlocking { r.start(f) })
        return r to f
    }

    @Test
    fun itAdvertisesTheCoresAdvertisementAndServesTheMeadowService() {
        val (r, f) = started()
        val advertiser = shadowOf(adapter.bluetoothLeAdvertiser)
        waitFor("advertising") { advertiser.lastAdvertisingData != null }
        val data = advertiser.lastAdvertisingData
        assertFalse(data.includeDeviceName)
        val payload = data.serviceData[ParcelUuid(r.service)]
        assertEquals(10, payload?.size)
        // It is what the node holds: a scheduler holding the same sees a peer that agrees.
        val other = Encounters(runBlocking { DeviceNode.get(app).proximityState(f) }, false, 0uL)
        other.seenServiceData(7uL, payload!!, 0uL)
        val actions = generateSequence { other.pollAction(10_000uL) }.toList()
        assertTrue("$actions", actions.none { it is RadioAction.Connect })
        val service = r.server?.getService(r.service)
        assertNotNull("the Meadow service is registered", service)
        val props = listOf(r.stateUuid, r.txUuid, r.rxUuid).map { service!!.getCharacteristic(it)?.properties }
        assertEquals(
            listOf(
                BluetoothGattCharacteristic.PROPERTY_READ,
                BluetoothGattCharacteristic.PROPERTY_WRITE_NO_RESPONSE,
                BluetoothGattCharacteristic.PROPERTY_NOTIFY,
            ),
            props,
        )
        assertNotNull(service!!.getCharacteristic(r.rxUuid).getDescriptor(BleRadio.CCCD))
        waitFor("scanning") { shadowOf(adapter.bluetoothLeScanner).activeScans.isNotEmpty() }
    }

    @Test
    fun aCentralsWriteIsAnsweredByTheCoreAsANotification() {
        val (r, _) = started()
        val server = shadowOf(r.server)
        val device = adapter.getRemoteDevice("00:11:22:33:44:55")
        server.notifyConnection(device)
        waitFor("the connection accepted") { r.openLinks == 1 }
        val tx = r.server!!.getService(r.service).getCharacteristic(r.txUuid)
        // A central's Open (link version 1, window 48): the core answers with its own Open.
        server.notifyOnCharacteristicWriteRequest(device, 1, tx, false, false, 0, byteArrayOf(0x80.toByte(), 1, 48))
        waitFor("a notification") { RecordingGattServer.notified.isNotEmpty() }
        assertEquals(listOf(0x80.toByte(), 1.toByte(), 48.toByte()), RecordingGattServer.notified[0].toList())
        // Garbage after it ends the link: the peripheral drops the central.
        server.notifyOnCharacteristicWriteRequest(device, 2, tx, false, false, 0, byteArrayOf(0x05, 1, 2))
        waitFor("the link ended") { r.ended.isNotEmpty() }
        assertFalse(r.ended[0].finished)
        assertTrue(server.isConnectionCancelled(device))
    }

    @Test
    fun withoutPermissionsNothingStarts() {
        shadowOf(adapter).setEnabled(true)
        shadowOf(app).denyPermissions(*Permissions.nearby(34).toTypedArray())
        val node = DeviceNode.get(app)
        val r = BleRadio(app, node).also { radio = it }
        val state = runBlocking { r.start(festival(node)) }
        assertTrue("$state", state is RadioState.MissingPermissions)
        assertEquals(Permissions.nearby(34), (state as RadioState.MissingPermissions).permissions)
        assertEquals(0, shadowOf(adapter.bluetoothLeAdvertiser).advertisementRequestCount)
        assertNull(r.server)
    }

    @Test
    fun withBluetoothOffNothingStarts() {
        grant()
        shadowOf(adapter).setEnabled(false)
        val node = DeviceNode.get(app)
        val r = BleRadio(app, node).also { radio = it }
        assertEquals(RadioState.BluetoothOff, runBlocking { r.start(festival(node)) })
        assertNull(r.server)
    }

    @Test
    fun aStreamLinkSyncsTwoNodesAsAWifiDirectGroupWould() {
        val a = MeadowNode.open(Files.createTempDirectory("meadow-a").toString())
        val b = MeadowNode.open(Files.createTempDirectory("meadow-b").toString())
        val f = festival(a)
        ServerSocket(0, 1, InetAddress.getLoopbackAddress()).use { server ->
            var answered: uniffi.meadow_ffi.LinkEnd? = null
            val t = thread { answered = StreamLink.answer(a, server) }
            val dialled = StreamLink.dial(b, f, java.net.InetSocketAddress(server.inetAddress, server.localPort))
            t.join(20_000)
            assertTrue("$dialled", dialled?.finished == true)
            assertTrue("$answered", answered?.finished == true)
        }
        assertEquals(runBlocking { a.programme(f, null) }, runBlocking { b.programme(f, null) })
        a.close()
        b.close()
    }
}
