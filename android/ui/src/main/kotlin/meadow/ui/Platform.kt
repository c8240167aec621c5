package meadow.ui

/**
 * What the screens ask of the device they run on: Android (share sheet, file picker, QR
 * scanner) or the desktop window. The defaults do nothing, for previews and tests.
 */
interface Platform {
    /** Whether sync reaches the local network (the app) or loopback only (tests). */
    val lan: Boolean get() = true

    /** Whether a QR scanner is there. */
    val canScan: Boolean get() = false

    /** Hands an iCalendar file to the calendar app (Android) or saves it (desktop). */
    fun saveCalendar(fileName: String, ics: String) {}

    /** Lets the person pick a schedule file; its bytes, or null if they did not. */
    suspend fun pickSchedule(): ByteArray? = null

    /** Scans an invite QR code and hands over what it says. */
    fun scanInvite(onScanned: (String) -> Unit) {}

    /** Shares a text (an invite link). */
    fun share(text: String) {}

    /** Opens a link in the browser. */
    fun openUrl(url: String) {}
}
