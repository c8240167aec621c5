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
import uniffi.meadow_ffi.AnnouncementPriority
import uniffi.meadow_ffi.MeadowNode

class ProgrammeStateTest {
    private suspend fun <T> StateFlow<T>.until(ok: (T) -> Boolean): T = withTimeout(20_000) { first(ok) }

    @Test
    fun groupsByDayAndVenueAndFollowsChanges() = runBlocking {
        val node = MeadowNode.open(Files.createTempDirectory("meadow").toString())
        val f = node.import(Files.readAllBytes(Path.of("../../tests/fixtures/wiese-v1.xml")))
        val scope = CoroutineScope(SupervisorJob() + Dispatchers.Default)
        ProgrammeState(node, f, scope, clock = { 0L }).use { state ->
            val days = state.days.until { it.isNotEmpty() }
            assertEquals(listOf("2026-07-10", "2026-07-11", "2026-07-12"), days.map { it.date })
            val friday = days[0]
            assertEquals(setOf("Große Bühne", "Zelt B"), friday.venues.map { it.venue }.toSet())
            assertEquals("Nachtkonzert: 東京 Night Drive", friday.venues.first { it.venue == "Große Bühne" }.events.last().title)
            val bees = state.search("bees").single()
            state.toggleFavourite(bees.id)
            assertEquals(listOf(bees.id), state.favourites.until { it.isNotEmpty() }.map { it.id })
            assertTrue(node.eventDetail(f, bees.id).description.contains("bees"))
            node.announce(f, "Storm: leave the field", true)
            assertEquals(AnnouncementPriority.EMERGENCY, state.announcements.until { it.isNotEmpty() }.single().priority)
            state.toggleFavourite(bees.id)
            state.favourites.until { it.isEmpty() }
        }
        scope.cancel()
    }
}
