package meadow

import org.junit.jupiter.api.Assumptions.assumeTrue
import org.junit.jupiter.api.Test
import uniffi.meadow_ffi.MeadowNode

/**
 * A day's programme from Kotlin, records materialised as Kotlin objects, on the store that
 * `meadow-bench query --keep DIR` leaves behind. Runs only with -Dmeadow.bench.dir=DIR.
 */
class DayBench {
    @Test
    fun dayProgramme() {
        val dir = System.getProperty("meadow.bench.dir")
        assumeTrue(dir != null, "set -Dmeadow.bench.dir to run the benchmark")
        val node = MeadowNode.open(dir!!)
        val festival = node.festivals().single().id
        val days = node.programme(festival, null).map { it.day }.distinct()
        repeat(500) { node.programme(festival, days[it % days.size]) }
        val samples = (0 until 300).map { i ->
            val t = System.nanoTime()
            val events = node.programme(festival, days[i % days.size])
            check(events.isNotEmpty())
            (System.nanoTime() - t) / 1000.0
        }.sorted()
        val rows = days.sumOf { node.programme(festival, it).size } / days.size.toDouble()
        println("""{"bench": "kotlin_day", "kotlin_day_p50_us": ${samples[samples.size / 2]}, "kotlin_day_p95_us": ${samples[samples.size * 95 / 100]}, "rows_per_day": $rows}""")
    }
}
