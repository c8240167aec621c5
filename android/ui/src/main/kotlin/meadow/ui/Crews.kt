package meadow.ui

import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.Row
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.layout.size
import androidx.compose.foundation.rememberScrollState
import androidx.compose.foundation.verticalScroll
import androidx.compose.material3.Button
import androidx.compose.material3.Card
import androidx.compose.material3.HorizontalDivider
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.OutlinedButton
import androidx.compose.material3.Text
import androidx.compose.material3.TextButton
import androidx.compose.runtime.Composable
import androidx.compose.runtime.collectAsState
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.remember
import androidx.compose.runtime.rememberCoroutineScope
import androidx.compose.runtime.setValue
import androidx.compose.ui.Modifier
import androidx.compose.ui.platform.testTag
import androidx.compose.ui.text.font.FontFamily
import androidx.compose.ui.unit.dp
import kotlinx.coroutines.launch
import meadow.Clock
import meadow.FestivalState
import meadow.Outcome
import meadow.failure
import uniffi.meadow_core.CrewClash
import uniffi.meadow_core.CrewMember
import uniffi.meadow_core.CrewView
import uniffi.meadow_core.EventView
import uniffi.meadow_core.Heading

/**
 * Crews: who is in each, where they are going and what they marked; create, invite, join (by
 * link or by scanning its code); and "my devices", the crew of this person's own devices.
 */
@Composable
fun CrewsScreen(state: FestivalState, platform: Platform = object : Platform {}, clock: Clock = Clock(null)) {
    val s = LocalStrings.current
    val scope = rememberCoroutineScope()
    val crews by state.crews.collectAsState()
    val titles by state.crewTitles.collectAsState()
    val events by state.crewEvents.collectAsState()
    val clashes by state.crewClashes.collectAsState()
    var name by remember { mutableStateOf("") }
    var link by remember { mutableStateOf("") }
    var note by remember { mutableStateOf("") }
    var message by remember { mutableStateOf<String?>(null) }
    var invite by remember { mutableStateOf<String?>(null) }
    Column(Modifier.fillMaxSize().verticalScroll(rememberScrollState()).padding(16.dp).testTag("crews"), verticalArrangement = Arrangement.spacedBy(8.dp)) {
        Text(s.crews, style = MaterialTheme.typography.headlineSmall)
        val (mine, people) = crews.partition { it.devices }
        if (people.isEmpty()) Text(s.noCrews, color = MaterialTheme.colorScheme.onSurfaceVariant)
        people.forEach { c ->
            CrewCard(c, titles, events, clashes[c.id].orEmpty(), clock, onInvite = {
                scope.launch {
                    when (val r = state.crewInvite(c.id)) {
                        is Outcome.Done -> invite = r.value
                        else -> message = r.failure()
                    }
                }
            }, onLeave = { scope.launch { message = state.leaveCrew(c.id).failure() } })
        }
        invite?.let { l ->
            QrCode(l, Modifier.size(260.dp).testTag("crew-qr"))
            Text(s.crewInviteHint, style = MaterialTheme.typography.bodySmall)
            Text(l, fontFamily = FontFamily.Monospace, style = MaterialTheme.typography.bodySmall, modifier = Modifier.testTag("crew-invite-link"))
        }
        if (people.isNotEmpty()) {
            Field(s.crewNote, note, "crew-note", null) { note = it }
            OutlinedButton(onClick = { scope.launch { message = state.shareNote(note).failure() } }, modifier = Modifier.testTag("crew-share")) { Text(s.shareNote) }
        }
        HorizontalDivider(Modifier.padding(vertical = 8.dp))
        Text(s.myDevices, style = MaterialTheme.typography.titleMedium)
        Text(s.myDevicesHint, style = MaterialTheme.typography.bodySmall, color = MaterialTheme.colorScheme.onSurfaceVariant)
        mine.forEach { c ->
            DevicesCard(c, onInvite = {
                scope.launch {
                    when (val r = state.crewInvite(c.id)) {
                        is Outcome.Done -> invite = r.value
                        else -> message = r.failure()
                    }
                }
            })
        }
        if (mine.isEmpty()) {
            OutlinedButton(onClick = {
                scope.launch { message = state.createDevicesCrew(s.myDevices).failure() }
            }, modifier = Modifier.testTag("devices-create")) { Text(s.startMyDevices) }
        }
        HorizontalDivider(Modifier.padding(vertical = 8.dp))
        Field(s.crewName, name, "crew-name", null) { name = it }
        Button(onClick = { scope.launch { message = state.createCrew(name).failure(); if (message == null) name = "" } }, modifier = Modifier.testTag("crew-create")) { Text(s.createCrew) }
        Field(s.crewLink, link, "crew-link", null) { link = it }
        OutlinedButton(onClick = {
            scope.launch { message = state.joinCrew(link).failure() ?: s.askedToJoin }
        }, modifier = Modifier.testTag("crew-join")) { Text(s.joinCrew) }
        if (platform.canScan) {
            // The code holds the same link: scanning it asks to join at once.
            OutlinedButton(onClick = {
                platform.scanInvite { scanned ->
                    link = scanned
                    scope.launch { message = state.joinCrew(scanned).failure() ?: s.askedToJoin }
                }
            }, modifier = Modifier.testTag("crew-scan")) { Text(s.scanCode) }
        }
        message?.let { Text(it, color = MaterialTheme.colorScheme.secondary, modifier = Modifier.testTag("crew-message")) }
    }
}

@Composable
private fun CrewCard(
    c: CrewView,
    titles: Map<String, String>,
    events: Map<String, EventView>,
    clashes: List<CrewClash>,
    clock: Clock,
    onInvite: () -> Unit,
    onLeave: () -> Unit,
) {
    val s = LocalStrings.current
    Card(Modifier.fillMaxWidth().testTag("crew-${c.id.take(8)}")) {
        Column(Modifier.padding(12.dp), verticalArrangement = Arrangement.spacedBy(6.dp)) {
            Text(c.name, style = MaterialTheme.typography.titleLarge)
            val admin = if (c.isAdmin) " · ${s.crewAdmin}" else ""
            Text(s.crewMembers(c.members.size) + admin, style = MaterialTheme.typography.labelMedium, color = MaterialTheme.colorScheme.onSurfaceVariant)
            c.members.forEach { Member(it, titles, events, clock) }
            // Where members will be apart: one at one event while another is at an overlapping one.
            val name = { key: String -> c.members.firstOrNull { it.key == key }?.let { m -> m.name.ifEmpty { m.fingerprint } + if (m.isMe) " (${s.you})" else "" } ?: key.take(8) }
            clashes.forEach { k ->
                Text(
                    s.crewApart(name(k.first), titles[k.firstEvent].orEmpty(), name(k.second), titles[k.secondEvent].orEmpty()),
                    color = MaterialTheme.colorScheme.error,
                    style = MaterialTheme.typography.bodySmall,
                    modifier = Modifier.testTag("crew-clash"),
                )
            }
            Row(horizontalArrangement = Arrangement.spacedBy(8.dp)) {
                if (c.isAdmin) TextButton(onClick = onInvite, modifier = Modifier.testTag("crew-invite")) { Text(s.inviteToCrew) }
                else TextButton(onClick = onLeave, modifier = Modifier.testTag("crew-leave")) { Text(s.leaveCrew) }
            }
        }
    }
}

@Composable
private fun DevicesCard(c: CrewView, onInvite: () -> Unit) {
    val s = LocalStrings.current
    Card(Modifier.fillMaxWidth().testTag("devices-${c.id.take(8)}")) {
        Column(Modifier.padding(12.dp), verticalArrangement = Arrangement.spacedBy(4.dp)) {
            Text(c.name, style = MaterialTheme.typography.titleMedium)
            Text(s.devices(c.members.size), style = MaterialTheme.typography.labelMedium, color = MaterialTheme.colorScheme.onSurfaceVariant)
            c.members.forEach { m ->
                Text("• " + m.fingerprint + if (m.isMe) " (${s.you})" else "", style = MaterialTheme.typography.bodySmall, fontFamily = FontFamily.Monospace)
            }
            if (c.isAdmin) TextButton(onClick = onInvite, modifier = Modifier.testTag("devices-invite")) { Text(s.inviteToCrew) }
        }
    }
}

@Composable
private fun Member(m: CrewMember, titles: Map<String, String>, events: Map<String, EventView>, clock: Clock) {
    val s = LocalStrings.current
    val muted = MaterialTheme.colorScheme.onSurfaceVariant
    Column(Modifier.padding(top = 6.dp)) {
        val who = m.name.ifEmpty { m.fingerprint } + if (m.isMe) " (${s.you})" else ""
        Text(who, style = MaterialTheme.typography.titleSmall)
        val event = m.headingEvent?.let { titles[it] }
        if (m.heading != null && event != null) {
            val verb = if (m.heading == Heading.HERE_NOW) s.hereNow else s.headingTo
            Text("$verb $event", color = MaterialTheme.colorScheme.tertiary, style = MaterialTheme.typography.bodyMedium)
        }
        if (m.note.isNotEmpty()) Text("“${m.note}”", style = MaterialTheme.typography.bodyMedium)
        if (m.silent) Text(s.sharedNothing, color = muted, style = MaterialTheme.typography.bodySmall)
        // Who goes where and when: each favourite with its time, in programme order.
        m.favourites.mapNotNull { events[it] }.sortedBy { it.start }.forEach { e ->
            val where = if (e.venueName.isNotEmpty()) " · ${e.venueName}" else ""
            Text("★ ${clock.dayTime(e.start, s.locale())} ${e.title}$where", style = MaterialTheme.typography.bodySmall, color = muted)
        }
    }
}
