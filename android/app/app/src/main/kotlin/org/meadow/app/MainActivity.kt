package org.meadow.app

import android.content.Intent
import android.net.Uri
import android.os.Bundle
import androidx.activity.ComponentActivity
import androidx.activity.compose.setContent
import androidx.activity.result.contract.ActivityResultContracts
import androidx.compose.foundation.isSystemInDarkTheme
import androidx.compose.runtime.remember
import androidx.core.content.FileProvider
import androidx.lifecycle.lifecycleScope
import com.journeyapps.barcodescanner.ScanContract
import com.journeyapps.barcodescanner.ScanOptions
import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.launch
import meadow.AppState
import meadow.device.DeviceNode
import meadow.device.Notifications
import meadow.device.Permissions
import meadow.device.Reminders
import meadow.device.SyncService
import meadow.stringsFor
import meadow.ui.MeadowApp
import meadow.ui.MeadowTheme
import meadow.ui.Navigator
import meadow.ui.Platform
import meadow.ui.Screen

/** The app's one activity: the shared screens, an invite link or schedule file it was opened with. */
class MainActivity : ComponentActivity(), Platform {
    private lateinit var app: AppState
    private val nav = Navigator()
    private var picked: CompletableDeferred<ByteArray?>? = null
    private var scanned: ((String) -> Unit)? = null

    private val pickFile = registerForActivityResult(ActivityResultContracts.OpenDocument()) { uri ->
        picked?.complete(uri?.let { contentResolver.openInputStream(it)?.use { s -> s.readBytes() } })
    }
    private val scan = registerForActivityResult(ScanContract()) { result -> result.contents?.let { scanned?.invoke(it) } }
    private val ask = registerForActivityResult(ActivityResultContracts.RequestMultiplePermissions()) {}

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        Notifications.createChannels(this)
        app = AppState(DeviceNode.get(this), CoroutineScope(SupervisorJob() + Dispatchers.Default))
        val strings = stringsFor(resources.configuration.locales[0].language)
        setContent {
            MeadowTheme(isSystemInDarkTheme(), strings) { MeadowApp(app, this, remember { nav }) }
        }
        handle(intent)
        Permissions.missing(this, Permissions.notifications()).takeIf { it.isNotEmpty() }?.let { ask.launch(it.toTypedArray()) }
    }

    override fun onStart() {
        super.onStart()
        SyncService.start(this)
        lifecycleScope.launch { app.current.value?.let { Reminders.plan(this@MainActivity, it.festival) } }
    }

    override fun onNewIntent(intent: Intent) {
        super.onNewIntent(intent)
        handle(intent)
    }

    /** An invite link joins; a schedule file is imported; a reminder opens its event. */
    private fun handle(intent: Intent?) {
        val data = intent?.data
        when {
            data?.scheme == "meadow" -> lifecycleScope.launch { app.join(data.toString()) }
            data?.scheme == "content" -> lifecycleScope.launch {
                val bytes = contentResolver.openInputStream(data)?.use { it.readBytes() } ?: return@launch
                app.current.value?.importSchedule(bytes)
            }
            intent?.getStringExtra(Notifications.EXTRA_EVENT) != null ->
                nav.open(Screen.Detail(intent.getStringExtra(Notifications.EXTRA_EVENT)!!))
        }
    }

    override val canScan: Boolean get() = true

    override fun saveCalendar(fileName: String, ics: String) {
        val dir = java.io.File(cacheDir, "shared").apply { mkdirs() }
        val file = java.io.File(dir, fileName).apply { writeText(ics) }
        val uri = FileProvider.getUriForFile(this, "$packageName.files", file)
        val view = Intent(Intent.ACTION_VIEW).setDataAndType(uri, "text/calendar").addFlags(Intent.FLAG_GRANT_READ_URI_PERMISSION)
        startActivity(Intent.createChooser(view, null))
    }

    override suspend fun pickSchedule(): ByteArray? {
        val result = CompletableDeferred<ByteArray?>()
        picked = result
        pickFile.launch(arrayOf("application/xml", "text/xml", "application/json", "text/calendar", "application/octet-stream"))
        return result.await()
    }

    override fun scanInvite(onScanned: (String) -> Unit) {
        scanned = onScanned
        scan.launch(ScanOptions().setDesiredBarcodeFormats(ScanOptions.QR_CODE).setBeepEnabled(false).setOrientationLocked(false))
    }

    override fun share(text: String) {
        startActivity(Intent.createChooser(Intent(Intent.ACTION_SEND).setType("text/plain").putExtra(Intent.EXTRA_TEXT, text), null))
    }

    override fun openUrl(url: String) {
        startActivity(Intent(Intent.ACTION_VIEW, Uri.parse(url)))
    }
}
