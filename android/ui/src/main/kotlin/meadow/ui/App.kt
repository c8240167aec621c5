package meadow.ui

import meadow.Clock
import androidx.compose.foundation.clickable
import androidx.compose.foundation.layout.Box
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.rememberScrollState
import androidx.compose.foundation.verticalScroll
import androidx.compose.material.icons.Icons
import androidx.compose.material.icons.automirrored.filled.ArrowBack
import androidx.compose.material.icons.filled.Add
import androidx.compose.material.icons.filled.CalendarMonth
import androidx.compose.material.icons.filled.Menu
import androidx.compose.material.icons.filled.Schedule
import androidx.compose.material.icons.filled.Search
import androidx.compose.material.icons.filled.Star
import androidx.compose.material.icons.filled.Update
import androidx.compose.material.icons.outlined.CalendarMonth
import androidx.compose.material.icons.outlined.Menu
import androidx.compose.material.icons.outlined.Schedule
import androidx.compose.material.icons.outlined.StarBorder
import androidx.compose.material.icons.outlined.Update
import androidx.compose.material3.Badge
import androidx.compose.material3.BadgedBox
import androidx.compose.material3.ExperimentalMaterial3Api
import androidx.compose.material3.Icon
import androidx.compose.material3.IconButton
import androidx.compose.material3.ListItem
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.NavigationBar
import androidx.compose.material3.NavigationBarItem
import androidx.compose.material3.Scaffold
import androidx.compose.material3.Text
import androidx.compose.material3.TopAppBar
import androidx.compose.runtime.Composable
import androidx.compose.runtime.Stable
import androidx.compose.runtime.collectAsState
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.remember
import androidx.compose.runtime.setValue
import androidx.compose.ui.Modifier
import androidx.compose.ui.platform.testTag
import androidx.compose.ui.semantics.contentDescription
import androidx.compose.ui.semantics.semantics
import androidx.compose.ui.text.style.TextOverflow
import meadow.AppState
import meadow.FestivalState
import uniffi.meadow_core.Standing

/** Where the app is: one of the five tabs, or a screen opened on top of one. */
sealed interface Screen {
    /** The programme, by day. */
    data object Programme : Screen
    /** Now and next, per venue. */
    data object NowNext : Screen
    /** My schedule. */
    data object Favourites : Screen
    /** Changes since the last look. */
    data object Changes : Screen
    /** Everything else. */
    data object More : Screen
    /** One event. */
    data class Detail(val event: String) : Screen
    /** Add an event (no id) or edit one. */
    data class Edit(val event: String?) : Screen
    /** Search. */
    data object Search : Screen
    /** Announcements. */
    data object Announcements : Screen
    /** Organiser tools. */
    data object Organiser : Screen
    /** Invite and join. */
    data object Invite : Screen
    /** Sync status. */
    data object Sync : Screen
    /** This identity. */
    data object Identity : Screen
    /** Crews: friends' favourites, privately. */
    data object Crews : Screen
    /** The festivals on this device. */
    data object Festivals : Screen
}

/** The screens open, a tab at the bottom and what was opened on top of it. */
@Stable
class Navigator(start: List<Screen> = listOf(Screen.Programme)) {
    /** The stack; the first is a tab. */
    var stack by mutableStateOf(start)

    /** What shows. */
    val top: Screen get() = stack.last()

    /** Opens [s] on top. */
    fun open(s: Screen) { stack = stack + s }

    /** Switches to a tab, closing what was open on top. */
    fun tab(s: Screen) { stack = listOf(s) }

    /** Goes back one screen; false at a tab. */
    fun back(): Boolean = (stack.size > 1).also { if (it) stack = stack.dropLast(1) }
}

private val TABS = listOf(Screen.Programme, Screen.NowNext, Screen.Favourites, Screen.Changes, Screen.More)

/** The whole app: festivals if none is open, else the open festival's tabs and screens. */
@Composable
fun MeadowApp(app: AppState, platform: Platform, nav: Navigator = remember { Navigator() }) {
    val current by app.current.collectAsState()
    val state = current
    if (state == null || nav.top == Screen.Festivals && nav.stack.size == 1) {
        Scaffold { pad -> Box(Modifier.padding(pad)) { FestivalsScreen(app, platform) { nav.tab(Screen.Programme) } } }
        return
    }
    FestivalScaffold(app, state, platform, nav)
}

@OptIn(ExperimentalMaterial3Api::class)
@Composable
private fun FestivalScaffold(app: AppState, state: FestivalState, platform: Platform, nav: Navigator) {
    val s = LocalStrings.current
    val info by state.info.collectAsState()
    val announcements by state.announcements.collectAsState()
    val changes by state.changes.collectAsState()
    val standing by state.standing.collectAsState()
    val clock = remember(info?.fields?.timezone) { Clock(info?.fields?.timezone) }
    val emergency = state.emergency(announcements)
    val onOpen = { id: String -> nav.open(Screen.Detail(id)) }
    Scaffold(
        topBar = {
            Column {
                TopAppBar(
                    title = { Text(info?.fields?.name ?: "", maxLines = 1, overflow = TextOverflow.Ellipsis, modifier = Modifier.testTag("festival-name")) },
                    navigationIcon = {
                        if (nav.stack.size > 1) {
                            IconButton(onClick = { nav.back() }, modifier = Modifier.testTag("back").semantics { contentDescription = s.back }) { Icon(Icons.AutoMirrored.Filled.ArrowBack, contentDescription = null) }
                        }
                    },
                    actions = {
                        IconButton(onClick = { nav.open(Screen.Search) }, modifier = Modifier.testTag("open-search").semantics { contentDescription = s.search }) { Icon(Icons.Filled.Search, contentDescription = null) }
                        IconButton(onClick = { nav.open(Screen.Edit(null)) }, modifier = Modifier.testTag("open-add").semantics { contentDescription = s.addEvent }) { Icon(Icons.Filled.Add, contentDescription = null) }
                    },
                )
                emergency?.let { EmergencyBanner(it) { nav.open(Screen.Announcements) } }
            }
        },
        bottomBar = {
            NavigationBar {
                TABS.forEach { tab ->
                    // Material's convention: the selected tab's icon filled, the others outlined.
                    val (filled, outlined, label) = when (tab) {
                        Screen.Programme -> Triple(Icons.Filled.CalendarMonth, Icons.Outlined.CalendarMonth, s.tabProgramme)
                        Screen.NowNext -> Triple(Icons.Filled.Schedule, Icons.Outlined.Schedule, s.tabNow)
                        Screen.Favourites -> Triple(Icons.Filled.Star, Icons.Outlined.StarBorder, s.tabMine)
                        Screen.Changes -> Triple(Icons.Filled.Update, Icons.Outlined.Update, s.tabChanges)
                        else -> Triple(Icons.Filled.Menu, Icons.Outlined.Menu, s.more)
                    }
                    val selected = nav.stack.first() == tab
                    val glyph = @Composable { Icon(if (selected) filled else outlined, contentDescription = null) }
                    NavigationBarItem(
                        selected = selected,
                        onClick = { nav.tab(tab) },
                        icon = {
                            if (tab == Screen.Changes && changes.isNotEmpty()) {
                                BadgedBox(badge = {
                                    Badge(Modifier.testTag("changes-badge").semantics { contentDescription = "${changes.size} ${s.badgeChanges}" }) { Text("${changes.size}") }
                                }) { glyph() }
                            } else {
                                glyph()
                            }
                        },
                        label = { Text(label, style = MaterialTheme.typography.labelSmall, maxLines = 1, softWrap = false, overflow = TextOverflow.Ellipsis) },
                        modifier = Modifier.testTag("tab-${tab::class.simpleName}"),
                    )
                }
            }
        },
    ) { pad ->
        Box(Modifier.padding(pad).fillMaxSize()) {
            when (val top = nav.top) {
                Screen.Programme -> ProgrammeScreen(state, clock, onOpen)
                Screen.NowNext -> NowNextScreen(state, clock, onOpen)
                Screen.Favourites -> FavouritesScreen(state, clock, onOpen)
                Screen.Changes -> ChangesScreen(state, clock, onOpen)
                Screen.More -> MoreScreen(standing, nav)
                is Screen.Detail -> EventDetailScreen(state, top.event, clock, platform) { nav.open(Screen.Edit(it)) }
                is Screen.Edit -> EditEventScreen(state, top.event, clock) { id -> nav.back(); if (top.event == null) nav.open(Screen.Detail(id)) }
                Screen.Search -> SearchScreen(state, clock, onOpen)
                Screen.Announcements -> AnnouncementsScreen(state)
                Screen.Organiser -> OrganiserScreen(state, platform)
                Screen.Invite -> InviteScreen(app, platform)
                Screen.Sync -> SyncScreen(app, clock, platform)
                Screen.Identity -> IdentityScreen(app)
                Screen.Crews -> CrewsScreen(state, platform, clock)
                Screen.Festivals -> FestivalsScreen(app, platform) { nav.tab(Screen.Programme) }
            }
        }
    }
}

/** The rest of the app, as a list. */
@Composable
private fun MoreScreen(standing: Standing, nav: Navigator) {
    val s = LocalStrings.current
    val entries = buildList {
        add(Screen.Announcements to s.announcements)
        add(Screen.Crews to s.crews)
        if (standing != Standing.ATTENDEE) add(Screen.Organiser to s.organiser)
        add(Screen.Invite to s.invite)
        add(Screen.Sync to s.sync)
        add(Screen.Identity to s.identity)
        add(Screen.Festivals to s.festivals)
    }
    Column(Modifier.fillMaxSize().verticalScroll(rememberScrollState()).testTag("more")) {
        entries.forEach { (screen, label) ->
            ListItem(
                headlineContent = { Text(label, style = MaterialTheme.typography.titleMedium) },
                modifier = Modifier.testTag("more-${screen::class.simpleName}").clickable { nav.open(screen) },
            )
        }
    }
}
