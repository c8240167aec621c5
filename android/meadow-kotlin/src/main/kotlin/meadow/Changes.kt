package meadow

import kotlinx.coroutines.channels.awaitClose
import kotlinx.coroutines.channels.trySendBlocking
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.callbackFlow
import uniffi.meadow_ffi.ChangeListener
import uniffi.meadow_core.Scope
import uniffi.meadow_ffi.MeadowNode
import uniffi.meadow_ffi.StoreChange

/**
 * The core's change feed as a Flow: every change stored, whatever brought it (this device, a
 * peer over the network, a Bluetooth link). Collecting subscribes; cancelling the collector
 * closes the subscription. A slow collector holds the node's listener thread, and the core
 * merges what changed meanwhile, so nothing is lost and nothing piles up.
 *
 * With [initial], the flow first says "everything changed" for [festival] (or, with none, for
 * the device, networking included) once the subscription runs, so a screen that reads on every change also reads once
 * at the start, with no gap between its first read and its subscription.
 */
fun MeadowNode.changes(festival: String? = null, initial: Boolean = false): Flow<StoreChange> = callbackFlow {
    val subscription = subscribe(object : ChangeListener {
        override fun onChange(change: StoreChange) {
            if (festival == null || change.festival == festival) trySendBlocking(change)
        }
    })
    if (initial) send(StoreChange(festival, Scope.entries.toList(), festival == null))
    awaitClose { subscription.close() }
}
