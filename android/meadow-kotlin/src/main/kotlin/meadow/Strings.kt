package meadow

/** Every text the app shows (screens and notifications), in one place: English and German. */
interface Strings {
    val appName: String get() = "Meadow"
    val programme: String
    val nowNext: String
    val favourites: String
    val changes: String
    val more: String
    val tabProgramme: String
    val tabNow: String
    val tabMine: String
    val tabChanges: String
    val search: String
    val searchHint: String
    val list: String
    val grid: String
    val allVenues: String
    val allTracks: String
    val allTags: String
    val venue: String
    val track: String
    val tag: String
    val official: String
    val community: String
    val cancelled: String
    val moved: String
    val movedFrom: String
    val now: String
    val next: String
    val nothingNow: String
    val noEvents: String
    val noResults: String
    val favourite: String
    val unfavourite: String
    val addToCalendar: String
    val people: String
    val links: String
    val edit: String
    val cancelEvent: String
    val restoreEvent: String
    val hideEvent: String
    val muteAuthor: String
    val back: String
    val noFavourites: String
    fun minutesFree(minutes: Long): String
    fun clashesWith(titles: String): String
    fun remindAt(time: String): String
    val noChanges: String
    val markSeen: String
    fun changeNew(): String
    fun changeMoved(from: String): String
    val changeCancelled: String
    val changeRestored: String
    val changeUpdated: String
    val changeDeleted: String
    val announcements: String
    val noAnnouncements: String
    val emergency: String
    val important: String
    val addEvent: String
    val editEvent: String
    val title: String
    val day: String
    val start: String
    val end: String
    val description: String
    val noVenue: String
    val save: String
    val postsAsOfficial: String
    val postsAsCommunity: String
    val timeFormatHint: String
    val organiser: String
    val announce: String
    val announcementText: String
    val urgent: String
    val post: String
    val organisers: String
    val owner: String
    val addOrganiser: String
    val publicKey: String
    val remove: String
    val importSchedule: String
    val imported: String
    val invite: String
    val inviteHelp: String
    val shareLink: String
    val joinFestival: String
    val inviteLink: String
    val join: String
    val scanQr: String
    val sync: String
    val syncRunning: String
    val syncStopped: String
    val start_sync: String
    val stopSync: String
    fun peers(n: Int): String
    fun lastSync(time: String?): String
    fun received(n: Long): String
    val identity: String
    val fingerprint: String
    val displayName: String
    val festivals: String
    val createFestival: String
    val name: String
    val timezone: String
    val firstDay: String
    val lastDay: String
    val create: String
    val demo: String
    val openFestival: String
    val current: String
    val badgeChanges: String
    fun eventCount(n: Long): String
    val channelSync: String
    val channelReminders: String
    val channelEmergency: String
    fun syncNotification(peers: Int): String
    fun reminderText(time: String, venue: String): String
    val provenance: String
    val crews: String
    val noCrews: String
    val crewName: String
    val createCrew: String
    val crewLink: String
    val joinCrew: String
    val askedToJoin: String
    val inviteToCrew: String
    val crewInviteHint: String
    val crewAdmin: String
    fun crewMembers(n: Int): String
    val you: String
    val sharedNothing: String
    val crewNote: String
    val shareNote: String
    val leaveCrew: String
    val headingTo: String
    val hereNow: String
    val signedBy: String
    val changedBy: String
    val officialSigner: String
    val communitySigner: String
    fun writtenAt(time: String): String
    val clockAhead: String
    fun reachedHere(time: String, via: uniffi.meadow_core.Via?, peer: String?): String
    val beforeArrivals: String
    val signatureChecked: String
    fun crewCount(n: Int): String
    fun crewGoing(names: List<String>): String
    fun inYourCrew(crew: String): String
    val yourDevice: String
    val hideHere: String
    val showHere: String
    val myDevices: String
    val myDevicesHint: String
    val startMyDevices: String
    fun devices(n: Int): String
    val scanCode: String
    fun crewApart(first: String, firstEvent: String, second: String, secondEvent: String): String
}

/** English. */
object English : Strings {
    override val programme = "Programme"
    override val nowNext = "Now & next"
    override val favourites = "My schedule"
    override val changes = "Changes"
    override val more = "More"
    override val tabProgramme = "Lineup"
    override val tabNow = "Now"
    override val tabMine = "Mine"
    override val tabChanges = "Changes"
    override val search = "Search"
    override val searchHint = "Title, person, tag…"
    override val list = "List"
    override val grid = "Grid"
    override val allVenues = "All venues"
    override val allTracks = "All tracks"
    override val allTags = "All tags"
    override val venue = "Venue"
    override val track = "Track"
    override val tag = "Tag"
    override val official = "Official"
    override val community = "Community"
    override val cancelled = "Cancelled"
    override val moved = "Moved"
    override val movedFrom = "First announced for"
    override val now = "Now"
    override val next = "Next"
    override val nothingNow = "Nothing on"
    override val noEvents = "No events"
    override val noResults = "Nothing found"
    override val favourite = "Add to my schedule"
    override val unfavourite = "Remove from my schedule"
    override val addToCalendar = "Add to calendar"
    override val people = "People"
    override val links = "Links"
    override val edit = "Edit"
    override val cancelEvent = "Cancel event"
    override val restoreEvent = "Restore event"
    override val hideEvent = "Hide for everyone"
    override val muteAuthor = "Mute this author"
    override val back = "Back"
    override val noFavourites = "Nothing here yet: tap the star on an event to add it."
    override fun minutesFree(minutes: Long) = if (minutes >= 60) "${minutes / 60} h ${minutes % 60} min free" else "$minutes min free"
    override fun clashesWith(titles: String) = "Clashes with $titles"
    override fun remindAt(time: String) = "Reminder at $time"
    override val noChanges = "No changes since you last looked"
    override val markSeen = "Mark all seen"
    override fun changeNew() = "New"
    override fun changeMoved(from: String) = "Moved (was $from)"
    override val changeCancelled = "Cancelled"
    override val changeRestored = "Back on"
    override val changeUpdated = "Updated"
    override val changeDeleted = "Removed"
    override val announcements = "Announcements"
    override val noAnnouncements = "No announcements"
    override val emergency = "Emergency"
    override val important = "Important"
    override val addEvent = "Add event"
    override val editEvent = "Edit event"
    override val title = "Title"
    override val day = "Day"
    override val start = "Start"
    override val end = "End"
    override val description = "Description"
    override val noVenue = "No venue"
    override val save = "Save"
    override val postsAsOfficial = "Posted as an official event"
    override val postsAsCommunity = "Posted as a community event"
    override val timeFormatHint = "HH:MM"
    override val organiser = "Organiser tools"
    override val announce = "Announce"
    override val announcementText = "Announcement"
    override val urgent = "Emergency (banner on every screen)"
    override val post = "Post"
    override val organisers = "Organisers"
    override val owner = "Owner"
    override val addOrganiser = "Add organiser"
    override val publicKey = "Public key"
    override val remove = "Remove"
    override val importSchedule = "Import schedule file"
    override val imported = "Imported"
    override val invite = "Invite"
    override val inviteHelp = "Scan this code with Meadow, or share the link."
    override val shareLink = "Share link"
    override val joinFestival = "Join a festival"
    override val inviteLink = "Invite link"
    override val join = "Join"
    override val scanQr = "Scan QR code"
    override val sync = "Sync"
    override val syncRunning = "Syncing with nearby devices"
    override val syncStopped = "Sync is off"
    override val start_sync = "Start sync"
    override val stopSync = "Stop sync"
    override fun peers(n: Int) = if (n == 1) "1 peer" else "$n peers"
    override fun lastSync(time: String?) = if (time == null) "Not synced yet" else "Last sync $time"
    override fun received(n: Long) = "$n changes received"
    override val identity = "Identity"
    override val fingerprint = "Fingerprint"
    override val displayName = "Display name"
    override val festivals = "Festivals"
    override val createFestival = "New festival"
    override val name = "Name"
    override val timezone = "Time zone"
    override val firstDay = "First day"
    override val lastDay = "Last day"
    override val create = "Create"
    override val demo = "Try the demo festival"
    override val openFestival = "Open"
    override val current = "Open now"
    override val badgeChanges = "changes since you last looked"
    override fun eventCount(n: Long) = if (n == 1L) "1 event" else "$n events"
    override val channelSync = "Sync"
    override val channelReminders = "Reminders"
    override val channelEmergency = "Emergencies"
    override fun syncNotification(peers: Int) = "Sharing the programme · " + peers(peers)
    override fun reminderText(time: String, venue: String) = if (venue.isEmpty()) "Starts at $time" else "Starts at $time · $venue"
    override val provenance = "Where this comes from"
    override val crews = "Crews"
    override val noCrews = "No crews yet. A crew shares favourites, a note and where you are going, end to end encrypted, with no server."
    override val crewName = "Crew name"
    override val createCrew = "Create crew"
    override val crewLink = "Crew invite link"
    override val joinCrew = "Ask to join"
    override val askedToJoin = "Asked to join: you are in once the admin's phone has seen the request."
    override val inviteToCrew = "Invite one person"
    override val crewInviteHint = "Good for one person for a day. It lets them ask to join, nothing more."
    override val crewAdmin = "You are its admin"
    override fun crewMembers(n: Int) = if (n == 1) "1 member" else "$n members"
    override val you = "you"
    override val sharedNothing = "Has shared nothing yet"
    override val crewNote = "Note for your crews"
    override val shareNote = "Share"
    override val leaveCrew = "Leave crew"
    override val headingTo = "Heading to"
    override val hereNow = "Here now"
    override val signedBy = "Signed by"
    override val changedBy = "Last changed by"
    override val officialSigner = "organiser"
    override val communitySigner = "community"
    override fun writtenAt(time: String) = "written $time by their clock"
    override val clockAhead = "(their clock is ahead of ours)"
    override fun reachedHere(time: String, via: uniffi.meadow_core.Via?, peer: String?): String {
        val how = when (via) {
            uniffi.meadow_core.Via.HERE -> "written on this device"
            uniffi.meadow_core.Via.IMPORT -> "from an imported schedule"
            uniffi.meadow_core.Via.ARCHIVE -> "from a festival archive"
            uniffi.meadow_core.Via.IROH -> "over the internet"
            uniffi.meadow_core.Via.LAN -> "over the local network"
            uniffi.meadow_core.Via.BLUETOOTH -> "over Bluetooth"
            uniffi.meadow_core.Via.WIFI_DIRECT -> "over Wi-Fi Direct"
            uniffi.meadow_core.Via.MULTIPEER -> "over Multipeer"
            null -> "by a way this version does not know"
        }
        return "Here since $time, $how" + (peer?.let { " from peer ${it.take(12)}" } ?: "")
    }
    override val beforeArrivals = "Here since before this device recorded arrivals"
    override val signatureChecked = "Signature checked on this device, offline"
    override fun crewCount(n: Int) = "$n of your crew"
    override fun crewGoing(names: List<String>) = "Going from your crew: ${names.joinToString(", ")}"
    override fun inYourCrew(crew: String) = "in your crew $crew"
    override val yourDevice = "you, or one of your devices"
    override val hideHere = "Hide from my programme"
    override val showHere = "Show in my programme again"
    override val myDevices = "My devices"
    override val myDevicesHint = "Your phone, laptop and tablet as one private crew: favourites, hidden events, mutes and what you have seen follow you."
    override val startMyDevices = "Link my devices"
    override fun devices(n: Int) = if (n == 1) "1 device" else "$n devices"
    override val scanCode = "Scan a code"
    override fun crewApart(first: String, firstEvent: String, second: String, secondEvent: String) =
        "Apart: $first at $firstEvent while $second at $secondEvent"
}

/** German. */
object German : Strings {
    override val programme = "Programm"
    override val nowNext = "Jetzt & gleich"
    override val favourites = "Mein Plan"
    override val changes = "Änderungen"
    override val more = "Mehr"
    override val tabProgramme = "Programm"
    override val tabNow = "Jetzt"
    override val tabMine = "Mein Plan"
    override val tabChanges = "Neues"
    override val search = "Suche"
    override val searchHint = "Titel, Person, Schlagwort…"
    override val list = "Liste"
    override val grid = "Raster"
    override val allVenues = "Alle Orte"
    override val allTracks = "Alle Reihen"
    override val allTags = "Alle Schlagwörter"
    override val venue = "Ort"
    override val track = "Reihe"
    override val tag = "Schlagwort"
    override val official = "Offiziell"
    override val community = "Community"
    override val cancelled = "Abgesagt"
    override val moved = "Verlegt"
    override val movedFrom = "Zuerst angekündigt für"
    override val now = "Jetzt"
    override val next = "Gleich"
    override val nothingNow = "Gerade nichts"
    override val noEvents = "Keine Veranstaltungen"
    override val noResults = "Nichts gefunden"
    override val favourite = "In meinen Plan"
    override val unfavourite = "Aus meinem Plan"
    override val addToCalendar = "In den Kalender"
    override val people = "Personen"
    override val links = "Links"
    override val edit = "Bearbeiten"
    override val cancelEvent = "Absagen"
    override val restoreEvent = "Wieder ansetzen"
    override val hideEvent = "Für alle ausblenden"
    override val muteAuthor = "Diese Person stummschalten"
    override val back = "Zurück"
    override val noFavourites = "Noch leer: tippe bei einer Veranstaltung auf den Stern."
    override fun minutesFree(minutes: Long) = if (minutes >= 60) "${minutes / 60} Std. ${minutes % 60} Min. frei" else "$minutes Min. frei"
    override fun clashesWith(titles: String) = "Überschneidet sich mit $titles"
    override fun remindAt(time: String) = "Erinnerung um $time"
    override val noChanges = "Keine Änderungen seit dem letzten Blick"
    override val markSeen = "Alle gesehen"
    override fun changeNew() = "Neu"
    override fun changeMoved(from: String) = "Verlegt (war $from)"
    override val changeCancelled = "Abgesagt"
    override val changeRestored = "Findet wieder statt"
    override val changeUpdated = "Geändert"
    override val changeDeleted = "Entfernt"
    override val announcements = "Durchsagen"
    override val noAnnouncements = "Keine Durchsagen"
    override val emergency = "Notfall"
    override val important = "Wichtig"
    override val addEvent = "Veranstaltung eintragen"
    override val editEvent = "Veranstaltung bearbeiten"
    override val title = "Titel"
    override val day = "Tag"
    override val start = "Beginn"
    override val end = "Ende"
    override val description = "Beschreibung"
    override val noVenue = "Kein Ort"
    override val save = "Speichern"
    override val postsAsOfficial = "Wird als offizielle Veranstaltung eingetragen"
    override val postsAsCommunity = "Wird als Community-Veranstaltung eingetragen"
    override val timeFormatHint = "HH:MM"
    override val organiser = "Für Veranstalter"
    override val announce = "Durchsage"
    override val announcementText = "Text der Durchsage"
    override val urgent = "Notfall (Banner auf jedem Bildschirm)"
    override val post = "Senden"
    override val organisers = "Veranstalter"
    override val owner = "Eigentümer"
    override val addOrganiser = "Veranstalter hinzufügen"
    override val publicKey = "Öffentlicher Schlüssel"
    override val remove = "Entfernen"
    override val importSchedule = "Programmdatei importieren"
    override val imported = "Importiert"
    override val invite = "Einladen"
    override val inviteHelp = "Scanne diesen Code mit Meadow oder teile den Link."
    override val shareLink = "Link teilen"
    override val joinFestival = "Festival beitreten"
    override val inviteLink = "Einladungslink"
    override val join = "Beitreten"
    override val scanQr = "QR-Code scannen"
    override val sync = "Abgleich"
    override val syncRunning = "Gleicht mit Geräten in der Nähe ab"
    override val syncStopped = "Abgleich ist aus"
    override val start_sync = "Abgleich starten"
    override val stopSync = "Abgleich beenden"
    override fun peers(n: Int) = if (n == 1) "1 Gerät" else "$n Geräte"
    override fun lastSync(time: String?) = if (time == null) "Noch nicht abgeglichen" else "Zuletzt abgeglichen $time"
    override fun received(n: Long) = "$n Änderungen empfangen"
    override val identity = "Identität"
    override val fingerprint = "Fingerabdruck"
    override val displayName = "Anzeigename"
    override val festivals = "Festivals"
    override val createFestival = "Neues Festival"
    override val name = "Name"
    override val timezone = "Zeitzone"
    override val firstDay = "Erster Tag"
    override val lastDay = "Letzter Tag"
    override val create = "Anlegen"
    override val demo = "Demo-Festival ausprobieren"
    override val openFestival = "Öffnen"
    override val current = "Geöffnet"
    override val badgeChanges = "Änderungen seit dem letzten Blick"
    override fun eventCount(n: Long) = if (n == 1L) "1 Veranstaltung" else "$n Veranstaltungen"
    override val channelSync = "Abgleich"
    override val channelReminders = "Erinnerungen"
    override val channelEmergency = "Notfälle"
    override fun syncNotification(peers: Int) = "Teilt das Programm · " + peers(peers)
    override fun reminderText(time: String, venue: String) = if (venue.isEmpty()) "Beginnt um $time" else "Beginnt um $time · $venue"
    override val crews = "Crews"
    override val noCrews = "Noch keine Crews. Eine Crew teilt Favoriten, eine Notiz und wohin ihr geht, Ende-zu-Ende-verschlüsselt, ohne Server."
    override val crewName = "Name der Crew"
    override val createCrew = "Crew gründen"
    override val crewLink = "Einladungslink der Crew"
    override val joinCrew = "Beitritt anfragen"
    override val askedToJoin = "Angefragt: Du bist dabei, sobald das Telefon der Admin die Anfrage gesehen hat."
    override val inviteToCrew = "Eine Person einladen"
    override val crewInviteHint = "Gilt für eine Person einen Tag lang. Damit kann sie nur den Beitritt anfragen."
    override val crewAdmin = "Du bist Admin"
    override fun crewMembers(n: Int) = if (n == 1) "1 Mitglied" else "$n Mitglieder"
    override val you = "du"
    override val sharedNothing = "Hat noch nichts geteilt"
    override val crewNote = "Notiz für deine Crews"
    override val shareNote = "Teilen"
    override val leaveCrew = "Crew verlassen"
    override val headingTo = "Unterwegs zu"
    override val hereNow = "Jetzt bei"
    override val provenance = "Herkunft"
    override val signedBy = "Signiert von"
    override val changedBy = "Zuletzt geändert von"
    override val officialSigner = "Veranstalter"
    override val communitySigner = "Community"
    override fun writtenAt(time: String) = "geschrieben $time nach deren Uhr"
    override val clockAhead = "(deren Uhr geht unserer voraus)"
    override fun reachedHere(time: String, via: uniffi.meadow_core.Via?, peer: String?): String {
        val how = when (via) {
            uniffi.meadow_core.Via.HERE -> "auf diesem Gerät geschrieben"
            uniffi.meadow_core.Via.IMPORT -> "aus einem importierten Programm"
            uniffi.meadow_core.Via.ARCHIVE -> "aus einem Festival-Archiv"
            uniffi.meadow_core.Via.IROH -> "über das Internet"
            uniffi.meadow_core.Via.LAN -> "über das lokale Netz"
            uniffi.meadow_core.Via.BLUETOOTH -> "über Bluetooth"
            uniffi.meadow_core.Via.WIFI_DIRECT -> "über Wi-Fi Direct"
            uniffi.meadow_core.Via.MULTIPEER -> "über Multipeer"
            null -> "auf einem dieser Version unbekannten Weg"
        }
        return "Hier seit $time, $how" + (peer?.let { " von Peer ${it.take(12)}" } ?: "")
    }
    override val beforeArrivals = "Hier seit vor der Aufzeichnung der Ankünfte"
    override val signatureChecked = "Signatur auf diesem Gerät geprüft, offline"
    override fun crewCount(n: Int) = "$n aus deiner Crew"
    override fun crewGoing(names: List<String>) = "Aus deiner Crew dabei: ${names.joinToString(", ")}"
    override fun inYourCrew(crew: String) = "in deiner Crew $crew"
    override val yourDevice = "du oder eines deiner Geräte"
    override val hideHere = "In meinem Programm ausblenden"
    override val showHere = "In meinem Programm wieder zeigen"
    override val myDevices = "Meine Geräte"
    override val myDevicesHint = "Telefon, Laptop und Tablet als eine private Crew: Favoriten, ausgeblendete Termine, Stummschaltungen und Gesehenes folgen dir."
    override val startMyDevices = "Meine Geräte verbinden"
    override fun devices(n: Int) = if (n == 1) "1 Gerät" else "$n Geräte"
    override val scanCode = "Code scannen"
    override fun crewApart(first: String, firstEvent: String, second: String, secondEvent: String) =
        "Getrennt: $first bei $firstEvent, während $second bei $secondEvent"
}

/** The strings for a language tag: German for `de`, else English. */
fun stringsFor(language: String): Strings = if (language.lowercase().startsWith("de")) German else English

