package meadow.ui.desktop

import meadow.stringsFor
import androidx.compose.runtime.LaunchedEffect
import androidx.compose.ui.unit.DpSize
import androidx.compose.ui.unit.dp
import androidx.compose.ui.window.Window
import androidx.compose.ui.window.application
import androidx.compose.ui.window.rememberWindowState
import java.awt.FileDialog
import java.awt.Rectangle
import java.awt.Robot
import javax.imageio.ImageIO
import kotlinx.coroutines.ExperimentalCoroutinesApi
import kotlinx.coroutines.delay
import kotlinx.coroutines.flow.filterNotNull
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.flow.flatMapLatest
import kotlinx.coroutines.withTimeout
import java.awt.Frame
import java.io.File
import kotlin.system.exitProcess
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.runBlocking
import meadow.AppState
import meadow.Meadow
import meadow.ui.MeadowApp
import meadow.ui.MeadowTheme
import meadow.ui.Platform

/** The desktop's side of the screens: files through the window system's dialogs. */
class DesktopPlatform(private val dataDir: File) : Platform {
    override fun saveCalendar(fileName: String, ics: String) {
        val out = File(dataDir, fileName)
        out.writeText(ics)
        println("calendar written to $out")
    }

    override suspend fun pickSchedule(): ByteArray? {
        val dialog = FileDialog(null as Frame?, "Schedule file", FileDialog.LOAD)
        dialog.isVisible = true
        val name = dialog.file ?: return null
        return File(dialog.directory, name).readBytes()
    }

    override fun share(text: String) {
        println(text)
    }

    override fun openUrl(url: String) {
        runCatching { java.awt.Desktop.getDesktop().browse(java.net.URI(url)) }
    }
}

/**
 * The info point's window: the same screens as the phone, on a laptop. Arguments: the data
 * directory (default `~/.local/share/meadow-desktop`), then `--demo` to create the demo
 * festival on first start, `--dark`, `--de`, and `--screenshot FILE` to write what the window
 * shows, once the programme is on screen, as a PNG and quit (how it is tested under Xvfb).
 */
@OptIn(ExperimentalCoroutinesApi::class)
fun main(args: Array<String>) {
    val shot = args.indexOf("--screenshot").takeIf { it >= 0 }?.let { File(args[it + 1]) }
    val dir = File(args.filterIndexed { i, a -> !a.startsWith("--") && (i == 0 || args[i - 1] != "--screenshot") }.firstOrNull() ?: "${System.getProperty("user.home")}/.local/share/meadow-desktop")
    dir.mkdirs()
    val node = Meadow.open(dir.path)
    val scope = CoroutineScope(SupervisorJob() + Dispatchers.Default)
    if ("--demo" in args) runBlocking { if (node.festivals().isEmpty()) node.createDemo(java.time.LocalDate.now().toString()) }
    val app = AppState(node, scope)
    val dark = "--dark" in args
    val strings = stringsFor(if ("--de" in args) "de" else java.util.Locale.getDefault().language)
    application {
        Window(
            onCloseRequest = { app.close(); exitApplication() },
            title = "Meadow",
            state = rememberWindowState(size = DpSize(420.dp, 860.dp)),
        ) {
            MeadowTheme(dark, strings) { MeadowApp(app, DesktopPlatform(dir)) }
            if (shot != null) {
                LaunchedEffect(Unit) {
                    // Until the programme is read, then a moment for the frame to reach the screen.
                    withTimeout(60_000) { app.current.filterNotNull().flatMapLatest { it.programme }.first { it != null } }
                    delay(1_500)
                    val b = window.bounds
                    val image = Robot().createScreenCapture(Rectangle(b.x, b.y, b.width, b.height))
                    ImageIO.write(image, "png", shot)
                    app.close()
                    // Exit for certain: a thread the library attached to the JVM (a change
                    // callback in flight) must not keep a finished screenshot run alive.
                    exitProcess(0)
                }
            }
        }
    }
    // The window is closed: end the process whatever threads the library still has attached.
    exitProcess(0)
}
