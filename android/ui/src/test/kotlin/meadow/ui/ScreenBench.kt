package meadow.ui

import androidx.compose.runtime.SideEffect
import androidx.compose.runtime.collectAsState
import androidx.compose.runtime.getValue
import androidx.compose.ui.ExperimentalComposeUiApi
import androidx.compose.ui.ImageComposeScene
import androidx.compose.ui.geometry.Offset
import androidx.compose.ui.input.pointer.PointerEventType
import androidx.compose.ui.unit.Density
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.cancel
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.runBlocking
import meadow.FestivalState
import meadow.Meadow
import org.junit.Assume.assumeTrue
import org.junit.Test
import uniffi.meadow_ffi.ProgrammeQuery

/**
 * The programme screen on the store `meadow-bench query --events 10000 --keep DIR` leaves: the
 * first frame that shows the day's events after the node is open (a fresh [FestivalState]
 * each time, the node warm), and frame times while scrolling the longest day from top to
 * bottom. Rendered off-screen at phone size. JSON on stdout; runs only with
 * -Dmeadow.bench.dir=DIR.
 */
@OptIn(ExperimentalComposeUiApi::class)
class ScreenBench {
    @Test
    fun programmeScreen() {
        val dir = System.getProperty("meadow.bench.dir")
        assumeTrue("set -Dmeadow.bench.dir to run the benchmark", dir != null)
        val node = Meadow.open(dir!!)
        val scope = CoroutineScope(SupervisorJob() + Dispatchers.Default)
        val festival = runBlocking { node.festivals().single() }
        val days = runBlocking { node.days(festival.id) }
        val longest = days.maxBy { it.events }
        // "Now" is the longest day's first event, so the screen opens on that day.
        val now = runBlocking { node.dayView(festival.id, ProgrammeQuery(day = longest.date), 0u, 1u).rows.first().start }
        val clock = Clock(festival.timezone)

        /** Opens the programme screen and renders until a frame shows its rows; milliseconds. */
        fun firstFrame(): Double {
            val t = System.nanoTime()
            val state = FestivalState(node, festival.id, scope, clock = { now })
            var shown = false
            val scene = ImageComposeScene(WIDTH, HEIGHT, Density(2f)) {
                MeadowTheme(false) {
                    val v by state.programme.collectAsState()
                    ProgrammeScreen(state, clock) {}
                    if (v != null) SideEffect { shown = true }
                }
            }
            var frames = 0
            while (!shown || frames == 0) {
                scene.render(System.nanoTime())
                frames++
                if (!shown) Thread.onSpinWait()
                check(System.nanoTime() - t < 30_000_000_000L) { "no programme after 30 s" }
            }
            // The frame after the rows arrived is the one that shows them.
            scene.render(System.nanoTime())
            val ms = (System.nanoTime() - t) / 1e6
            scene.close()
            state.close()
            return ms
        }
        repeat(5) { firstFrame() }
        val first = (0 until 30).map { firstFrame() }.sorted()
        // The same without a screen: how much of the first frame is reading the core.
        fun firstRows(): Double {
            val t = System.nanoTime()
            val state = FestivalState(node, festival.id, scope, clock = { now })
            runBlocking { kotlinx.coroutines.withTimeout(30_000) { state.programme.first { it != null } } }
            val ms = (System.nanoTime() - t) / 1e6
            state.close()
            return ms
        }
        repeat(5) { firstRows() }
        val rows = (0 until 30).map { firstRows() }.sorted()

        // Scrolling the longest day, a mouse-wheel notch per frame, timing each frame.
        val state = FestivalState(node, festival.id, scope, clock = { now })
        runBlocking { state.show(ProgrammeQuery(day = longest.date)) }
        var total = 0
        val scene = ImageComposeScene(WIDTH, HEIGHT, Density(2f)) {
            MeadowTheme(false) {
                val v by state.programme.collectAsState()
                total = v?.rows?.size ?: 0
                ProgrammeScreen(state, clock) {}
            }
        }
        val start = System.nanoTime()
        while (total.toLong() != longest.events.toLong()) {
            scene.render(System.nanoTime())
            check(System.nanoTime() - start < 30_000_000_000L) { "the day did not load" }
        }
        repeat(30) { scene.render(System.nanoTime()) }
        val frames = mutableListOf<Double>()
        // 3 wheel units a notch; a 1,700-row day of ~60 dp rows needs a few hundred notches.
        val notches = longest.events.toInt() / 4
        for (i in 0 until notches) {
            scene.sendPointerEvent(PointerEventType.Scroll, Offset(360f, 1200f), scrollDelta = Offset(0f, 3f))
            val t = System.nanoTime()
            scene.render(t)
            frames += (System.nanoTime() - t) / 1e6
        }
        scene.close()
        state.close()
        scope.cancel()
        frames.sort()
        val p = { l: List<Double>, q: Int -> l[(l.size * q / 100).coerceAtMost(l.size - 1)] }
        println(
            """{"bench": "kotlin_screen", "events": ${days.sumOf { it.events.toLong() }}, "first_frame_p50_ms": ${p(first, 50)}, "first_frame_p95_ms": ${p(first, 95)}, "first_rows_p50_ms": ${p(rows, 50)}, """ +
                """"scroll_day_events": ${longest.events}, "scroll_frames": ${frames.size}, "scroll_frame_p50_ms": ${p(frames, 50)}, "scroll_frame_p95_ms": ${p(frames, 95)}, "scroll_frame_max_ms": ${frames.last()}}""",
        )
    }
}
