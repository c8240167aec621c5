package meadow.ui

import meadow.Clock
import androidx.compose.foundation.background
import androidx.compose.foundation.clickable
import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Box
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.Row
import androidx.compose.foundation.layout.Spacer
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.layout.size
import androidx.compose.foundation.layout.width
import androidx.compose.foundation.layout.widthIn
import androidx.compose.foundation.shape.RoundedCornerShape
import androidx.compose.material.icons.Icons
import androidx.compose.material.icons.filled.Star
import androidx.compose.material.icons.filled.Warning
import androidx.compose.material.icons.outlined.StarBorder
import androidx.compose.material3.HorizontalDivider
import androidx.compose.material3.Icon
import androidx.compose.material3.IconButton
import androidx.compose.material3.LocalContentColor
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.Surface
import androidx.compose.material3.Text
import androidx.compose.runtime.Composable
import androidx.compose.ui.Alignment
import androidx.compose.ui.Modifier
import androidx.compose.ui.graphics.Color
import androidx.compose.ui.platform.LocalDensity
import androidx.compose.ui.platform.testTag
import androidx.compose.ui.semantics.Role
import androidx.compose.ui.semantics.contentDescription
import androidx.compose.ui.semantics.role
import androidx.compose.ui.semantics.semantics
import androidx.compose.ui.text.TextStyle
import androidx.compose.ui.text.font.FontWeight
import androidx.compose.ui.text.style.TextDecoration
import androidx.compose.ui.text.style.TextOverflow
import androidx.compose.ui.unit.dp
import androidx.compose.ui.unit.sp
import uniffi.meadow_core.AnnouncementView

/** What one row of a list shows of an event, whichever record it came from. */
data class RowData(
    val id: String,
    val title: String,
    val subtitle: String,
    val start: Long,
    val end: Long,
    val venue: String,
    val track: String,
    val cancelled: Boolean,
    val moved: Boolean,
    val official: Boolean,
    val favourite: Boolean,
    /** How many of the viewer's crew favour it or head there. */
    val crew: Int = 0,
)

/** The row of a core [uniffi.meadow_core.EventView]. */
fun uniffi.meadow_core.EventView.row() = RowData(id, title, subtitle, start, end, venueName, track, cancelled, moved, official, favourite, crew.toInt())

/** The row of a [uniffi.meadow_core.DayRow], its venue and track looked up in the view's tables. */
fun uniffi.meadow_core.DayView.row(r: uniffi.meadow_core.DayRow) = RowData(
    r.id, r.title, r.subtitle, r.start, r.end,
    r.venue?.let { venues.getOrNull(it.toInt()) } ?: "",
    r.track?.let { tracks.getOrNull(it.toInt()) } ?: "",
    r.cancelled, r.moved, r.official, r.favourite, r.crew.toInt(),
)

/** "Official" or "Community", in the kind's colour: told apart by label and colour at once. */
@Composable
fun KindLabel(official: Boolean, modifier: Modifier = Modifier) {
    val s = LocalStrings.current
    val k = LocalKinds.current
    Text(
        if (official) s.official else s.community,
        modifier = modifier
            .background(if (official) k.official else k.community, RoundedCornerShape(4.dp))
            .padding(horizontal = 6.dp, vertical = 1.dp),
        color = if (official) k.onOfficial else k.onCommunity,
        style = MaterialTheme.typography.labelSmall,
    )
}

/** A star that marks a favourite, with what it does said for screen readers. */
@Composable
fun FavouriteButton(on: Boolean, tag: String, onToggle: () -> Unit) {
    val s = LocalStrings.current
    IconButton(
        onClick = onToggle,
        modifier = Modifier.testTag(tag).semantics { contentDescription = if (on) s.unfavourite else s.favourite },
    ) {
        Icon(
            if (on) Icons.Filled.Star else Icons.Outlined.StarBorder,
            contentDescription = null,
            tint = if (on) MaterialTheme.colorScheme.tertiary else MaterialTheme.colorScheme.onSurfaceVariant,
        )
    }
}

/** One event in a list: time, title (struck through when cancelled), venue, kind, star. */
@Composable
fun EventListRow(e: RowData, clock: Clock, onOpen: () -> Unit, onFavourite: (Boolean) -> Unit, extra: (@Composable () -> Unit)? = null) {
    val s = LocalStrings.current
    val k = LocalKinds.current
    Row(
        Modifier.fillMaxWidth().clickable(onClick = onOpen).testTag("event-${e.id}").padding(start = 12.dp, top = 6.dp, bottom = 6.dp),
        verticalAlignment = Alignment.CenterVertically,
    ) {
        // A stripe in the kind's colour along the row, so the kinds stand apart in a long list.
        Box(Modifier.width(4.dp).size(width = 4.dp, height = 44.dp).background(if (e.official) k.onOfficial.copy(alpha = 0.5f) else k.community))
        Spacer(Modifier.width(8.dp))
        // As wide as the times need, whatever the font scale: a time never breaks.
        Column(Modifier.widthIn(min = 52.dp).padding(end = 8.dp)) {
            Text(clock.time(e.start), style = MaterialTheme.typography.titleSmall, softWrap = false)
            Text(clock.time(e.end), style = MaterialTheme.typography.bodySmall, color = MaterialTheme.colorScheme.onSurfaceVariant, softWrap = false)
        }
        Column(Modifier.weight(1f)) {
            Text(
                e.title,
                style = MaterialTheme.typography.bodyLarge,
                fontWeight = FontWeight.Medium,
                textDecoration = if (e.cancelled) TextDecoration.LineThrough else null,
                color = if (e.cancelled) MaterialTheme.colorScheme.onSurfaceVariant else MaterialTheme.colorScheme.onSurface,
                maxLines = 2,
                overflow = TextOverflow.Ellipsis,
            )
            Row(horizontalArrangement = Arrangement.spacedBy(6.dp), verticalAlignment = Alignment.CenterVertically) {
                KindLabel(e.official)
                if (e.cancelled) Text(s.cancelled, style = MaterialTheme.typography.labelSmall, color = MaterialTheme.colorScheme.error)
                else if (e.moved) Text(s.moved, style = MaterialTheme.typography.labelSmall, color = MaterialTheme.colorScheme.tertiary)
                Text(
                    listOf(e.venue, e.track).filter { it.isNotEmpty() }.joinToString(" · "),
                    style = MaterialTheme.typography.bodySmall,
                    color = MaterialTheme.colorScheme.onSurfaceVariant,
                    maxLines = 1,
                    overflow = TextOverflow.Ellipsis,
                )
            }
            if (e.crew > 0) {
                Text(
                    s.crewCount(e.crew),
                    style = MaterialTheme.typography.labelSmall,
                    color = MaterialTheme.colorScheme.primary,
                    modifier = Modifier.testTag("crew-count-${e.id}"),
                )
            }
            extra?.invoke()
        }
        FavouriteButton(e.favourite, "star-${e.id}") { onFavourite(!e.favourite) }
    }
}

/** The line in a day's list where "now" is. */
@Composable
fun NowMarker(time: String) {
    val s = LocalStrings.current
    val c = LocalKinds.current.nowLine
    Row(Modifier.fillMaxWidth().testTag("now-marker").padding(horizontal = 8.dp, vertical = 2.dp), verticalAlignment = Alignment.CenterVertically) {
        Text("${s.now} $time", color = c, style = MaterialTheme.typography.labelMedium, fontWeight = FontWeight.Bold)
        Spacer(Modifier.width(6.dp))
        HorizontalDivider(Modifier.weight(1f), thickness = 2.dp, color = c)
    }
}

/** The newest emergency announcement, on top of every screen. */
@Composable
fun EmergencyBanner(a: AnnouncementView, onOpen: () -> Unit) {
    val s = LocalStrings.current
    Surface(
        color = MaterialTheme.colorScheme.errorContainer,
        contentColor = MaterialTheme.colorScheme.onErrorContainer,
        modifier = Modifier.fillMaxWidth().clickable(onClick = onOpen).testTag("emergency-banner")
            .semantics { role = Role.Button },
    ) {
        Column(Modifier.padding(horizontal = 16.dp, vertical = 10.dp)) {
            Warned(s.emergency, MaterialTheme.typography.labelLarge, FontWeight.Bold)
            Text(a.text, style = MaterialTheme.typography.bodyMedium)
        }
    }
}

/** A warning: Material's warning sign (the same in every font), then the text, in `color`; `modifier` is the text's. */
@Composable
fun Warned(
    text: String,
    style: TextStyle,
    weight: FontWeight,
    color: Color = Color.Unspecified,
    modifier: Modifier = Modifier,
) {
    Row(verticalAlignment = Alignment.CenterVertically) {
        val tint = if (color == Color.Unspecified) LocalContentColor.current else color
        Icon(Icons.Filled.Warning, contentDescription = null, tint = tint, modifier = Modifier.size(with(LocalDensity.current) { style.fontSize.toDp() } + 2.dp))
        Spacer(Modifier.width(4.dp))
        Text(text, style = style, fontWeight = weight, color = color, modifier = modifier)
    }
}

/** A heading above a part of a screen. */
@Composable
fun Section(text: String, inset: Boolean = true) {
    Text(
        text,
        style = MaterialTheme.typography.titleSmall,
        color = MaterialTheme.colorScheme.primary,
        modifier = Modifier.padding(start = if (inset) 16.dp else 0.dp, end = 16.dp, top = 16.dp, bottom = 4.dp),
    )
}

/** A quiet line saying a list is empty. */
@Composable
fun Empty(text: String) {
    Text(text, modifier = Modifier.padding(24.dp), color = MaterialTheme.colorScheme.onSurfaceVariant, style = MaterialTheme.typography.bodyLarge)
}

/** A colour's alpha reduced, for grid cells of cancelled events. */
fun Color.faded(): Color = copy(alpha = alpha * 0.45f)
