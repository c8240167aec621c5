package meadow

import java.nio.file.Files
import java.nio.file.Path
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.cancel
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import uniffi.meadow_core.Priority
import uniffi.meadow_ffi.MeadowNode
import uniffi.meadow_ffi.NewEvent
import uniffi.meadow_ffi.ProgrammeQuery

class FestivalStateTest {
    private suspend fun <T> StateFlow<T>.until(ok: (T) -> Boolean): T = withTimeout(20_000) { first(ok) }

    @Test
    fun daysVenuesClashesAndChangesComeFromTheCoreAndFollowIt() = runBlocking {
        val node = MeadowNode.open(Files.createTempDirectory("meadow").toString())
        val f = node.import(Files.readAllBytes(Path.of("../../tests/fixtures/wiese-v1.xml")))
        node.changes(f, true)
        val scope = CoroutineScope(SupervisorJob() + Dispatchers.Default)
        // Friday 10 July 2026, 20:30 in Berlin.
        FestivalState(node, f, scope, clock = { 1_783_708_200L }).use { state ->
            val days = state.days.until { it.isNotEmpty() }
            assertEquals(listOf("2026-07-10", "2026-07-11", "2026-07-12"), days.map { it.date })
            val friday = state.programme.until { it != null && it.rows.isNotEmpty() }!!
            assertEquals("2026-07-10", state.query.value.day, "the day that holds now is shown first")
            assertEquals(setOf("Große Bühne", "Zelt B"), friday.venues.toSet())
            assertEquals("Nachtkonzert: 東京 Night Drive", friday.rows.last { friday.venues[it.venue!!.toInt()] == "Große Bühne" }.title)
            // A venue filter, from the facets.
            val zelt = state.facets.until { it.venues.isNotEmpty() }.venues.first { it.name == "Zelt B" }
            state.show(state.query.value.copy(venueId = zelt.id))
            assertTrue(state.programme.value!!.rows.all { it.venue != null && state.programme.value!!.venues[it.venue!!.toInt()] == "Zelt B" })
            state.show(ProgrammeQuery(day = "2026-07-10"))
            // Favourites that overlap are a clash, with the free time and reminders worked out by the core.
            val a = friday.rows.first()
            val jam = (state.addEvent(NewEvent("Jam", a.start + 600, a.end + 600, null, "", "")) as Outcome.Done).value
            val b = state.programme.until { v -> v!!.rows.any { it.id == jam } }!!.rows.first { it.id == jam }
            state.setFavourite(a.id, true)
            state.setFavourite(b.id, true)
            val agenda = state.agenda.until { it.size == 2 }
            assertEquals(listOf(b.id), agenda.first { it.event.id == a.id }.clashesWith)
            assertEquals(a.start - 15 * 60, agenda.first { it.event.id == a.id }.remindAt)
            assertTrue(state.programme.until { v -> v!!.rows.first { it.id == a.id }.favourite }!!.rows.isNotEmpty())
            // A form's error arrives at its field.
            val refused = state.addEvent(NewEvent(" ", a.start, a.end, null, "", ""))
            assertEquals(Outcome.FieldError("title", (refused as Outcome.FieldError).reason), refused)
            // An organiser's change shows up in the badge and the banner.
            node.cancelEvent(f, a.id, true)
            val changed = state.changes.until { c -> c.any { it.event.id == a.id } }
            assertTrue(changed.first { it.event.id == a.id }.kind is uniffi.meadow_core.ChangeKind.Cancelled, "$changed")
            assertTrue(changed.any { it.event.id == jam && it.kind is uniffi.meadow_core.ChangeKind.New }, "$changed")
            state.markSeen()
            state.changes.until { it.isEmpty() }
            node.announce(f, "Storm: leave the field", true)
            val banner = state.emergency(state.announcements.until { it.isNotEmpty() })
            assertEquals(Priority.EMERGENCY, banner?.priority)
            assertTrue(state.nowNext.value.isNotEmpty())
        }
        scope.cancel()
    }

    @Test
    fun afterMidnightTheProgrammeOpensOnTheFestivalDayNotTheCalendarDate() = runBlocking {
        val node = MeadowNode.open(Files.createTempDirectory("meadow").toString())
        val f = node.import(Files.readAllBytes(Path.of("../../tests/fixtures/wiese-v1.xml")))
        val scope = CoroutineScope(SupervisorJob() + Dispatchers.Default)
        // Sunday 12 July 2026, 01:30 in Berlin: the second night, before the 04:00 day change.
        FestivalState(node, f, scope, clock = { 1_783_812_600L }).use { state ->
            state.programme.until { it != null && it.rows.isNotEmpty() }
            assertEquals("2026-07-11", state.query.value.day, "01:30 on the second night is still the second day")
        }
        scope.cancel()
    }
}
