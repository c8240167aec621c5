package meadow

import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Job
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.launch
import uniffi.meadow_ffi.Announcement
import uniffi.meadow_ffi.ChangeScope
import uniffi.meadow_ffi.Event
import uniffi.meadow_ffi.MeadowNode

/**
 * What the programme screens show, kept up to date by the core's change feed: a change stored
 * by this device or arriving from a peer is read again without any user action. Presentation
 * only: every rule (what is official, what changed, what is hidden) is the core's.
 */
class ProgrammeState(
    private val node: MeadowNode,
    val festival: String,
    scope: CoroutineScope,
    private val clock: () -> Long = { System.currentTimeMillis() / 1000 },
) : AutoCloseable {
    /** Events of one venue on one day, in start order. */
    data class Slot(val venue: String, val events: List<Event>)

    /** One festival day, venue by venue. */
    data class Day(val date: String, val venues: List<Slot>)

    private val _days = MutableStateFlow<List<Day>>(emptyList())
    private val _favourites = MutableStateFlow<List<Event>>(emptyList())
    private val _announcements = MutableStateFlow<List<Announcement>>(emptyList())
    private val _version = MutableStateFlow(0L)

    /** The programme, day by day. */
    val days: StateFlow<List<Day>> = _days.asStateFlow()

    /** This device's favourites. */
    val favourites: StateFlow<List<Event>> = _favourites.asStateFlow()

    /** Current announcements, newest first. */
    val announcements: StateFlow<List<Announcement>> = _announcements.asStateFlow()

    /** Bumped after every refresh, so a screen (or a test) can tell it is current. */
    val version: StateFlow<Long> = _version.asStateFlow()

    private val job: Job = scope.launch {
        node.changes(festival, initial = true).collect { change ->
            val s = change.scopes.toSet()
            // Only what the change touched is read again.
            if (s.any { it in PROGRAMME_SCOPES }) _days.value = readDays()
            if (ChangeScope.FAVOURITES in s || ChangeScope.PROGRAMME in s) _favourites.value = node.favourites(festival)
            if (ChangeScope.ANNOUNCEMENTS in s || ChangeScope.PROFILES in s) {
                _announcements.value = node.announcements(festival, clock())
            }
            _version.value += 1
        }
    }

    private suspend fun readDays(): List<Day> = node.programme(festival, null)
        .groupBy { it.day }
        .toSortedMap()
        .map { (date, events) -> Day(date, events.groupBy { it.venue }.map { (venue, list) -> Slot(venue, list) }) }

    suspend fun search(query: String): List<Event> = if (query.isBlank()) emptyList() else node.search(festival, query, null)

    suspend fun toggleFavourite(eventId: String) {
        node.setFavourite(festival, eventId, favourites.value.none { it.id == eventId })
    }

    /** Stops following changes. */
    override fun close() = job.cancel()

    private companion object {
        val PROGRAMME_SCOPES = setOf(ChangeScope.PROGRAMME, ChangeScope.FESTIVAL, ChangeScope.ROLES, ChangeScope.MODERATION)
    }
}
