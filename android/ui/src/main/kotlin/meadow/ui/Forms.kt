package meadow.ui

import meadow.Clock
import androidx.compose.foundation.Canvas
import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Box
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.Row
import androidx.compose.foundation.layout.Spacer
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.height
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.layout.size
import androidx.compose.foundation.layout.width
import androidx.compose.foundation.rememberScrollState
import androidx.compose.foundation.verticalScroll
import androidx.compose.material3.Button
import androidx.compose.material3.DropdownMenu
import androidx.compose.material3.DropdownMenuItem
import androidx.compose.material3.HorizontalDivider
import androidx.compose.material3.ListItem
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.OutlinedButton
import androidx.compose.material3.OutlinedTextField
import androidx.compose.material3.Switch
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
import androidx.compose.ui.geometry.Offset
import androidx.compose.ui.geometry.Size
import androidx.compose.ui.graphics.Color
import androidx.compose.ui.platform.testTag
import androidx.compose.ui.semantics.contentDescription
import androidx.compose.ui.semantics.semantics
import androidx.compose.ui.text.font.FontFamily
import androidx.compose.ui.text.font.FontWeight
import androidx.compose.ui.unit.dp
import com.google.zxing.BarcodeFormat
import com.google.zxing.EncodeHintType
import com.google.zxing.qrcode.QRCodeWriter
import com.google.zxing.qrcode.decoder.ErrorCorrectionLevel
import kotlinx.coroutines.launch
import meadow.AppState
import meadow.FestivalState
import meadow.Outcome
import meadow.failure
import meadow.map
import uniffi.meadow_ffi.EventForm
import uniffi.meadow_core.Standing

/** A text field that shows the core's error for it below. */
@Composable
fun Field(label: String, value: String, tag: String, error: String?, hint: String? = null, single: Boolean = true, onChange: (String) -> Unit) {
    OutlinedTextField(
        value = value,
        onValueChange = onChange,
        label = { Text(label) },
        placeholder = hint?.let { { Text(it) } },
        isError = error != null,
        supportingText = error?.let { { Text(it, modifier = Modifier.testTag("$tag-error")) } },
        singleLine = single,
        minLines = if (single) 1 else 3,
        modifier = Modifier.fillMaxWidth().testTag(tag),
    )
}

/**
 * Add an event, or edit one: community for attendees, official for organisers, as the core
 * decides. The core's errors arrive at the field they name.
 */
@Composable
fun EditEventScreen(state: FestivalState, event: String?, clock: Clock, onDone: (String) -> Unit) {
    val s = LocalStrings.current
    val scope = rememberCoroutineScope()
    val standing by state.standing.collectAsState()
    val query by state.query.collectAsState()
    val facets by state.facets.collectAsState()
    val days by state.days.collectAsState()
    val info by state.info.collectAsState()
    var title by remember { mutableStateOf("") }
    var day by remember { mutableStateOf(query.day ?: info?.fields?.startDate ?: "") }
    var start by remember { mutableStateOf("") }
    var end by remember { mutableStateOf("") }
    var venue by remember { mutableStateOf<String?>(null) }
    var track by remember { mutableStateOf("") }
    var description by remember { mutableStateOf("") }
    var errors by remember { mutableStateOf(mapOf<String, String>()) }
    var venueMenu by remember { mutableStateOf(false) }
    var loaded by remember { mutableStateOf<EventForm?>(null) }
    LaunchedEffect(event) {
        if (event != null) {
            // The form as the core shows the event: its festival day and clock times on it.
            val f = state.eventForm(event)
            loaded = f
            title = f.title; day = f.day; start = f.start; end = f.end
            venue = f.venueId; track = f.track; description = f.description
        }
    }
    Column(Modifier.fillMaxSize().verticalScroll(rememberScrollState()).padding(16.dp).testTag("edit-event"), verticalArrangement = Arrangement.spacedBy(6.dp)) {
        Text(if (event == null) s.addEvent else s.editEvent, style = MaterialTheme.typography.headlineSmall)
        val official = standing != Standing.ATTENDEE
        Row(verticalAlignment = Alignment.CenterVertically) {
            KindLabel(official)
            Text("  " + if (official) s.postsAsOfficial else s.postsAsCommunity, style = MaterialTheme.typography.bodySmall, modifier = Modifier.testTag("posts-as"))
        }
        Field(s.title, title, "field-title", errors["title"]) { title = it }
        Row(horizontalArrangement = Arrangement.spacedBy(6.dp), modifier = Modifier.fillMaxWidth()) {
            (days.map { it.date }.ifEmpty { listOf(day) }).take(7).forEach { d ->
                androidx.compose.material3.FilterChip(selected = d == day, onClick = { day = d }, label = { Text(clock.day(d, s.locale()).substringBefore(' ')) }, modifier = Modifier.testTag("field-day-$d"))
            }
        }
        errors["day"]?.let { Text(it, color = MaterialTheme.colorScheme.error) }
        Row(horizontalArrangement = Arrangement.spacedBy(8.dp)) {
            Box(Modifier.weight(1f)) { Field(s.start, start, "field-start", errors["start"], s.timeFormatHint) { start = it } }
            Box(Modifier.weight(1f)) { Field(s.end, end, "field-end", errors["end"], s.timeFormatHint) { end = it } }
        }
        Box {
            OutlinedButton(onClick = { venueMenu = true }, modifier = Modifier.fillMaxWidth().testTag("field-venue")) {
                Text("${s.venue}: " + (facets.venues.firstOrNull { it.id == venue }?.name ?: s.noVenue))
            }
            DropdownMenu(expanded = venueMenu, onDismissRequest = { venueMenu = false }) {
                DropdownMenuItem(text = { Text(s.noVenue) }, onClick = { venue = null; venueMenu = false })
                facets.venues.forEach { v -> DropdownMenuItem(text = { Text(v.name) }, onClick = { venue = v.id; venueMenu = false }, modifier = Modifier.testTag("venue-${v.name}")) }
            }
        }
        errors["venue"]?.let { Text(it, color = MaterialTheme.colorScheme.error, modifier = Modifier.testTag("field-venue-error")) }
        Field(s.track, track, "field-track", errors["track"]) { track = it }
        Field(s.description, description, "field-description", errors["description"], single = false) { description = it }
        errors[""]?.let { Text(it, color = MaterialTheme.colorScheme.error, modifier = Modifier.testTag("form-error")) }
        Button(onClick = {
            scope.launch {
                errors = emptyMap()
                // The core reads the times on the day and, for an edit, writes only what changed.
                val result = state.saveEvent(event, EventForm(title, day, start, end, venue, track, description), loaded)
                when (result) {
                    is Outcome.Done -> onDone(result.value)
                    is Outcome.FieldError -> errors = mapOf(result.field to result.reason)
                    is Outcome.Failed -> errors = mapOf("" to result.reason)
                }
            }
        }, modifier = Modifier.fillMaxWidth().testTag("save")) { Text(s.save) }
    }
}

/** Organiser tools: announce, name and remove organisers, import a schedule file. */
@Composable
fun OrganiserScreen(state: FestivalState, platform: Platform) {
    val s = LocalStrings.current
    val scope = rememberCoroutineScope()
    val info by state.info.collectAsState()
    val standing by state.standing.collectAsState()
    val logWarning by state.logWarning.collectAsState()
    var text by remember { mutableStateOf("") }
    var urgent by remember { mutableStateOf(false) }
    var key by remember { mutableStateOf("") }
    var note by remember { mutableStateOf<String?>(null) }
    var keyError by remember { mutableStateOf<String?>(null) }
    var textError by remember { mutableStateOf<String?>(null) }
    // Organisers by the names they set, their keys' start beside.
    var names by remember { mutableStateOf(mapOf<String, String>()) }
    LaunchedEffect(info) {
        val f = info ?: return@LaunchedEffect
        names = (f.organisers + f.owner).mapNotNull { k -> state.displayName(k)?.let { k to it } }.toMap()
    }
    val key8 = { key: String -> key.take(8) + "…" + key.takeLast(4) }
    Column(Modifier.fillMaxSize().verticalScroll(rememberScrollState()).padding(16.dp).testTag("organiser"), verticalArrangement = Arrangement.spacedBy(6.dp)) {
        logWarning?.let {
            Warned(it, MaterialTheme.typography.bodyMedium, FontWeight.Medium, color = MaterialTheme.colorScheme.error, modifier = Modifier.testTag("log-warning"))
        }
        Text(s.announce, style = MaterialTheme.typography.titleMedium)
        Field(s.announcementText, text, "announce-text", textError, single = false) { text = it }
        Row(verticalAlignment = Alignment.CenterVertically) {
            Switch(checked = urgent, onCheckedChange = { urgent = it }, modifier = Modifier.testTag("announce-urgent").semantics { contentDescription = s.urgent })
            Text("  ${s.urgent}")
        }
        Button(onClick = {
            scope.launch {
                when (val r = state.announce(text, urgent)) {
                    is Outcome.Done -> { text = ""; urgent = false; textError = null }
                    else -> textError = r.failure()
                }
            }
        }, modifier = Modifier.testTag("announce-post")) { Text(s.post) }
        HorizontalDivider(Modifier.padding(vertical = 8.dp))
        Text(s.organisers, style = MaterialTheme.typography.titleMedium)
        info?.let { f ->
            ListItem(
                headlineContent = { Text(names[f.owner] ?: s.owner) },
                supportingContent = { Text("${s.owner} · ${key8(f.owner)}", fontFamily = FontFamily.Monospace) },
            )
            f.organisers.forEach { o ->
                ListItem(
                    headlineContent = { Text(names[o] ?: key8(o)) },
                    supportingContent = { Text(key8(o), fontFamily = FontFamily.Monospace) },
                    trailingContent = { TextButton(onClick = { scope.launch { note = state.removeOrganiser(o).failure() } }) { Text(s.remove) } },
                )
            }
        }
        Field(s.publicKey, key, "organiser-key", keyError) { key = it }
        Button(onClick = {
            scope.launch {
                keyError = state.addOrganiser(key).failure()
                if (keyError == null) key = ""
            }
        }, enabled = standing != Standing.ATTENDEE, modifier = Modifier.testTag("organiser-add")) { Text(s.addOrganiser) }
        HorizontalDivider(Modifier.padding(vertical = 8.dp))
        OutlinedButton(onClick = {
            scope.launch {
                val bytes = platform.pickSchedule() ?: return@launch
                note = when (val r = state.importSchedule(bytes)) {
                    is Outcome.Done -> s.imported
                    else -> r.failure()
                }
            }
        }, modifier = Modifier.testTag("import")) { Text(s.importSchedule) }
        note?.let { Text(it, modifier = Modifier.testTag("organiser-note")) }
    }
}

/** The festivals on this device: open one, create one, join one, or try the demo. */
@Composable
fun FestivalsScreen(app: AppState, platform: Platform, onOpened: () -> Unit) {
    val s = LocalStrings.current
    val scope = rememberCoroutineScope()
    val festivals by app.festivals.collectAsState()
    val current by app.current.collectAsState()
    var name by remember { mutableStateOf("") }
    var tz by remember { mutableStateOf(java.time.ZoneId.systemDefault().id) }
    var first by remember { mutableStateOf("") }
    var last by remember { mutableStateOf("") }
    var errors by remember { mutableStateOf(mapOf<String, String>()) }
    Column(Modifier.fillMaxSize().verticalScroll(rememberScrollState()).padding(16.dp).testTag("festivals"), verticalArrangement = Arrangement.spacedBy(6.dp)) {
        Text(s.festivals, style = MaterialTheme.typography.headlineSmall)
        festivals.forEach { f ->
            ListItem(
                headlineContent = { Text(f.fields.name) },
                supportingContent = { Text("${f.fields.startDate} – ${f.fields.endDate} · ${f.fields.timezone}") },
                trailingContent = {
                    if (current?.festival == f.id) Text(s.current, color = MaterialTheme.colorScheme.primary)
                    else TextButton(onClick = { scope.launch { app.open(f.id); onOpened() } }, modifier = Modifier.testTag("open-${f.fields.name}")) { Text(s.openFestival) }
                },
            )
        }
        if (festivals.isEmpty()) {
            Button(onClick = { scope.launch { app.createDemo(java.time.LocalDate.now().toString()); onOpened() } }, modifier = Modifier.testTag("demo")) { Text(s.demo) }
        }
        HorizontalDivider(Modifier.padding(vertical = 8.dp))
        JoinForm(app, platform, onOpened)
        HorizontalDivider(Modifier.padding(vertical = 8.dp))
        Text(s.createFestival, style = MaterialTheme.typography.titleMedium)
        Field(s.name, name, "new-name", errors["name"]) { name = it }
        Field(s.timezone, tz, "new-timezone", errors["timezone"]) { tz = it }
        Row(horizontalArrangement = Arrangement.spacedBy(8.dp)) {
            Box(Modifier.weight(1f)) { Field(s.firstDay, first, "new-first", errors["start_date"], "2026-07-10") { first = it } }
            Box(Modifier.weight(1f)) { Field(s.lastDay, last, "new-last", errors["end_date"], "2026-07-12") { last = it } }
        }
        errors[""]?.let { Text(it, color = MaterialTheme.colorScheme.error, modifier = Modifier.testTag("new-error")) }
        Button(onClick = {
            scope.launch {
                when (val r = app.create(name, tz, first, last)) {
                    is Outcome.Done -> { errors = emptyMap(); onOpened() }
                    is Outcome.FieldError -> errors = mapOf(r.field to r.reason)
                    is Outcome.Failed -> errors = mapOf("" to r.reason)
                }
            }
        }, modifier = Modifier.testTag("new-create")) { Text(s.create) }
    }
}

/** Paste or scan an invite to join a festival. */
@Composable
fun JoinForm(app: AppState, platform: Platform, onOpened: () -> Unit) {
    val s = LocalStrings.current
    val scope = rememberCoroutineScope()
    var link by remember { mutableStateOf("") }
    var error by remember { mutableStateOf<String?>(null) }
    var busy by remember { mutableStateOf(false) }
    val join = { text: String ->
        scope.launch {
            busy = true
            error = when (val r = app.join(text, platform.lan)) {
                is Outcome.Done -> { onOpened(); null }
                else -> r.failure()
            }
            busy = false
        }
        Unit
    }
    Text(s.joinFestival, style = MaterialTheme.typography.titleMedium)
    Field(s.inviteLink, link, "join-link", error, "meadow://join/…") { link = it }
    Row(horizontalArrangement = Arrangement.spacedBy(8.dp)) {
        Button(onClick = { join(link) }, enabled = !busy && link.isNotBlank(), modifier = Modifier.testTag("join")) { Text(s.join) }
        if (platform.canScan) OutlinedButton(onClick = { platform.scanInvite { link = it; join(it) } }, modifier = Modifier.testTag("scan")) { Text(s.scanQr) }
    }
}

/** The invite for the open festival: a QR code and the link, to share. */
@Composable
fun InviteScreen(app: AppState, platform: Platform) {
    val s = LocalStrings.current
    val net by app.net.collectAsState()
    LaunchedEffect(Unit) { if (!net.running) app.startSync(platform.lan) }
    Column(Modifier.fillMaxSize().verticalScroll(rememberScrollState()).padding(16.dp).testTag("invite"), horizontalAlignment = Alignment.CenterHorizontally) {
        Text(s.invite, style = MaterialTheme.typography.headlineSmall)
        val link = net.invite
        if (link == null) {
            Empty(s.syncStopped)
        } else {
            Spacer(Modifier.height(12.dp))
            QrCode(link, Modifier.size(260.dp).semantics { contentDescription = "QR: $link" }.testTag("qr"))
            Spacer(Modifier.height(12.dp))
            Text(s.inviteHelp, style = MaterialTheme.typography.bodyMedium)
            Text(link, fontFamily = FontFamily.Monospace, style = MaterialTheme.typography.bodySmall, maxLines = 3, modifier = Modifier.testTag("invite-link"))
            TextButton(onClick = { platform.share(link) }, modifier = Modifier.testTag("share-invite")) { Text(s.shareLink) }
        }
        HorizontalDivider(Modifier.padding(vertical = 12.dp))
        Column(Modifier.fillMaxWidth()) { JoinForm(app, platform) {} }
    }
}

/** A QR code drawn from ZXing's module matrix: dark modules on white, with a quiet zone. */
@Composable
fun QrCode(text: String, modifier: Modifier = Modifier) {
    val matrix = remember(text) {
        QRCodeWriter().encode(text, BarcodeFormat.QR_CODE, 0, 0, mapOf(EncodeHintType.ERROR_CORRECTION to ErrorCorrectionLevel.M, EncodeHintType.MARGIN to 2))
    }
    Canvas(modifier) {
        drawRect(Color.White)
        val cell = minOf(size.width / matrix.width, size.height / matrix.height)
        for (y in 0 until matrix.height) for (x in 0 until matrix.width) {
            if (matrix.get(x, y)) drawRect(Color.Black, Offset(x * cell, y * cell), Size(cell, cell))
        }
    }
}

/** Sync status: whether it runs, peers, the last sync. */
@Composable
fun SyncScreen(app: AppState, clock: Clock, platform: Platform) {
    val s = LocalStrings.current
    val scope = rememberCoroutineScope()
    val net by app.net.collectAsState()
    Column(Modifier.fillMaxSize().padding(16.dp).testTag("sync"), verticalArrangement = Arrangement.spacedBy(8.dp)) {
        Text(s.sync, style = MaterialTheme.typography.headlineSmall)
        Text(if (net.running) s.syncRunning else s.syncStopped, style = MaterialTheme.typography.titleMedium, modifier = Modifier.testTag("sync-state"))
        Text(s.peers(net.peers.toInt()), modifier = Modifier.testTag("sync-peers"))
        Text(s.lastSync(net.lastSync?.let { clock.dayTime(it, s.locale()) }), modifier = Modifier.testTag("sync-last"))
        Text(s.received(net.opsReceived.toLong()), color = MaterialTheme.colorScheme.onSurfaceVariant)
        Button(onClick = { scope.launch { if (net.running) app.stopSync() else app.startSync(platform.lan) } }, modifier = Modifier.testTag("sync-toggle")) {
            Text(if (net.running) s.stopSync else s.start_sync)
        }
    }
}

/** This device's identity: fingerprint to read aloud, display name. */
@Composable
fun IdentityScreen(app: AppState) {
    val s = LocalStrings.current
    val scope = rememberCoroutineScope()
    val saved by app.displayName.collectAsState()
    var name by remember(saved) { mutableStateOf(saved ?: "") }
    var error by remember { mutableStateOf<String?>(null) }
    Column(Modifier.fillMaxSize().padding(16.dp).testTag("identity"), verticalArrangement = Arrangement.spacedBy(8.dp)) {
        Text(s.identity, style = MaterialTheme.typography.headlineSmall)
        Text(s.fingerprint, style = MaterialTheme.typography.labelLarge)
        Text(app.fingerprint, fontFamily = FontFamily.Monospace, style = MaterialTheme.typography.titleMedium, modifier = Modifier.testTag("fingerprint"))
        Text(s.publicKey, style = MaterialTheme.typography.labelLarge)
        Text(app.publicKey, fontFamily = FontFamily.Monospace, style = MaterialTheme.typography.bodySmall)
        Spacer(Modifier.width(8.dp))
        Field(s.displayName, name, "display-name", error) { name = it }
        Button(onClick = { scope.launch { error = app.setDisplayName(name).failure() } }, modifier = Modifier.testTag("display-name-save")) { Text(s.save) }
    }
}
