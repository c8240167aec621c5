package meadow.device

import android.Manifest
import android.content.Context
import android.content.pm.PackageManager
import android.os.Build

/** The runtime permissions the app asks for, by what they are for, on this Android version. */
object Permissions {
    /** Notifications (reminders, emergencies, the sync notification): Android 13 and later. */
    fun notifications(sdk: Int = Build.VERSION.SDK_INT): List<String> =
        if (sdk >= 33) listOf(Manifest.permission.POST_NOTIFICATIONS) else emptyList()

    /** Finding and talking to phones nearby (Bluetooth LE, Wi-Fi Direct). */
    fun nearby(sdk: Int = Build.VERSION.SDK_INT): List<String> = buildList {
        if (sdk >= 31) {
            add(Manifest.permission.BLUETOOTH_SCAN)
            add(Manifest.permission.BLUETOOTH_ADVERTISE)
            add(Manifest.permission.BLUETOOTH_CONNECT)
        } else {
            // Before Android 12 a Bluetooth scan needs location.
            add(Manifest.permission.ACCESS_FINE_LOCATION)
        }
        if (sdk >= 33) add(Manifest.permission.NEARBY_WIFI_DEVICES)
    }

    /** Camera, for scanning an invite's QR code. */
    val camera: List<String> = listOf(Manifest.permission.CAMERA)

    /** Of [wanted], those not granted yet: what to ask for. */
    fun missing(context: Context, wanted: List<String>): List<String> =
        wanted.filter { context.checkSelfPermission(it) != PackageManager.PERMISSION_GRANTED }
}
