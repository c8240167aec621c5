package meadow

import java.time.Instant
import java.time.ZoneId
import java.time.format.DateTimeFormatter
import java.util.Locale

/** Times as the festival's clocks show them (its own zone, whatever the phone's). */
class Clock(timezone: String?) {
    private val zone: ZoneId = timezone?.let { runCatching { ZoneId.of(it) }.getOrNull() } ?: ZoneId.systemDefault()
    private val hm = DateTimeFormatter.ofPattern("HH:mm")
    private val dayName = DateTimeFormatter.ofPattern("EEE d MMM")

    /** `14:30`. */
    fun time(secs: Long): String = hm.format(Instant.ofEpochSecond(secs).atZone(zone))

    /** `Fri 10 Jul` for a festival day `2026-07-10`. */
    fun day(date: String, locale: Locale): String =
        runCatching { java.time.LocalDate.parse(date).format(dayName.withLocale(locale)) }.getOrDefault(date)

    /** `Fri 14:30`. */
    fun dayTime(secs: Long, locale: Locale): String =
        DateTimeFormatter.ofPattern("EEE HH:mm", locale).format(Instant.ofEpochSecond(secs).atZone(zone))

    /** Unix seconds of a local time `HH:MM` on a festival day, or null if it is not one. */
    fun at(date: String, hhmm: String): Long? = runCatching {
        val t = java.time.LocalTime.parse(hhmm.trim())
        java.time.LocalDate.parse(date).atTime(t).atZone(zone).toEpochSecond()
    }.getOrNull()
}
