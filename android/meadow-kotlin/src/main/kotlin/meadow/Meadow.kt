package meadow

import com.sun.jna.CallbackThreadInitializer
import com.sun.jna.Native
import uniffi.meadow_ffi.MeadowNode
import uniffi.meadow_ffi.uniffiRustFutureContinuationCallbackImpl

/** Entry point of the Kotlin library: opens nodes with the JVM side of the bindings set up. */
object Meadow {
    init {
        // Every suspend call resumes through this callback, from one of the core's threads. JNA
        // attaches such a thread to the JVM for each call and detaches it after, which costs more
        // than most calls themselves; kept attached, a resume costs microseconds.
        Native.setCallbackThreadInitializer(
            uniffiRustFutureContinuationCallbackImpl,
            CallbackThreadInitializer(true, false, "meadow-core"),
        )
    }

    /** Opens (creating on first use) the node in a data directory. */
    fun open(dataDir: String): MeadowNode = MeadowNode.open(dataDir)
}
