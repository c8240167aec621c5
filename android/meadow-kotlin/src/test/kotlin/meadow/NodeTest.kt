package meadow

import java.nio.file.Files
import java.nio.file.Path
import java.util.concurrent.ConcurrentLinkedQueue
import java.util.concurrent.atomic.AtomicInteger
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertThrows
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import uniffi.meadow_ffi.ChangeListener
import uniffi.meadow_ffi.Link
import uniffi.meadow_ffi.LinkSession
import uniffi.meadow_ffi.MeadowException
import uniffi.meadow_ffi.MeadowNode
import uniffi.meadow_ffi.NewEvent
import uniffi.meadow_ffi.StoreChange

class NodeTest {
    private fun node(): MeadowNode = MeadowNode.open(Files.createTempDirectory("meadow").toString())

    private fun fixture(name: String): ByteArray = Files.readAllBytes(Path.of("../../tests/fixtures", name))

    @Test
    fun createBrowseSearchFavouriteAndHearChanges() {
        val node = node()
        val changes = AtomicInteger()
        node.addListener(object : ChangeListener {
            override fun onChange(change: StoreChange) { changes.incrementAndGet() }
        })
        val f = node.createFestival("Wiese", "Europe/Berlin", "2026-07-10", "2026-07-12")
        val venue = node.addVenue(f, "Main Stage")
        val id = node.addEvent(f, NewEvent("Opening night", 1_783_684_800L, 1_783_688_400L, venue, "Music", "Brass band"))
        node.addEvent(f, NewEvent("Bees in the city", 1_783_692_000L, 1_783_695_600L, venue, "Talks", ""))
        val day = node.programme(f, "2026-07-10")
        assertEquals(listOf("Opening night", "Bees in the city"), day.map { it.title })
        assertEquals("Main Stage", day[0].venue)
        assertTrue(day.all { it.official })
        assertEquals(id, node.search(f, "open").single().id)
        node.setFavourite(f, id, true)
        assertEquals(listOf(id), node.favourites(f).map { it.id })
        assertTrue(changes.get() >= 4, "listener heard ${changes.get()} changes")
        val e = assertThrows(MeadowException.Invalid::class.java) {
            node.addEvent(f, NewEvent("  ", 1_783_684_800L, 1_783_688_400L, venue, "", ""))
        }
        assertTrue(e.message!!.contains("title"), e.message)
        assertThrows(MeadowException.NotFound::class.java) { node.setFavourite(f, "00".repeat(32), true) }
    }

    @Test
    fun importAScheduleAndSeeWhatChanged() {
        val node = node()
        val f = node.import(fixture("wiese-v1.xml"))
        assertEquals(8, node.programme(f, null).size)
        node.changes(f, true)
        node.import(fixture("wiese-v2.xml"))
        val kinds = node.changes(f, true).map { it.kind::class.simpleName ?: "" }.sorted()
        assertEquals(listOf("Cancelled", "Moved", "New"), kinds)
    }

    @Test
    fun aThrowingListenerDoesNotBreakTheNode() {
        val node = node()
        val heard = AtomicInteger()
        node.addListener(object : ChangeListener {
            override fun onChange(change: StoreChange) { throw IllegalStateException("screen bug") }
        })
        node.addListener(object : ChangeListener {
            override fun onChange(change: StoreChange) { heard.incrementAndGet() }
        })
        val f = node.createFestival("Wiese", "UTC", "2026-07-10", "2026-07-10")
        node.addVenue(f, "Main")
        assertEquals(1, node.festivals().size)
        assertTrue(heard.get() >= 2)
    }

    @Test
    fun joinFromAnInviteOverLoopback() {
        val a = node()
        val b = node()
        val f = a.import(fixture("wiese-v1.xml"))
        val invite = a.startNetworking(0u, false).invite!!
        assertEquals(f, b.join(invite, false))
        assertEquals(a.programme(f, null), b.programme(f, null))
        b.stopNetworking()
        a.stopNetworking()
    }

    /** A radio with a 20-byte MTU, as the Android Bluetooth code will be. */
    class Radio : Link {
        val out = ConcurrentLinkedQueue<ByteArray>()
        @Volatile var closed = false
        override fun send(packet: ByteArray) { check(packet.size <= 20); out.add(packet) }
        override fun disconnect() { closed = true }
        override fun mtu(): UInt = 20u
    }

    @Test
    fun twoNodesSyncThroughAKotlinLink() {
        val a = node()
        val b = node()
        val f = a.import(fixture("wiese-v2.xml"))
        val ra = Radio()
        val rb = Radio()
        val sb = LinkSession.initiate(b, rb, f, 0uL)
        val sa = LinkSession.respond(a, ra, 0uL)
        var doneA: String? = null
        var doneB: String? = null
        var now = 0uL
        while (ra.out.isNotEmpty() || rb.out.isNotEmpty()) {
            now += 1uL
            while (true) { val p = rb.out.poll() ?: break; sa.received(p, now)?.let { doneA = it } }
            while (true) { val p = ra.out.poll() ?: break; sb.received(p, now)?.let { doneB = it } }
        }
        assertTrue(doneA?.startsWith("finished") == true, "a: $doneA")
        assertTrue(doneB?.startsWith("finished") == true, "b: $doneB")
        assertTrue(ra.closed && rb.closed)
        assertEquals(a.programme(f, null), b.programme(f, null))
    }
}
