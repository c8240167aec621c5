package meadow.ui

import meadow.Clock
import androidx.compose.foundation.background
import androidx.compose.foundation.border
import androidx.compose.foundation.clickable
import androidx.compose.foundation.horizontalScroll
import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Box
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.Row
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.height
import androidx.compose.foundation.layout.offset
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.layout.size
import androidx.compose.foundation.layout.width
import androidx.compose.foundation.lazy.LazyColumn
import androidx.compose.foundation.lazy.LazyListState
import androidx.compose.foundation.lazy.LazyRow
import androidx.compose.foundation.lazy.items
import androidx.compose.foundation.rememberScrollState
import androidx.compose.foundation.shape.RoundedCornerShape
import androidx.compose.foundation.verticalScroll
import androidx.compose.material.icons.Icons
import androidx.compose.material.icons.filled.ArrowDropDown
import androidx.compose.material3.DropdownMenu
import androidx.compose.material3.DropdownMenuItem
import androidx.compose.material3.FilterChip
import androidx.compose.material3.FilterChipDefaults
import androidx.compose.material3.Icon
import androidx.compose.material3.HorizontalDivider
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.Text
import androidx.compose.runtime.Composable
import androidx.compose.runtime.collectAsState
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.remember
import androidx.compose.runtime.rememberCoroutineScope
import androidx.compose.runtime.saveable.rememberSaveable
import androidx.compose.runtime.setValue
import androidx.compose.ui.Modifier
import androidx.compose.ui.platform.testTag
import androidx.compose.ui.semantics.contentDescription
import androidx.compose.ui.semantics.semantics
import androidx.compose.ui.text.style.TextDecoration
import androidx.compose.ui.text.style.TextOverflow
import androidx.compose.ui.unit.Dp
import androidx.compose.ui.unit.dp
import kotlinx.coroutines.launch
import meadow.FestivalState
import uniffi.meadow_core.DayView
import uniffi.meadow_ffi.nowLine
import uniffi.meadow_ffi.ProgrammeQuery

/** The programme of a day, as a list or as a grid, with the day, venue, track and tag chosen above. */
@Composable
fun ProgrammeScreen(state: FestivalState, clock: Clock, onOpen: (String) -> Unit) {
    val s = LocalStrings.current
    val scope = rememberCoroutineScope()
    val days by state.days.collectAsState()
    val query by state.query.collectAsState()
    val view by state.programme.collectAsState()
    val facets by state.facets.collectAsState()
    var grid by rememberSaveable { mutableStateOf(false) }
    val show = { q: ProgrammeQuery -> scope.launch { state.show(q) }; Unit }
    val favourite = { id: String, on: Boolean -> scope.launch { state.setFavourite(id, on) }; Unit }

    Column(Modifier.fillMaxSize()) {
        LazyRow(Modifier.fillMaxWidth().testTag("days"), horizontalArrangement = Arrangement.spacedBy(6.dp), contentPadding = androidx.compose.foundation.layout.PaddingValues(horizontal = 12.dp)) {
            items(days, key = { it.date }) { d ->
                FilterChip(
                    selected = d.date == query.day,
                    onClick = { show(query.copy(day = d.date)) },
                    label = { Text(clock.day(d.date, s.locale())) },
                    modifier = Modifier.testTag("day-${d.date}").semantics { contentDescription = "${clock.day(d.date, s.locale())}, ${s.eventCount(d.events.toLong())}" },
                )
            }
        }
        Row(Modifier.fillMaxWidth().horizontalScroll(rememberScrollState()).padding(horizontal = 12.dp), horizontalArrangement = Arrangement.spacedBy(6.dp)) {
            FilterChip(selected = !grid, onClick = { grid = false }, label = { Text(s.list) }, modifier = Modifier.testTag("mode-list"))
            FilterChip(selected = grid, onClick = { grid = true }, label = { Text(s.grid) }, modifier = Modifier.testTag("mode-grid"))
            Choice(
                "filter-venue", s.allVenues, facets.venues.map { it.id to it.name },
                query.venueId,
            ) { show(query.copy(venueId = it)) }
            Choice("filter-track", s.allTracks, facets.tracks.map { it to it }, query.track) { show(query.copy(track = it)) }
            Choice("filter-tag", s.allTags, facets.tags.map { it to "#$it" }, query.tag) { show(query.copy(tag = it)) }
        }
        HorizontalDivider()
        val v = view
        when {
            v == null -> Empty("…")
            v.rows.isEmpty() -> Empty(s.noEvents)
            grid -> ProgrammeGrid(v, clock, state.clock(), onOpen)
            else -> ProgrammeList(v, clock, state.clock(), onOpen, favourite)
        }
    }
}

/** A filter chip that opens a menu of choices, "all" first. */
@Composable
private fun Choice(tag: String, all: String, options: List<Pair<String, String>>, chosen: String?, onChoose: (String?) -> Unit) {
    var open by remember { mutableStateOf(false) }
    Box {
        FilterChip(
            selected = chosen != null,
            onClick = { open = true },
            label = { Text(options.firstOrNull { it.first == chosen }?.second ?: all) },
            trailingIcon = { Icon(Icons.Filled.ArrowDropDown, contentDescription = null, modifier = Modifier.size(FilterChipDefaults.IconSize)) },
            modifier = Modifier.testTag(tag),
        )
        DropdownMenu(expanded = open, onDismissRequest = { open = false }) {
            DropdownMenuItem(text = { Text(all) }, onClick = { open = false; onChoose(null) })
            options.forEach { (key, label) ->
                DropdownMenuItem(text = { Text(label) }, onClick = { open = false; onChoose(key) }, modifier = Modifier.testTag("$tag-$label"))
            }
        }
    }
}

/** The day as a list, with the now line between what started and what has not. */
@Composable
private fun ProgrammeList(v: DayView, clock: Clock, now: Long, onOpen: (String) -> Unit, onFavourite: (String, Boolean) -> Unit) {
    val rows = remember(v) { v.rows.map { v.row(it) } }
    // Where the marker goes is the core's rule: before the first event that has not started.
    val nowAt = remember(v, now) { nowLine(v, now)?.toInt() ?: -1 }
    // Opening a day that holds now shows now, as a schedule app should; another day (or
    // filter) opens at its top.
    val firstRow = rows.firstOrNull()?.id
    val listState = remember(firstRow) { LazyListState(firstVisibleItemIndex = if (nowAt > 0) nowAt - 1 else 0) }
    // Two runs of rows around the marker: a long day is two intervals, not one per row.
    val row: @Composable (RowData) -> Unit = { e -> EventListRow(e, clock, onOpen = { onOpen(e.id) }, onFavourite = { onFavourite(e.id, it) }) }
    val split = if (nowAt < 0) rows.size else nowAt
    LazyColumn(Modifier.fillMaxSize().testTag("programme-list"), state = listState) {
        items(rows.subList(0, split), key = { it.id }) { row(it) }
        if (nowAt >= 0) item(key = "now") { NowMarker(clock.time(now)) }
        items(rows.subList(split, rows.size), key = { it.id }) { row(it) }
    }
}

private val HOUR: Dp = 72.dp
private val COLUMN: Dp = 132.dp
private val AXIS: Dp = 44.dp
private val HEADER: Dp = 32.dp

/** The day as a grid: venues as columns, time running down, as schedule apps show it. */
@Composable
private fun ProgrammeGrid(v: DayView, clock: Clock, now: Long, onOpen: (String) -> Unit) {
    val k = LocalKinds.current
    val rows = remember(v) { v.rows.map { v.row(it) to it.venue?.toInt() } }
    val from = remember(rows) { (rows.minOf { it.first.start } / 3600) * 3600 }
    val to = remember(rows) { rows.maxOf { maxOf(it.first.end, it.first.start + 900) } }
    val hours = ((to - from + 3599) / 3600).toInt().coerceIn(1, 48)
    val columns = v.venues.size + if (rows.any { it.second == null }) 1 else 0
    val y = { secs: Long -> HOUR * ((secs - from).toFloat() / 3600f) }
    val hScroll = rememberScrollState()
    val density = androidx.compose.ui.platform.LocalDensity.current
    // Opens at now on the day that holds it.
    val vScroll = remember(from) { androidx.compose.foundation.ScrollState(if (now in from..to) with(density) { (y(now) - HOUR / 2).coerceAtLeast(0.dp).roundToPx() } else 0) }
    Column(Modifier.fillMaxSize().testTag("programme-grid")) {
        Row(Modifier.horizontalScroll(hScroll)) {
            Box(Modifier.width(AXIS).height(HEADER))
            (v.venues + if (columns > v.venues.size) listOf("—") else emptyList()).forEach {
                Text(it, modifier = Modifier.width(COLUMN).height(HEADER).padding(4.dp), style = MaterialTheme.typography.labelLarge, maxLines = 1, overflow = TextOverflow.Ellipsis)
            }
        }
        Box(Modifier.fillMaxSize().verticalScroll(vScroll).horizontalScroll(hScroll)) {
            Box(Modifier.size(AXIS + COLUMN * columns, HOUR * hours)) {
                for (h in 0 until hours) {
                    Text(
                        clock.time(from + h * 3600L),
                        modifier = Modifier.offset(y = HOUR * h).padding(start = 4.dp),
                        style = MaterialTheme.typography.labelSmall,
                        color = MaterialTheme.colorScheme.onSurfaceVariant,
                    )
                    HorizontalDivider(Modifier.offset(x = AXIS, y = HOUR * h).width(COLUMN * columns), color = MaterialTheme.colorScheme.outlineVariant)
                }
                rows.forEachIndexed { i, (e, venue) ->
                    val col = venue ?: v.venues.size
                    val top = y(e.start)
                    val height = maxOf(y(maxOf(e.end, e.start + 900)) - top, 28.dp)
                    val bg = if (e.official) k.official else k.community
                    // Events that overlap at one venue share its column side by side, in the lanes
                    // the core gave them.
                    val r = v.rows[i]
                    val lane = r.lane.toInt()
                    val w = COLUMN / r.lanes.toInt().coerceAtLeast(1)
                    Box(
                        Modifier.offset(x = AXIS + COLUMN * col + w * lane + 2.dp, y = top + 1.dp).size(w - 4.dp, height - 2.dp)
                            .background(if (e.cancelled) bg.faded() else bg, RoundedCornerShape(6.dp))
                            .then(if (e.favourite) Modifier.border(2.dp, MaterialTheme.colorScheme.tertiary, RoundedCornerShape(6.dp)) else Modifier)
                            .clickable { onOpen(e.id) }
                            .testTag("cell-${e.id}")
                            .padding(4.dp),
                    ) {
                        Column {
                            Text(
                                e.title,
                                style = MaterialTheme.typography.labelMedium,
                                color = if (e.official) k.onOfficial else k.onCommunity,
                                textDecoration = if (e.cancelled) TextDecoration.LineThrough else null,
                                maxLines = 3,
                                overflow = TextOverflow.Ellipsis,
                            )
                            Text(clock.time(e.start), style = MaterialTheme.typography.labelSmall, color = if (e.official) k.onOfficial else k.onCommunity)
                        }
                    }
                }
                if (now in from..to) {
                    Box(Modifier.offset(y = y(now)).width(AXIS + COLUMN * columns).height(2.dp).background(k.nowLine).testTag("now-marker"))
                }
            }
        }
    }
}
