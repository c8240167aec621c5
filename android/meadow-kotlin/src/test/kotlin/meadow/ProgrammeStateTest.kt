package meadow

import java.nio.file.Files
import java.nio.file.Path
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import uniffi.meadow_ffi.MeadowNode

class ProgrammeStateTest {
    @Test
    fun groupsByDayAndVenueAndFollowsChanges() {
        val node = MeadowNode.open(Files.createTempDirectory("meadow").toString())
        val f = node.import(Files.readAllBytes(Path.of("../../tests/fixtures/wiese-v1.xml")))
        val state = ProgrammeState(node, f, clock = { 0L })
        assertEquals(listOf("2026-07-10", "2026-07-11", "2026-07-12"), state.days.map { it.date })
        val friday = state.days[0]
        assertEquals(setOf("Große Bühne", "Zelt B"), friday.venues.map { it.venue }.toSet())
        assertEquals("Nachtkonzert: 東京 Night Drive", friday.venues.first { it.venue == "Große Bühne" }.events.last().title)
        val before = state.version
        val bees = state.search("bees").single()
        state.toggleFavourite(bees.id)
        assertTrue(state.version > before, "the change listener refreshed the state")
        assertEquals(listOf(bees.id), state.favourites.map { it.id })
        assertTrue(node.eventDetail(f, bees.id).description.contains("bees"))
        node.announce(f, "Storm: leave the field", true)
        assertEquals("emergency", state.announcements.single().priority)
        state.toggleFavourite(bees.id)
        assertTrue(state.favourites.isEmpty())
    }
}
