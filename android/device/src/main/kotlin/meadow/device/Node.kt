package meadow.device

import android.content.Context
import meadow.Meadow
import uniffi.meadow_ffi.MeadowNode

/** The one node of the app's process, in its private files directory. */
object DeviceNode {
    @Volatile private var node: MeadowNode? = null

    /** The node, opened on first use. */
    fun get(context: Context): MeadowNode = node ?: synchronized(this) {
        node ?: Meadow.open(java.io.File(context.filesDir, "meadow").apply { mkdirs() }.path).also { node = it }
    }

    /** Closes the node (tests; the app keeps it for the process's life). */
    fun close() = synchronized(this) {
        node?.close()
        node = null
    }
}
