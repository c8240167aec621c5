package meadow

import java.nio.file.Files
import java.nio.file.Path
import java.util.concurrent.ConcurrentLinkedQueue
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNotNull
import org.junit.jupiter.api.Assertions.assertThrows
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import uniffi.meadow_core.Via
import uniffi.meadow_ffi.Encounters
import uniffi.meadow_ffi.Link
import uniffi.meadow_ffi.LinkEnd
import uniffi.meadow_ffi.LinkSession
import uniffi.meadow_ffi.MeadowException
import uniffi.meadow_ffi.MeadowNode
import uniffi.meadow_ffi.RadioAction
import uniffi.meadow_ffi.proximityUuids

/** The scheduler, advertisement and framed link as the Android and iOS radio code use them. */
class ProximityTest {
    private fun node(): MeadowNode = MeadowNode.open(Files.createTempDirectory("meadow").toString())

    private fun fixture(name: String): ByteArray = Files.readAllBytes(Path.of("../../tests/fixtures", name))

    class Radio(private val mtu: UInt) : Link {
        val out = ConcurrentLinkedQueue<ByteArray>()
        @Volatile var closed = false
        override fun send(packet: ByteArray) { check(mtu == 0u || packet.size <= mtu.toInt() - 3); out.add(packet) }
        override fun disconnect() { closed = true }
        override fun mtu(): UInt = mtu
    }

    /** Runs a swap between two nodes over radios of this MTU; returns both ends. */
    private suspend fun swap(dialler: MeadowNode, answerer: MeadowNode, festival: String, mtu: UInt): Pair<LinkEnd?, LinkEnd?> {
        val rd = Radio(mtu)
        val ra = Radio(mtu)
        val sd = dialler.initiateLink(rd, festival, Via.BLUETOOTH, 0uL)
        val sa = answerer.respondLink(ra, Via.BLUETOOTH, 0uL)
        var endD: LinkEnd? = null
        var endA: LinkEnd? = null
        var now = 0uL
        while (rd.out.isNotEmpty() || ra.out.isNotEmpty()) {
            now += 1uL
            while (true) { val p = rd.out.poll() ?: break; sa.received(p, now)?.let { endA = it } }
            while (true) { val p = ra.out.poll() ?: break; sd.received(p, now)?.let { endD = it } }
        }
        return endD to endA
    }

    /** Drains the scheduler; returns the advertisement it asked for, if any, and every action. */
    private fun drain(e: Encounters, now: ULong): List<RadioAction> = generateSequence { e.pollAction(now) }.toList()

    private fun advertisingData(actions: List<RadioAction>): ByteArray? =
        actions.filterIsInstance<RadioAction.Advertise>().lastOrNull()?.advertisingData

    @Test
    fun phonesThatAgreeNeverConnectAndOneNewOpMakesThemSwap() = runBlocking {
        val a = node()
        val b = node()
        val f = a.import(fixture("wiese-v2.xml"))
        for (mtu in listOf(185u, 0u)) {
            val (d, _) = swap(b, a, f, mtu)
            assertTrue(d?.finished == true, "mtu $mtu: $d")
        }
        val sa = a.proximityState(f)
        val sb = b.proximityState(f)
        assertTrue(sa.official.contentEquals(sb.official) && sa.all.contentEquals(sb.all), "the same ops, the same state")
        val ea = Encounters(sa, false, 0uL)
        val eb = Encounters(b.proximityState(f), false, 0uL)
        var adA = advertisingData(drain(ea, 0uL))
        var adB = advertisingData(drain(eb, 0uL))
        assertEquals(31, adA?.size)
        for (t in 0uL until 60_000uL step 1_000L) {
            assertTrue(eb.seenAdvertisingData(1uL, adA!!, t))
            assertTrue(ea.seenAdvertisingData(2uL, adB!!, t))
            for (action in drain(ea, t) + drain(eb, t)) {
                assertFalse(action is RadioAction.Connect || action is RadioAction.ReadState, "$action between peers that agree")
            }
        }
        a.announce(f, "Stage 2 opens late", true)
        ea.setState(a.proximityState(f), 60_000uL)
        adA = advertisingData(drain(ea, 63_000uL)) ?: error("a re-advertises once its state settled")
        assertTrue(eb.seenAdvertisingData(1uL, adA, 63_000uL))
        val acted = drain(eb, 63_000uL) + drain(eb, 67_000uL)
        assertTrue(acted.any { it == RadioAction.Connect(1uL) }, "$acted")
        val (d, _) = swap(b, a, f, 23u)
        assertTrue(d?.finished == true && d.opsReceived == 1uL, "$d")
        eb.linkEnded(1uL, uniffi.meadow_ffi.LinkOutcome.FINISHED, 70_000uL)
        assertEquals(1u, eb.connectionsLastHour(70_000uL))
        // Not a Meadow device, and a Meadow payload that does not decode.
        assertFalse(eb.seenAdvertisingData(3uL, byteArrayOf(2, 1, 6), 70_000uL))
        val broken = adA.copyOf().also { it[21] = (it[21].toInt() xor 0x70).toByte() }
        assertThrows(MeadowException::class.java) { eb.seenAdvertisingData(4uL, broken, 70_000uL) }
        assertNotNull(ea.stateValue(0x81u.toUShort()))
    }

    @Test
    fun aGarbagePacketEndsTheLinkAndChangesNothing() = runBlocking {
        val a = node()
        val f = a.import(fixture("wiese-v2.xml"))
        val before = a.programme(f, null)
        val radio = Radio(185u)
        val session: LinkSession = a.respondLink(radio, Via.BLUETOOTH, 0uL)
        // An Open, then a data segment claiming a 4 GB frame.
        assertEquals(null, session.received(byteArrayOf(0x80.toByte(), 1, 48), 1uL))
        val end = session.received(byteArrayOf(0x01, -1, -1, -1, -1), 2uL)
        assertNotNull(end)
        assertFalse(end!!.finished)
        assertTrue(end.error!!.contains("over the limit"), end.error)
        assertTrue(radio.closed)
        assertEquals(before, a.programme(f, null))
    }

    @Test
    fun theServiceUuidsAreTheDocumentedOnes() {
        assertEquals("6d656164-6f77-4e01-8d2a-5c3b7e910001", proximityUuids().service)
        val doc = Files.readString(Path.of("../../docs/ble.md"))
        val u = proximityUuids()
        for (uuid in listOf(u.service, u.state, u.tx, u.rx)) assertTrue(uuid in doc, uuid)
    }
}
