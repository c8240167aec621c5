package meadow

import java.nio.file.Files
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import uniffi.meadow_ffi.MeadowNode

/** A form's errors come from the core with the field they belong to. */
class FieldErrorsTest {
    private fun fieldOf(call: suspend () -> Unit): Pair<String, String> = runBlocking {
        when (val r = outcome { call() }) {
            is Outcome.FieldError -> r.field to r.reason
            else -> error("expected a field error, got $r")
        }
    }

    @Test
    fun aNewFestivalsErrorsArriveAtTheirFields() {
        val node = MeadowNode.open(Files.createTempDirectory("meadow").toString())
        assertEquals("timezone", fieldOf { node.createFestival("Wiese", "Mars/Olympus", "2026-07-10", "2026-07-12") }.first)
        assertEquals("start_date", fieldOf { node.createFestival("Wiese", "UTC", "10.07.2026", "2026-07-12") }.first)
        assertEquals("end_date", fieldOf { node.createFestival("Wiese", "UTC", "2026-07-10", "2026-07-01") }.first)
        assertEquals("name", fieldOf { node.createFestival(" ", "UTC", "2026-07-10", "2026-07-12") }.first)
        // Nothing was stored by any of them.
        assertTrue(runBlocking { node.festivals() }.isEmpty())
    }
}
