package meadow

import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assumptions.assumeTrue
import org.junit.jupiter.api.Test
import uniffi.meadow_ffi.MeadowNode
import uniffi.meadow_ffi.ProgrammeQuery

/**
 * A day's programme from Kotlin, records materialised as Kotlin objects, on the store that
 * `meadow-bench query --keep DIR` leaves behind: the whole day, and the first screenful (50
 * rows) of it. Runs only with -Dmeadow.bench.dir=DIR.
 */
class DayBench {
    @Test
    fun dayProgramme() = runBlocking {
        val dir = System.getProperty("meadow.bench.dir")
        assumeTrue(dir != null, "set -Dmeadow.bench.dir to run the benchmark")
        val node = Meadow.open(dir!!)
        val festival = node.festivals().single().id
        val days = node.programme(festival, null).map { it.day }.distinct()
        suspend fun time(samples: Int, call: suspend (String) -> Int): List<Double> = (0 until samples).map { i ->
            val t = System.nanoTime()
            check(call(days[i % days.size]) > 0)
            (System.nanoTime() - t) / 1000.0
        }.sorted()
        val whole: suspend (String) -> Int = { node.programme(festival, it).size }
        val view: suspend (String) -> Int = { node.dayView(festival, ProgrammeQuery(day = it), 0u, 100_000u).rows.size }
        val page: suspend (String) -> Int = { node.dayView(festival, ProgrammeQuery(day = it), 0u, 50u).rows.size }
        time(500, whole)
        time(500, view)
        time(2000, page)
        val day = time(300, whole)
        val dayView = time(300, view)
        val first = time(2000, page)
        val tiny = time(2000) { node.currentFestival(); 1 }
        val rows = days.sumOf { node.programme(festival, it).size } / days.size.toDouble()
        println(
            """{"bench": "kotlin_day", "kotlin_day_p50_us": ${day[day.size / 2]}, "kotlin_day_p95_us": ${day[day.size * 95 / 100]}, """ +
                """"kotlin_day_view_p50_us": ${dayView[dayView.size / 2]}, "kotlin_day_view_p95_us": ${dayView[dayView.size * 95 / 100]}, """ +
                """"kotlin_first_50_p50_us": ${first[first.size / 2]}, "kotlin_first_50_p95_us": ${first[first.size * 95 / 100]}, "kotlin_call_p50_us": ${tiny[tiny.size / 2]}, "rows_per_day": $rows}""",
        )
    }
}
