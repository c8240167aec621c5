package meadow

import uniffi.meadow_ffi.Announcement
import uniffi.meadow_ffi.ChangeListener
import uniffi.meadow_ffi.ChangeScope
import uniffi.meadow_ffi.Event
import uniffi.meadow_ffi.MeadowNode
import uniffi.meadow_ffi.StoreChange

/**
 * What the programme screens show, kept up to date by the node's change notifications.
 * Presentation only: every rule (what is official, what changed, what is hidden) is the core's.
 */
class ProgrammeState(private val node: MeadowNode, val festival: String, private val clock: () -> Long = { System.currentTimeMillis() / 1000 }) : ChangeListener {
    /** Events of one venue on one day, in start order. */
    data class Slot(val venue: String, val events: List<Event>)

    /** One festival day, venue by venue. */
    data class Day(val date: String, val venues: List<Slot>)

    @Volatile var days: List<Day> = emptyList()
        private set

    @Volatile var favourites: List<Event> = emptyList()
        private set

    @Volatile var announcements: List<Announcement> = emptyList()
        private set

    /** Bumped on every refresh, so a screen can tell whether it is stale. */
    @Volatile var version: Long = 0
        private set

    init {
        node.addListener(this)
        refresh()
    }

    @Synchronized
    fun refresh() {
        days = node.programme(festival, null)
            .groupBy { it.day }
            .toSortedMap()
            .map { (date, events) -> Day(date, events.groupBy { it.venue }.map { (venue, list) -> Slot(venue, list) }) }
        favourites = node.favourites(festival)
        announcements = node.announcements(festival, clock())
        version += 1
    }

    override fun onChange(change: StoreChange) {
        if (change.festival != festival) return
        // Only what the change touched is read again.
        when (change.scope) {
            ChangeScope.FAVOURITES -> refreshFavourites()
            ChangeScope.ANNOUNCEMENTS -> refreshAnnouncements()
            else -> refresh()
        }
    }

    @Synchronized
    private fun refreshFavourites() {
        favourites = node.favourites(festival)
        version += 1
    }

    @Synchronized
    private fun refreshAnnouncements() {
        announcements = node.announcements(festival, clock())
        version += 1
    }

    fun search(query: String): List<Event> = if (query.isBlank()) emptyList() else node.search(festival, query)

    fun toggleFavourite(eventId: String) {
        node.setFavourite(festival, eventId, favourites.none { it.id == eventId })
    }
}
