package meadow.ui

import java.io.File
import java.nio.file.Files
import java.util.concurrent.TimeUnit
import javax.imageio.ImageIO
import org.junit.Assert.assertEquals
import org.junit.Assert.assertTrue
import org.junit.Test

/**
 * The info point's window for real: the desktop entry point in a separate JVM under Xvfb, with
 * the demo festival, writing what its window shows as a screenshot.
 */
class DesktopWindowTest {
    @Test
    fun theWindowShowsTheDemoProgramme() {
        val xvfb = listOf("/usr/bin/xvfb-run", "/usr/local/bin/xvfb-run").firstOrNull { File(it).canExecute() }
            ?: throw AssertionError("xvfb-run is missing: apt-get install -y xvfb (.ci/run does)")
        val shot = File(screenshots, "desktop-window.png").also { it.delete() }
        val java = File(System.getProperty("java.home"), "bin/java").path
        val cmd = listOf(
            xvfb, "-a", "-s", "-screen 0 1280x1024x24",
            java, "-cp", System.getProperty("java.class.path"),
            "-Djna.library.path=" + System.getProperty("jna.library.path"),
            "meadow.ui.desktop.MainKt", Files.createTempDirectory("meadow-desktop").toString(), "--demo", "--screenshot", shot.path,
        )
        val p = ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(File(screenshots, "desktop-window.log")).start()
        assertTrue("the window did not finish within 120 s", p.waitFor(120, TimeUnit.SECONDS))
        assertEquals("the desktop app failed: see ${screenshots}/desktop-window.log", 0, p.exitValue())
        val image = ImageIO.read(shot)
        assertTrue("a ${image.width}×${image.height} window", image.width >= 400 && image.height >= 800)
        // Not a blank window: the programme has text and colours.
        val colours = HashSet<Int>()
        for (y in 0 until image.height step 4) for (x in 0 until image.width step 4) colours += image.getRGB(x, y)
        assertTrue("the window looks blank (${colours.size} colours)", colours.size > 20)
    }
}
