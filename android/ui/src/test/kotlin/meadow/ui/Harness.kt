package meadow.ui

import meadow.Strings
import meadow.English
import androidx.compose.runtime.Composable
import androidx.compose.runtime.CompositionLocalProvider
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.setValue
import androidx.compose.ui.graphics.asSkiaBitmap
import androidx.compose.ui.platform.LocalDensity
import androidx.compose.ui.test.ExperimentalTestApi
import androidx.compose.ui.test.SkikoComposeUiTest
import androidx.compose.ui.test.captureToImage
import androidx.compose.ui.test.onNodeWithTag
import androidx.compose.ui.test.onRoot
import androidx.compose.ui.unit.Density
import java.io.File
import java.nio.file.Files
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.cancel
import meadow.AppState
import meadow.Meadow
import org.jetbrains.skia.EncodedImageFormat
import org.jetbrains.skia.Image
import uniffi.meadow_ffi.MeadowNode

/** Friday 10 July 2026, 20:30 in Berlin: the second day of the demo festival, evening. */
const val NOW = 1_783_708_200L

/** The demo festival's first day. */
const val DEMO_START = "2026-07-09"

/** Phone size: 360 × 780 dp at density 2. */
const val WIDTH = 720
const val HEIGHT = 1560

/** A node of its own in a fresh directory, with the app state over it. */
class Device(val clock: () -> Long = { NOW }) : AutoCloseable {
    val node: MeadowNode = Meadow.open(Files.createTempDirectory("meadow-ui").toString())
    val scope = CoroutineScope(SupervisorJob() + Dispatchers.Default)
    val app = AppState(node, scope, clock)

    override fun close() {
        app.close()
        scope.cancel()
        node.close()
    }
}

/** Loopback only: the tests never reach a real network. */
object TestPlatform : Platform {
    override val lan: Boolean get() = false
    val saved = mutableListOf<Pair<String, String>>()
    override fun saveCalendar(fileName: String, ics: String) { saved += fileName to ics }
}

/** What the screen under test shows, switchable while the test runs. */
class Look {
    var dark by mutableStateOf(false)
    var strings by mutableStateOf<Strings>(English)
    var fontScale by mutableStateOf(1f)
}

/** The app as a phone shows it, in [look]'s theme, strings and font scale. */
@Composable
fun Phone(look: Look, device: Device, nav: Navigator) {
    CompositionLocalProvider(LocalDensity provides Density(2f, look.fontScale)) {
        MeadowTheme(look.dark, look.strings) { MeadowApp(device.app, TestPlatform, nav) }
    }
}

/** Where screenshots go: `android/ui/target/screenshots/`. */
val screenshots: File = File(System.getProperty("meadow.screenshots") ?: "target/screenshots").also { it.mkdirs() }

/** Writes what the screen shows now as `name.png`. */
@OptIn(ExperimentalTestApi::class)
fun SkikoComposeUiTest.shoot(name: String) {
    waitForIdle()
    val bitmap = onRoot().captureToImage().asSkiaBitmap()
    val png = Image.makeFromBitmap(bitmap).encodeToData(EncodedImageFormat.PNG) ?: error("no PNG for $name")
    File(screenshots, "$name.png").writeBytes(png.bytes)
}

/** What the QR code drawn at [tag] says, read back from the screen by ZXing's decoder. */
@OptIn(ExperimentalTestApi::class)
fun SkikoComposeUiTest.readQr(tag: String): String {
    val image = onNodeWithTag(tag).captureToImage()
    val pixels = IntArray(image.width * image.height)
    image.readPixels(pixels)
    val source = com.google.zxing.RGBLuminanceSource(image.width, image.height, pixels)
    val bitmap = com.google.zxing.BinaryBitmap(com.google.zxing.common.HybridBinarizer(source))
    return com.google.zxing.qrcode.QRCodeReader().decode(bitmap).text
}

/** Waits (20 s at most) until [ok] holds, letting the screen catch up. */
@OptIn(ExperimentalTestApi::class)
fun SkikoComposeUiTest.until(what: String, ok: () -> Boolean) {
    try {
        waitUntil(timeoutMillis = 20_000) { ok() }
    } catch (e: Throwable) {
        runCatching { shoot("failed-" + what.replace(' ', '-')) }
        throw AssertionError("timed out waiting for $what", e)
    }
    waitForIdle()
}
