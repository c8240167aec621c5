package meadow

import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Job
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.launch
import kotlinx.coroutines.sync.Mutex
import kotlinx.coroutines.sync.withLock
import uniffi.meadow_core.CrewView
import uniffi.meadow_core.AgendaEntry
import uniffi.meadow_core.AnnouncementView
import uniffi.meadow_core.Priority
import uniffi.meadow_core.ChangeView
import uniffi.meadow_core.Scope
import uniffi.meadow_core.FestivalDay
import uniffi.meadow_core.DayView
import uniffi.meadow_core.EventView
import uniffi.meadow_ffi.EventChanges
import uniffi.meadow_core.EventDetail
import uniffi.meadow_ffi.EventForm
import uniffi.meadow_core.Facets
import uniffi.meadow_core.FestivalView
import uniffi.meadow_ffi.MeadowException
import uniffi.meadow_ffi.MeadowNode
import uniffi.meadow_ffi.NewEvent
import uniffi.meadow_core.NowNext
import uniffi.meadow_ffi.ProgrammeQuery
import uniffi.meadow_core.Standing

/** What an action that writes came to: done, refused at one field of a form, or refused. */
sealed interface Outcome<out T> {
    /** Done. */
    data class Done<T>(val value: T) : Outcome<T>

    /** The core refused one field: a form shows [reason] beside [field]. */
    data class FieldError(val field: String, val reason: String) : Outcome<Nothing>

    /** The core refused it for another reason, fit to show. */
    data class Failed(val reason: String) : Outcome<Nothing>
}

/** The outcome with its value changed by [f]; refusals stay as they are. */
fun <T, R> Outcome<T>.map(f: (T) -> R): Outcome<R> = when (this) {
    is Outcome.Done -> Outcome.Done(f(value))
    is Outcome.FieldError -> this
    is Outcome.Failed -> this
}

/** Why an outcome was refused, fit to show; null if it was done. */
fun Outcome<*>.failure(): String? = when (this) {
    is Outcome.Done -> null
    is Outcome.FieldError -> "$field: $reason"
    is Outcome.Failed -> reason
}

/** Runs a write and turns the core's errors into an [Outcome]. */
suspend fun <T> outcome(write: suspend () -> T): Outcome<T> = try {
    Outcome.Done(write())
} catch (e: MeadowException.InvalidField) {
    Outcome.FieldError(e.field, e.reason)
} catch (e: MeadowException) {
    Outcome.Failed(e.message ?: e.toString())
}

/**
 * Everything the screens of one festival show, kept current by the core's change feed: a change
 * stored on this device or arriving from a peer is read again with no user action, and only
 * what it touched. Presentation only: grouping, clashes, now and next, what changed, who may
 * edit and reminder times all come from the core.
 */
class FestivalState(
    private val node: MeadowNode,
    val festival: String,
    scope: CoroutineScope,
    /** Unix seconds; the tests fix it inside the festival. */
    val clock: () -> Long = { System.currentTimeMillis() / 1000 },
) : AutoCloseable {
    private val _info = MutableStateFlow<FestivalView?>(null)
    private val _standing = MutableStateFlow(Standing.ATTENDEE)
    private val _logWarning = MutableStateFlow<String?>(null)
    private val _days = MutableStateFlow<List<FestivalDay>>(emptyList())
    private val _query = MutableStateFlow(ProgrammeQuery())
    private val _programme = MutableStateFlow<DayView?>(null)
    private val _facets = MutableStateFlow(Facets(emptyList(), emptyList(), emptyList()))
    private val _nowNext = MutableStateFlow<List<NowNext>>(emptyList())
    private val _agenda = MutableStateFlow<List<AgendaEntry>>(emptyList())
    private val _announcements = MutableStateFlow<List<AnnouncementView>>(emptyList())
    private val _changes = MutableStateFlow<List<ChangeView>>(emptyList())
    private val _crews = MutableStateFlow<List<CrewView>>(emptyList())
    private val _crewTitles = MutableStateFlow<Map<String, String>>(emptyMap())
    private val _crewEvents = MutableStateFlow<Map<String, uniffi.meadow_core.EventView>>(emptyMap())
    private val _crewClashes = MutableStateFlow<Map<String, List<uniffi.meadow_core.CrewClash>>>(emptyMap())
    private val _version = MutableStateFlow(0L)
    private val reading = Mutex()

    /** The festival's own fields. */
    val info: StateFlow<FestivalView?> = _info.asStateFlow()

    /** Owner, organiser or attendee: what the app offers. */
    val standing: StateFlow<Standing> = _standing.asStateFlow()

    /** The core's word to an organiser whose log in this festival fills up (null until 75 %). */
    val logWarning: StateFlow<String?> = _logWarning.asStateFlow()

    /** Festival days with events. */
    val days: StateFlow<List<FestivalDay>> = _days.asStateFlow()

    /** What the programme list shows: a day, and a venue, track or tag if chosen. */
    val query: StateFlow<ProgrammeQuery> = _query.asStateFlow()

    /** The programme for [query]: venues and tracks once, rows in programme order. */
    val programme: StateFlow<DayView?> = _programme.asStateFlow()

    /** What the programme can be filtered by. */
    val facets: StateFlow<Facets> = _facets.asStateFlow()

    /** Per venue, what is on now and next. */
    val nowNext: StateFlow<List<NowNext>> = _nowNext.asStateFlow()

    /** Favourites as a timetable: gaps, clashes, reminders. */
    val agenda: StateFlow<List<AgendaEntry>> = _agenda.asStateFlow()

    /** Current announcements, newest first. */
    val announcements: StateFlow<List<AnnouncementView>> = _announcements.asStateFlow()

    /** Events changed since this device last looked: the badge counts them. */
    val changes: StateFlow<List<ChangeView>> = _changes.asStateFlow()

    /** The crews this device is in, as the core reads them. */
    val crews: StateFlow<List<CrewView>> = _crews.asStateFlow()

    /** Titles of the events crew members point at, by id. */
    val crewTitles: StateFlow<Map<String, String>> = _crewTitles.asStateFlow()

    /** The events the crews' members marked or head to, by id: when and where they are. */
    val crewEvents: StateFlow<Map<String, uniffi.meadow_core.EventView>> = _crewEvents.asStateFlow()

    /** Where members of each crew (by id) will be apart: their favourites that overlap. */
    val crewClashes: StateFlow<Map<String, List<uniffi.meadow_core.CrewClash>>> = _crewClashes.asStateFlow()

    /** Bumped after every refresh, so a screen (or a test) can tell it is current. */
    val version: StateFlow<Long> = _version.asStateFlow()

    /** The newest emergency announcement, shown as a banner on every screen. */
    fun emergency(list: List<AnnouncementView>): AnnouncementView? = list.firstOrNull { it.priority == Priority.EMERGENCY }

    private val job: Job = scope.launch {
        node.changes(festival, initial = true).collect { change -> refresh(change.scopes.toSet()) }
    }

    private suspend fun refresh(s: Set<Scope>) = reading.withLock {
        val programme = s.any { it in PROGRAMME_SCOPES }
        if (Scope.FESTIVAL in s || Scope.ROLES in s) {
            _info.value = node.festivals().firstOrNull { it.id == festival }
            _standing.value = node.standing(festival)
        }
        if (programme || Scope.FESTIVAL in s || Scope.ANNOUNCEMENTS in s) {
            _logWarning.value = node.logUsage(festival).warning
        }
        if (programme) {
            val days = node.days(festival)
            _days.value = days
            if (_query.value.day == null || days.none { it.date == _query.value.day }) {
                _query.value = _query.value.copy(day = node.openingDay(festival, clock()))
            }
            readProgramme()
            _facets.value = node.facets(festival)
            _nowNext.value = node.nowNext(festival, clock())
        }
        if (programme || Scope.FAVOURITES in s) {
            _agenda.value = node.agenda(festival, null)
            if (!programme) readProgramme()
        }
        if (Scope.ANNOUNCEMENTS in s || Scope.PROFILES in s || Scope.MODERATION in s) {
            _announcements.value = node.announcements(festival, clock())
        }
        if (programme || Scope.SEEN in s) _changes.value = node.changes(festival, false)
        if (programme || Scope.CREWS in s || Scope.PROFILES in s || Scope.FAVOURITES in s) readCrews()
        _version.value += 1
    }

    private suspend fun readCrews() {
        val crews = node.crews(festival)
        val ids = crews.flatMap { c -> c.members.flatMap { it.favourites + listOfNotNull(it.headingEvent) } }.toSet()
        val events = ids.mapNotNull { id -> runCatching { node.eventDetail(festival, id).event }.getOrNull()?.let { id to it } }.toMap()
        _crewTitles.value = ids.associateWith { id -> events[id]?.title ?: "" }
        _crewEvents.value = events
        _crewClashes.value = crews.associate { c -> c.id to runCatching { node.crewClashes(festival, c) }.getOrDefault(emptyList()) }
        _crews.value = crews
    }

    /** Starts a crew with this device as its admin. */
    suspend fun createCrew(name: String): Outcome<String> = outcome { node.createCrew(festival, name) }

    /** Starts the crew of this person's own devices. */
    suspend fun createDevicesCrew(name: String): Outcome<String> = outcome { node.createDevicesCrew(festival, name) }

    /** An invite link for one person to one of this device's crews. */
    suspend fun crewInvite(crew: String): Outcome<String> = outcome { node.crewInvite(festival, crew) }

    /** Asks to join a crew from its invite link. */
    suspend fun joinCrew(link: String): Outcome<Unit> = outcome { node.joinCrew(link.trim()) }

    /** Leaves a crew. */
    suspend fun leaveCrew(crew: String): Outcome<Unit> = outcome { node.leaveCrew(festival, crew) }

    /** Tells this device's crews a note. */
    suspend fun shareNote(note: String): Outcome<Unit> =
        outcome { node.shareWithCrews(festival, note, false, uniffi.meadow_core.Heading.HEADING_TO, null) }

    private suspend fun readProgramme() {
        val q = _query.value
        // The first screenful at once, then the whole day: a long day shows in a frame or two.
        val first = node.dayView(festival, q, 0u, FIRST_PAGE)
        _programme.value = first
        if (first.total > first.rows.size.toUInt()) {
            val all = node.dayView(festival, q, 0u, first.total)
            if (_query.value == q) _programme.value = all
        }
    }

    /** Shows another day, venue, track or tag. */
    suspend fun show(query: ProgrammeQuery) {
        reading.withLock {
            _query.value = query
            readProgramme()
            _version.value += 1
        }
    }

    /** Full-text search, best first. */
    suspend fun search(text: String): List<EventView> = if (text.isBlank()) emptyList() else node.search(festival, text, null)

    /** Everything about one event. */
    suspend fun detail(event: String): EventDetail = node.eventDetail(festival, event)

    /** The name an author shows in this festival, if they set one. */
    suspend fun displayName(key: String): String? = node.displayName(festival, key)

    /** Marks or unmarks a favourite. */
    suspend fun setFavourite(event: String, on: Boolean) = node.setFavourite(festival, event, on)

    /** Adds an event: official for organisers, community for everyone else. */
    suspend fun addEvent(event: NewEvent): Outcome<String> = outcome { node.addEvent(festival, event) }

    /** An event as its form shows it (day, clock times, venue, track, description). */
    suspend fun eventForm(event: String): EventForm = node.eventForm(festival, event)

    /** Saves an event's form: adds it ([event] null) or changes what differs from [loaded]. */
    suspend fun saveEvent(event: String?, form: EventForm, loaded: EventForm?): Outcome<String> =
        outcome { node.saveEvent(festival, event, form, loaded) }

    /** Changes an event. */
    suspend fun editEvent(event: String, changes: EventChanges): Outcome<Unit> = outcome { node.editEvent(festival, event, changes) }

    /** Cancels or restores an event. */
    suspend fun cancelEvent(event: String, cancelled: Boolean): Outcome<Unit> = outcome { node.cancelEvent(festival, event, cancelled) }

    /** Posts an announcement; an urgent one is an emergency. */
    suspend fun announce(text: String, urgent: Boolean): Outcome<Unit> = outcome { node.announce(festival, text, urgent) }

    /** Names an organiser. */
    suspend fun addOrganiser(key: String): Outcome<Unit> = outcome { node.addOrganiser(festival, key.trim()) }

    /** Removes an organiser. */
    suspend fun removeOrganiser(key: String): Outcome<Unit> = outcome { node.removeOrganiser(festival, key) }

    /** Hides an event for everyone (organisers). */
    suspend fun hideEvent(event: String, hidden: Boolean): Outcome<Unit> = outcome { node.hideEvent(festival, event, hidden) }

    /** Hides an event from this person's own programme (its devices follow), or shows it again. */
    suspend fun hideHere(event: String, hidden: Boolean): Outcome<Unit> = outcome { node.setHiddenHere(festival, event, hidden) }

    /** Mutes an author on this device. */
    suspend fun mute(author: String, muted: Boolean): Outcome<Unit> = outcome { node.setMuted(festival, author, muted) }

    /** Imports a schedule file (Pentabarf XML, frab JSON, iCalendar or a Meadow archive). */
    suspend fun importSchedule(bytes: ByteArray): Outcome<String> = outcome { node.import(bytes) }

    /** The favourites (or the whole programme) as an iCalendar file, for a calendar app. */
    suspend fun exportIcs(favouritesOnly: Boolean): String = node.exportIcs(festival, favouritesOnly)

    /** One event as an iCalendar file, for "add to calendar". */
    suspend fun eventIcs(event: String): String = node.exportEventIcs(festival, event)

    /** Marks every change seen: the badge clears. */
    suspend fun markSeen() {
        node.changes(festival, true)
    }

    /** Stops following changes. */
    override fun close() = job.cancel()

    private companion object {
        val PROGRAMME_SCOPES = setOf(Scope.PROGRAMME, Scope.FESTIVAL, Scope.ROLES, Scope.MODERATION)
        const val FIRST_PAGE = 60u
    }
}
