package meadow.ui

import meadow.Clock
import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.Row
import androidx.compose.foundation.layout.Spacer
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.height
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.layout.widthIn
import androidx.compose.foundation.lazy.LazyColumn
import androidx.compose.foundation.lazy.items
import androidx.compose.foundation.rememberScrollState
import androidx.compose.foundation.verticalScroll
import androidx.compose.material3.Button
import androidx.compose.material3.Card
import androidx.compose.material3.CardDefaults
import androidx.compose.material3.HorizontalDivider
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.OutlinedButton
import androidx.compose.material3.OutlinedTextField
import androidx.compose.material3.Text
import androidx.compose.material3.TextButton
import androidx.compose.runtime.Composable
import androidx.compose.runtime.LaunchedEffect
import androidx.compose.runtime.collectAsState
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.remember
import androidx.compose.runtime.rememberCoroutineScope
import androidx.compose.runtime.setValue
import androidx.compose.ui.Alignment
import androidx.compose.ui.Modifier
import androidx.compose.ui.platform.testTag
import androidx.compose.ui.text.font.FontWeight
import androidx.compose.ui.text.style.TextDecoration
import androidx.compose.ui.unit.dp
import kotlinx.coroutines.launch
import meadow.FestivalState
import meadow.failure
import uniffi.meadow_core.Priority
import uniffi.meadow_core.ChangeKind
import uniffi.meadow_core.EventView
import uniffi.meadow_core.EventDetail
import uniffi.meadow_core.Standing
import uniffi.meadow_core.OpOrigin

/** Per venue, what is on now and what comes next. */
@Composable
fun NowNextScreen(state: FestivalState, clock: Clock, onOpen: (String) -> Unit) {
    val s = LocalStrings.current
    val rows by state.nowNext.collectAsState()
    if (rows.isEmpty()) return Empty(s.nothingNow)
    LazyColumn(Modifier.fillMaxSize().testTag("now-next")) {
        items(rows, key = { it.venueName }) { n ->
            Card(Modifier.fillMaxWidth().padding(horizontal = 12.dp, vertical = 6.dp)) {
                Column(Modifier.padding(12.dp)) {
                    Text(n.venueName.ifEmpty { "—" }, style = MaterialTheme.typography.titleMedium)
                    NowNextLine(s.now, n.now, clock, onOpen)
                    NowNextLine(s.next, n.next, clock, onOpen)
                }
            }
        }
    }
}

@Composable
private fun NowNextLine(label: String, e: EventView?, clock: Clock, onOpen: (String) -> Unit) {
    val s = LocalStrings.current
    Row(Modifier.fillMaxWidth().padding(top = 6.dp), verticalAlignment = Alignment.CenterVertically) {
        Text(label, modifier = Modifier.widthIn(min = 52.dp).padding(end = 8.dp), style = MaterialTheme.typography.labelLarge, color = MaterialTheme.colorScheme.primary)
        if (e == null) {
            Text("—", color = MaterialTheme.colorScheme.onSurfaceVariant)
        } else {
            TextButton(onClick = { onOpen(e.id) }, modifier = Modifier.weight(1f)) {
                Text("${clock.time(e.start)}–${clock.time(e.end)}  ${e.title}", modifier = Modifier.weight(1f))
            }
            KindLabel(e.official)
        }
        if (e == null) Spacer(Modifier.weight(1f))
        if (e == null) Text(s.nothingNow, style = MaterialTheme.typography.bodySmall, color = MaterialTheme.colorScheme.onSurfaceVariant)
    }
}

/** Full-text search over the programme. */
@Composable
fun SearchScreen(state: FestivalState, clock: Clock, onOpen: (String) -> Unit) {
    val s = LocalStrings.current
    val scope = rememberCoroutineScope()
    var text by remember { mutableStateOf("") }
    var hits by remember { mutableStateOf<List<EventView>?>(null) }
    val version by state.version.collectAsState()
    LaunchedEffect(text, version) { hits = if (text.isBlank()) null else state.search(text) }
    Column(Modifier.fillMaxSize()) {
        OutlinedTextField(
            value = text,
            onValueChange = { text = it },
            label = { Text(s.search) },
            placeholder = { Text(s.searchHint) },
            singleLine = true,
            modifier = Modifier.fillMaxWidth().padding(12.dp).testTag("search-field"),
        )
        val h = hits
        when {
            h == null -> {}
            h.isEmpty() -> Empty(s.noResults)
            else -> LazyColumn(Modifier.testTag("search-results")) {
                items(h, key = { it.id }) { e ->
                    EventListRow(e.row(), clock, onOpen = { onOpen(e.id) }, onFavourite = { on -> scope.launch { state.setFavourite(e.id, on) } }) {
                        Text(clock.day(e.day, s.locale()), style = MaterialTheme.typography.bodySmall, color = MaterialTheme.colorScheme.onSurfaceVariant)
                    }
                }
            }
        }
    }
}

/** One event: people, description, links, favourite, add to calendar, and what its author or organisers may do. */
@Composable
fun EventDetailScreen(state: FestivalState, event: String, clock: Clock, platform: Platform, onEdit: (String) -> Unit) {
    val s = LocalStrings.current
    val scope = rememberCoroutineScope()
    val version by state.version.collectAsState()
    val standing by state.standing.collectAsState()
    var detail by remember { mutableStateOf<EventDetail?>(null) }
    var message by remember { mutableStateOf<String?>(null) }
    LaunchedEffect(event, version) { detail = runCatching { state.detail(event) }.getOrNull() }
    val d = detail ?: return Empty("…")
    val e = d.event
    val organiser = standing != Standing.ATTENDEE
    Column(Modifier.fillMaxSize().verticalScroll(rememberScrollState()).padding(16.dp).testTag("event-detail")) {
        Row(verticalAlignment = Alignment.CenterVertically) {
            KindLabel(e.official)
            if (e.cancelled) Text("  ${s.cancelled}", color = MaterialTheme.colorScheme.error, style = MaterialTheme.typography.labelLarge)
            else if (e.moved) Text("  ${s.moved}", color = MaterialTheme.colorScheme.tertiary, style = MaterialTheme.typography.labelLarge)
            Spacer(Modifier.weight(1f))
            FavouriteButton(e.favourite, "detail-star") { scope.launch { state.setFavourite(e.id, !e.favourite) } }
        }
        Text(
            e.title,
            style = MaterialTheme.typography.headlineSmall,
            textDecoration = if (e.cancelled) TextDecoration.LineThrough else null,
            modifier = Modifier.testTag("detail-title"),
        )
        if (e.subtitle.isNotEmpty()) Text(e.subtitle, style = MaterialTheme.typography.titleMedium)
        Spacer(Modifier.height(8.dp))
        Text("${clock.dayTime(e.start, s.locale())}–${clock.time(e.end)}", style = MaterialTheme.typography.titleMedium, modifier = Modifier.testTag("detail-time"))
        Text(listOf(e.venueName, e.track).filter { it.isNotEmpty() }.joinToString(" · "), color = MaterialTheme.colorScheme.onSurfaceVariant, modifier = Modifier.testTag("detail-venue"))
        d.movedFrom?.let { m ->
            val at = if (m.venueName.isNotEmpty()) " · ${m.venueName}" else ""
            Text(
                "${s.movedFrom} ${clock.dayTime(m.start, s.locale())}–${clock.time(m.end)}$at",
                color = MaterialTheme.colorScheme.tertiary,
                style = MaterialTheme.typography.bodyMedium,
                modifier = Modifier.testTag("detail-moved-from"),
            )
        }
        if (d.crewGoing.isNotEmpty()) {
            Text(s.crewGoing(d.crewGoing), color = MaterialTheme.colorScheme.primary, style = MaterialTheme.typography.bodyMedium, modifier = Modifier.testTag("detail-crew"))
        }
        if (e.tags.isNotEmpty()) Text(e.tags.joinToString("  ") { "#$it" }, color = MaterialTheme.colorScheme.secondary)
        if (e.people.isNotEmpty()) {
            Section(s.people, inset = false)
            Text(e.people.joinToString(", "))
        }
        if (d.description.isNotEmpty()) {
            Spacer(Modifier.height(12.dp))
            Text(d.description, style = MaterialTheme.typography.bodyLarge)
        }
        if (d.links.isNotEmpty()) {
            Section(s.links, inset = false)
            d.links.forEach { l -> TextButton(onClick = { platform.openUrl(l.url) }) { Text(l.title.ifEmpty { l.url }) } }
        }
        d.provenance?.let { p ->
            Section(s.provenance, inset = false)
            Origin(s.signedBy, p.created, clock, Modifier.testTag("provenance-created"))
            p.lastChange?.let { Origin(s.changedBy, it, clock, Modifier.testTag("provenance-changed")) }
        }
        Spacer(Modifier.height(16.dp))
        Row(horizontalArrangement = Arrangement.spacedBy(8.dp)) {
            OutlinedButton(onClick = {
                scope.launch { platform.saveCalendar("meadow-${e.id.take(8)}.ics", state.eventIcs(e.id)) }
            }, modifier = Modifier.testTag("add-to-calendar")) { Text(s.addToCalendar) }
            if (d.editable) Button(onClick = { onEdit(e.id) }, modifier = Modifier.testTag("edit")) { Text(s.edit) }
        }
        if (d.editable) {
            TextButton(onClick = { scope.launch { message = state.cancelEvent(e.id, !e.cancelled).failure() } }, modifier = Modifier.testTag("cancel-event")) {
                Text(if (e.cancelled) s.restoreEvent else s.cancelEvent)
            }
        }
        // Hiding is for community content; organisers cancel or delete their own.
        if (organiser && !e.official) {
            TextButton(onClick = { scope.launch { message = state.hideEvent(e.id, true).failure() } }, modifier = Modifier.testTag("hide-event")) { Text(s.hideEvent) }
        }
        TextButton(onClick = { scope.launch { message = state.hideHere(e.id, !d.hiddenHere).failure() } }, modifier = Modifier.testTag("hide-here")) {
            Text(if (d.hiddenHere) s.showHere else s.hideHere)
        }
        if (!e.official) {
            TextButton(onClick = { scope.launch { message = state.mute(e.creator, true).failure() } }, modifier = Modifier.testTag("mute-author")) { Text(s.muteAuthor) }
        }
        message?.let { Text(it, color = MaterialTheme.colorScheme.error) }
    }
}

/** Who signed an op, when their clock says they wrote it, and how it reached this device. */
@Composable
private fun Origin(label: String, o: OpOrigin, clock: Clock, modifier: Modifier) {
    val s = LocalStrings.current
    val muted = MaterialTheme.colorScheme.onSurfaceVariant
    Column(modifier.padding(vertical = 4.dp)) {
        val who = listOf(o.authorName, o.fingerprint).filter { it.isNotEmpty() }.joinToString(" · ")
        Text("$label $who", style = MaterialTheme.typography.bodyMedium)
        val kind = if (o.official) s.officialSigner else s.communitySigner
        val role = when {
            o.ownDevice -> "$kind · ${s.yourDevice}"
            o.crew.isNotEmpty() -> "$kind · ${s.inYourCrew(o.crew)}"
            else -> kind
        }
        val ahead = if (o.clockAhead) " ${s.clockAhead}" else ""
        Text("$role · ${s.writtenAt(clock.dayTime(o.writtenAt, s.locale()))}$ahead", style = MaterialTheme.typography.bodySmall, color = if (o.clockAhead) MaterialTheme.colorScheme.error else muted)
        Text(o.receivedAt?.let { s.reachedHere(clock.dayTime(it, s.locale()), o.via, o.peer) } ?: s.beforeArrivals, style = MaterialTheme.typography.bodySmall, color = muted)
        if (o.verifiedHere) Text(s.signatureChecked, style = MaterialTheme.typography.bodySmall, color = muted)
    }
}

/** My schedule: favourites with their times, the free time between them, clashes and reminders. */
@Composable
fun FavouritesScreen(state: FestivalState, clock: Clock, onOpen: (String) -> Unit) {
    val s = LocalStrings.current
    val scope = rememberCoroutineScope()
    val agenda by state.agenda.collectAsState()
    if (agenda.isEmpty()) return Empty(s.noFavourites)
    val titles = remember(agenda) { agenda.associate { it.event.id to it.event.title } }
    LazyColumn(Modifier.fillMaxSize().testTag("favourites")) {
        var lastDay = ""
        agenda.forEach { a ->
            if (a.event.day != lastDay) {
                lastDay = a.event.day
                item(key = "day-${a.event.day}") { Section(clock.day(a.event.day, s.locale())) }
            }
            a.gapBefore?.let { it / 60 }?.takeIf { it > 0 }?.let { gap ->
                item(key = "gap-${a.event.id}") {
                    Text(s.minutesFree(gap), modifier = Modifier.padding(start = 76.dp, top = 2.dp, bottom = 2.dp), style = MaterialTheme.typography.labelMedium, color = MaterialTheme.colorScheme.secondary)
                }
            }
            item(key = a.event.id) {
                EventListRow(a.event.row(), clock, onOpen = { onOpen(a.event.id) }, onFavourite = { on -> scope.launch { state.setFavourite(a.event.id, on) } }) {
                    if (a.clashesWith.isNotEmpty()) {
                        Warned(
                            s.clashesWith(a.clashesWith.mapNotNull { titles[it] }.joinToString(", ")),
                            MaterialTheme.typography.bodySmall,
                            FontWeight.Medium,
                            color = MaterialTheme.colorScheme.error,
                            modifier = Modifier.testTag("clash-${a.event.id}"),
                        )
                    }
                    a.remindAt?.let { Text(s.remindAt(clock.time(it)), style = MaterialTheme.typography.bodySmall, color = MaterialTheme.colorScheme.onSurfaceVariant) }
                }
            }
        }
    }
}

/** What changed since this device last looked. */
@Composable
fun ChangesScreen(state: FestivalState, clock: Clock, onOpen: (String) -> Unit) {
    val s = LocalStrings.current
    val scope = rememberCoroutineScope()
    val changes by state.changes.collectAsState()
    Column(Modifier.fillMaxSize()) {
        if (changes.isEmpty()) return@Column Empty(s.noChanges)
        TextButton(onClick = { scope.launch { state.markSeen() } }, modifier = Modifier.align(Alignment.End).testTag("mark-seen")) { Text(s.markSeen) }
        LazyColumn(Modifier.testTag("changes")) {
            items(changes, key = { it.event.id }) { c ->
                val what = when (val k = c.kind) {
                    is ChangeKind.New -> s.changeNew()
                    is ChangeKind.Moved -> s.changeMoved(listOf(clock.dayTime(k.fromStart, s.locale()), k.fromVenue).filter { it.isNotEmpty() }.joinToString(", "))
                    is ChangeKind.Cancelled -> s.changeCancelled
                    is ChangeKind.Restored -> s.changeRestored
                    is ChangeKind.Updated -> s.changeUpdated
                    is ChangeKind.Deleted -> s.changeDeleted
                }
                EventListRow(c.event.row(), clock, onOpen = { onOpen(c.event.id) }, onFavourite = { on -> scope.launch { state.setFavourite(c.event.id, on) } }) {
                    Text(what, style = MaterialTheme.typography.labelMedium, color = MaterialTheme.colorScheme.secondary, modifier = Modifier.testTag("change-${c.event.id}"))
                }
                HorizontalDivider()
            }
        }
    }
}

/** Announcements, emergencies first in colour. */
@Composable
fun AnnouncementsScreen(state: FestivalState) {
    val s = LocalStrings.current
    val list by state.announcements.collectAsState()
    if (list.isEmpty()) return Empty(s.noAnnouncements)
    LazyColumn(Modifier.fillMaxSize().testTag("announcements")) {
        items(list, key = { it.id }) { a ->
            val urgent = a.priority == Priority.EMERGENCY
            val high = a.priority == Priority.HIGH
            Card(
                Modifier.fillMaxWidth().padding(horizontal = 12.dp, vertical = 6.dp),
                colors = when {
                    urgent -> CardDefaults.cardColors(containerColor = MaterialTheme.colorScheme.errorContainer)
                    high -> CardDefaults.cardColors(containerColor = MaterialTheme.colorScheme.secondaryContainer)
                    else -> CardDefaults.cardColors()
                },
            ) {
                Column(Modifier.padding(12.dp)) {
                    if (urgent) Warned(s.emergency, MaterialTheme.typography.bodyLarge, FontWeight.Bold, color = MaterialTheme.colorScheme.onErrorContainer)
                    if (high) Text(s.important, fontWeight = FontWeight.Bold, color = MaterialTheme.colorScheme.onSecondaryContainer)
                    Text(a.text, style = MaterialTheme.typography.bodyLarge)
                    if (a.authorName.isNotEmpty()) Text("— ${a.authorName}", style = MaterialTheme.typography.bodySmall, color = MaterialTheme.colorScheme.onSurfaceVariant)
                }
            }
        }
    }
}
