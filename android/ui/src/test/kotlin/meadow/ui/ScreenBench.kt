package meadow.ui

import meadow.Clock
import androidx.compose.runtime.SideEffect
import androidx.compose.runtime.collectAsState
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.setValue
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
import kotlinx.coroutines.yield
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
        val clock = Clock(festival.fields.timezone)

        /**
         * Opens the programme screen and renders until a frame shows its rows; milliseconds.
         * The scene's effects run on this thread's event loop between frames, as a window's
         * run on its UI thread (the scene's default would run them on whichever thread emits).
         */
        fun firstFrame(): Double = runBlocking {
            val t = System.nanoTime()
            val state = FestivalState(node, festival.id, scope, clock = { now })
            var shown = false
            val scene = ImageComposeScene(WIDTH, HEIGHT, Density(2f), coroutineContext) {
                MeadowTheme(false) {
                    val v by state.programme.collectAsState()
                    ProgrammeScreen(state, clock) {}
                    if (v != null) SideEffect { shown = true }
                }
            }
            scene.renderUntil(t, "no programme") { shown }
            // The frame after the rows arrived is the one that shows them.
            scene.render(System.nanoTime())
            val ms = (System.nanoTime() - t) / 1e6
            scene.close()
            state.close()
            ms
        }
        repeat(5) { firstFrame() }
        val window = (0 until 20).map { firstFrame() }.sorted()

        // In a running app the window is there already: the festival opens in it. One scene,
        // an empty screen, then a fresh FestivalState; timed until a frame shows its rows.
        var open by mutableStateOf<FestivalState?>(null)
        var shownIn: FestivalState? = null
        val first = runBlocking {
            val scene = ImageComposeScene(WIDTH, HEIGHT, Density(2f), coroutineContext) {
                MeadowTheme(false) {
                    val st = open
                    if (st != null) {
                        val v by st.programme.collectAsState()
                        ProgrammeScreen(st, clock) {}
                        if (v != null) SideEffect { shownIn = st }
                    }
                }
            }
            val out = (0 until 35).map {
                open?.close()
                open = null
                scene.render(System.nanoTime())
                yield()
                val t = System.nanoTime()
                val st = FestivalState(node, festival.id, scope, clock = { now })
                open = st
                scene.renderUntil(t, "no programme") { shownIn === st }
                scene.render(System.nanoTime())
                (System.nanoTime() - t) / 1e6
            }.drop(5).sorted()
            open?.close()
            scene.close()
            out
        }
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
        // And the frame alone: the screen composed and drawn over a state already read.
        val loaded = FestivalState(node, festival.id, scope, clock = { now })
        runBlocking { kotlinx.coroutines.withTimeout(30_000) { loaded.changes.first { true }; loaded.version.first { it > 0 } } }
        fun frameOnly(): Double = runBlocking {
            val t = System.nanoTime()
            val scene = ImageComposeScene(WIDTH, HEIGHT, Density(2f), coroutineContext) { MeadowTheme(false) { ProgrammeScreen(loaded, clock) {} } }
            scene.render(System.nanoTime())
            yield()
            scene.render(System.nanoTime())
            val ms = (System.nanoTime() - t) / 1e6
            scene.close()
            ms
        }
        repeat(5) { frameOnly() }
        val frameOnly = (0 until 30).map { frameOnly() }.sorted()
        loaded.close()

        // Scrolling the longest day, a mouse-wheel notch per frame, timing each frame.
        val state = FestivalState(node, festival.id, scope, clock = { now })
        runBlocking { state.show(ProgrammeQuery(day = longest.date)) }
        var total = 0
        val frames = mutableListOf<Double>()
        runBlocking {
        val scene = ImageComposeScene(WIDTH, HEIGHT, Density(2f), coroutineContext) {
            MeadowTheme(false) {
                val v by state.programme.collectAsState()
                total = v?.rows?.size ?: 0
                ProgrammeScreen(state, clock) {}
            }
        }
        val start = System.nanoTime()
        scene.renderUntil(start, "the day did not load") { total.toLong() == longest.events.toLong() }
        repeat(30) { scene.render(System.nanoTime()); yield() }
        // 3 wheel units a notch; a 1,700-row day of ~60 dp rows needs a few hundred notches.
        val notches = longest.events.toInt() / 4
        for (i in 0 until notches) {
            scene.sendPointerEvent(PointerEventType.Scroll, Offset(360f, 1200f), scrollDelta = Offset(0f, 3f))
            val t = System.nanoTime()
            scene.render(t)
            frames += (System.nanoTime() - t) / 1e6
            yield()
        }
        scene.close()
        }
        state.close()
        scope.cancel()
        frames.sort()
        val p = { l: List<Double>, q: Int -> l[(l.size * q / 100).coerceAtMost(l.size - 1)] }
        println(
            """{"bench": "kotlin_screen", "events": ${days.sumOf { it.events.toLong() }}, "first_frame_p50_ms": ${p(first, 50)}, "first_frame_p95_ms": ${p(first, 95)}, "first_frame_new_window_p50_ms": ${p(window, 50)}, "first_rows_p50_ms": ${p(rows, 50)}, "frame_over_read_state_p50_ms": ${p(frameOnly, 50)}, """ +
                """"scroll_day_events": ${longest.events}, "scroll_frames": ${frames.size}, "scroll_frame_p50_ms": ${p(frames, 50)}, "scroll_frame_p95_ms": ${p(frames, 95)}, "scroll_frame_max_ms": ${frames.last()}}""",
        )
    }
}

/**
 * Renders frames, letting the scene's effects run between them, until [done] holds after at
 * least one frame; fails with [what] after 30 s from [since].
 */
private suspend fun ImageComposeScene.renderUntil(since: Long, what: String, done: () -> Boolean) {
    do {
        render(System.nanoTime())
        yield()
        check(System.nanoTime() - since < 30_000_000_000L) { "$what after 30 s" }
    } while (!done())
}
