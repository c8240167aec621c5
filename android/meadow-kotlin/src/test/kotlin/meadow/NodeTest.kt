package meadow

import java.nio.file.Files
import java.nio.file.Path
import java.util.concurrent.ConcurrentLinkedQueue
import java.util.concurrent.LinkedBlockingQueue
import java.util.concurrent.TimeUnit
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertThrows
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import uniffi.meadow_core.Priority
import uniffi.meadow_core.Via
import uniffi.meadow_ffi.ChangeListener
import uniffi.meadow_core.Scope
import uniffi.meadow_ffi.EventForm
import uniffi.meadow_ffi.Link
import uniffi.meadow_ffi.LinkEnd
import uniffi.meadow_ffi.MeadowException
import uniffi.meadow_ffi.MeadowNode
import uniffi.meadow_ffi.NewEvent
import uniffi.meadow_ffi.StoreChange

class NodeTest {
    private fun node(): MeadowNode = MeadowNode.open(Files.createTempDirectory("meadow").toString())

    private fun fixture(name: String): ByteArray = Files.readAllBytes(Path.of("../../tests/fixtures", name))

    /** A listener that queues what it hears, so a test can wait for a change with a bound. */
    class Heard : ChangeListener {
        val queue = LinkedBlockingQueue<StoreChange>()
        override fun onChange(change: StoreChange) { queue.add(change) }

        fun await(festival: String, scope: Scope) {
            val deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20)
            while (true) {
                val left = deadline - System.nanoTime()
                val c = queue.poll(maxOf(left, 0), TimeUnit.NANOSECONDS) ?: error("no $scope change of $festival heard")
                if (c.festival == festival && scope in c.scopes) return
            }
        }
    }

    @Test
    fun createBrowseSearchFavouriteAndHearChanges() = runBlocking {
        val node = node()
        val heard = Heard()
        node.subscribe(heard).use {
            val f = node.createFestival("Wiese", "Europe/Berlin", "2026-07-10", "2026-07-12")
            heard.await(f, Scope.FESTIVAL)
            val venue = node.addVenue(f, "Main Stage")
            val id = node.addEvent(f, NewEvent("Opening night", 1_783_684_800L, 1_783_688_400L, venue, "Music", "Brass band"))
            heard.await(f, Scope.PROGRAMME)
            node.addEvent(f, NewEvent("Bees in the city", 1_783_692_000L, 1_783_695_600L, venue, "Talks", ""))
            val day = node.programme(f, "2026-07-10")
            assertEquals(listOf("Opening night", "Bees in the city"), day.map { it.title })
            assertEquals("Main Stage", day[0].venueName)
            assertEquals(venue, day[0].venue)
            assertTrue(day.all { it.official })
            assertEquals(id, node.search(f, "open", null).single().id)
            node.setFavourite(f, id, true)
            heard.await(f, Scope.FAVOURITES)
            assertEquals(listOf(id), node.favourites(f).map { it.id })
            // The core names the field, so a form shows the error beside it.
            val e = assertThrows(MeadowException.InvalidField::class.java) {
                runBlocking { node.addEvent(f, NewEvent("  ", 1_783_684_800L, 1_783_688_400L, venue, "", "")) }
            }
            assertEquals("title", e.field)
            val late = assertThrows(MeadowException.InvalidField::class.java) {
                runBlocking { node.addEvent(f, NewEvent("Backwards", 1_783_688_400L, 1_783_684_800L, venue, "", "")) }
            }
            assertEquals("end", late.field)
            // A form's clock times are read on its festival day, in the festival's zone.
            val noon = node.saveEvent(f, null, EventForm("Noon", "2026-07-10", "14:00", "15:00", venue, "", ""), null)
            assertEquals(1_783_684_800L, node.eventDetail(f, noon).event.start)
            val bad = assertThrows(MeadowException.InvalidField::class.java) {
                runBlocking { node.saveEvent(f, null, EventForm("Noon", "2026-07-10", "2pm", "15:00", venue, "", ""), null) }
            }
            assertEquals("start", bad.field)
            assertThrows(MeadowException.NotFound::class.java) { runBlocking { node.setFavourite(f, "00".repeat(32), true) } }
            node.announce(f, "Storm: leave the field", true)
            assertEquals(Priority.EMERGENCY, node.announcements(f, 0L).single().priority)
        }
    }

    @Test
    fun organisersHideAndDeleteAttendeesSeeTheirStandingAndNamesShow() = runBlocking {
        val owner = node()
        val f = owner.import(fixture("wiese-v1.xml"))
        assertEquals(uniffi.meadow_core.Standing.OWNER, owner.standing(f))
        // The import spent a little of the owner's log: counted, and no warning yet.
        val usage = owner.logUsage(f)
        assertTrue(usage.ops > 0u && usage.bytes > 0u && usage.percent < 75u)
        assertEquals(null, usage.warning)
        val events = owner.programme(f, null)
        // One event as a calendar file, with its own UID.
        val ics = owner.exportEventIcs(f, events[0].id)
        assertEquals(1, Regex("BEGIN:VEVENT").findAll(ics).count())
        assertTrue(ics.contains(events[0].title.take(10)), ics)
        owner.deleteEvent(f, events[2].id)
        assertEquals(events.size - 1, owner.programme(f, null).size)
        assertNull(owner.displayName(f, null))
        owner.setDisplayName(f, "Info point")
        assertEquals("Info point", owner.displayName(f, null))
        assertEquals("Info point", owner.displayName(f, owner.publicKey()))
        assertThrows(MeadowException.Invalid::class.java) { runBlocking { owner.hideEvent(f, "not hex", true) } }
        val facets = owner.facets(f)
        // The schedule's own room order, not the alphabet's.
        assertEquals(listOf("Große Bühne", "Zelt B", "Werkstatt"), facets.venues.map { it.name })
        assertTrue(owner.days(f).sumOf { it.events.toInt() } == owner.programme(f, null).size)
        // An attendee's event reaches the owner over loopback; the owner hides it for everyone.
        val attendee = node()
        assertEquals(f, attendee.join(owner.startNetworking(0u, false).invite!!, false))
        assertEquals(uniffi.meadow_core.Standing.ATTENDEE, attendee.standing(f))
        val jam = attendee.addEvent(f, NewEvent("Jam", events[0].start, events[0].end, null, "", ""))
        val deadline = System.currentTimeMillis() + 20_000
        while (owner.programme(f, null).none { it.id == jam }) {
            check(System.currentTimeMillis() < deadline) { "the attendee's event never arrived" }
            Thread.sleep(50)
        }
        assertFalse(owner.programme(f, null).first { it.id == jam }.official)
        owner.hideEvent(f, jam, true)
        assertFalse(owner.programme(f, null).any { it.id == jam })
        assertThrows(MeadowException.NotPermitted::class.java) { runBlocking { attendee.hideEvent(f, events[0].id, true) } }
        attendee.stopNetworking()
        owner.stopNetworking()
    }

    @Test
    fun importAScheduleAndSeeWhatChanged() = runBlocking {
        val node = node()
        val f = node.import(fixture("wiese-v1.xml"))
        assertEquals(8, node.programme(f, null).size)
        node.changes(f, true)
        node.import(fixture("wiese-v2.xml"))
        val kinds = node.changes(f, true).map { it.kind::class.simpleName ?: "" }.sorted()
        assertEquals(listOf("Cancelled", "Moved", "New"), kinds)
    }

    @Test
    fun aDayIsReadAPageAtATimeInTheSameOrder() = runBlocking {
        val node = node()
        val f = node.import(fixture("wiese-v2.xml"))
        val all = node.programme(f, null)
        val first = node.programmePage(f, null, 0u, 3u)
        assertEquals(all.size.toUInt(), first.total)
        val rest = node.programmePage(f, null, 3u, 1000u)
        assertEquals(all, first.events + rest.events)
    }

    @Test
    fun aThrowingListenerDoesNotStopTheOthersAndAClosedOneHearsNothing() = runBlocking {
        val node = node()
        val throwing = node.subscribe(object : ChangeListener {
            override fun onChange(change: StoreChange) { throw IllegalStateException("screen bug") }
        })
        val heard = Heard()
        val sub = node.subscribe(heard)
        val f = node.createFestival("Wiese", "UTC", "2026-07-10", "2026-07-10")
        heard.await(f, Scope.FESTIVAL)
        node.addVenue(f, "Main")
        heard.await(f, Scope.FESTIVAL)
        assertEquals(1, node.festivals().size)
        assertTrue(throwing.isActive(), "a throwing listener keeps its subscription")
        sub.close()
        heard.queue.clear()
        node.addVenue(f, "Zelt")
        Thread.sleep(100)
        assertNull(heard.queue.poll(), "a closed subscription still heard a change")
        throwing.close()
    }

    @Test
    fun joinFromAnInviteOverLoopbackAndHearAPeersChangeAsAFlow() = runBlocking {
        val a = node()
        val b = node()
        val f = a.import(fixture("wiese-v1.xml"))
        val invite = a.startNetworking(0u, false).invite!!
        assertEquals(f, b.join(invite, false))
        assertEquals(a.programme(f, null), b.programme(f, null))
        val heard = Heard()
        b.subscribe(heard).use {
            val flowed = Channel<StoreChange>(Channel.UNLIMITED)
            val collector = launch(Dispatchers.Default) { b.changes(f, initial = true).collect { flowed.send(it) } }
            // The first item says the subscription runs.
            withTimeout(20_000) { flowed.receive() }
            a.announce(f, "Gates open", false)
            // Nothing is asked of B: its listener and its Flow both hear the peer's change.
            heard.await(f, Scope.ANNOUNCEMENTS)
            withTimeout(20_000) { while (Scope.ANNOUNCEMENTS !in flowed.receive().scopes) continue }
            collector.cancel()
            assertTrue(b.announcements(f, 0L).any { it.text == "Gates open" })
        }
        b.stopNetworking()
        a.stopNetworking()
        assertFalse(a.netStatus().running)
    }

    /** A GATT link at the smallest ATT MTU (23): packets of at most 20 bytes. */
    class Radio : Link {
        val out = ConcurrentLinkedQueue<ByteArray>()
        @Volatile var closed = false
        override fun send(packet: ByteArray) { check(packet.size <= 20); out.add(packet) }
        override fun disconnect() { closed = true }
        override fun mtu(): UInt = 23u
    }

    @Test
    fun twoNodesSyncThroughAKotlinLinkAndTheReceiverHearsOfIt() = runBlocking {
        val a = node()
        val b = node()
        val f = a.import(fixture("wiese-v2.xml"))
        val heard = Heard()
        b.subscribe(heard).use {
            val ra = Radio()
            val rb = Radio()
            val sb = b.initiateLink(rb, f, Via.BLUETOOTH, 0uL)
            val sa = a.respondLink(ra, Via.BLUETOOTH, 0uL)
            var doneA: LinkEnd? = null
            var doneB: LinkEnd? = null
            var now = 0uL
            while (ra.out.isNotEmpty() || rb.out.isNotEmpty()) {
                now += 1uL
                while (true) { val p = rb.out.poll() ?: break; sa.received(p, now)?.let { doneA = it } }
                while (true) { val p = ra.out.poll() ?: break; sb.received(p, now)?.let { doneB = it } }
            }
            assertTrue(doneA?.finished == true, "a: $doneA")
            assertTrue(doneB?.finished == true, "b: $doneB")
            assertEquals(f, doneB?.festival)
            assertEquals(doneA?.opsSent, doneB?.opsReceived)
            assertTrue(ra.closed && rb.closed)
            assertEquals(a.programme(f, null), b.programme(f, null))
            heard.await(f, Scope.PROGRAMME)
        }
    }
}
