package meadow

import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Job
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.launch
import kotlinx.coroutines.sync.Mutex
import kotlinx.coroutines.sync.withLock
import uniffi.meadow_core.Scope
import uniffi.meadow_core.FestivalView
import uniffi.meadow_ffi.MeadowNode
import uniffi.meadow_core.NetStatus

/**
 * The app around the festivals: which festivals this device holds, which one is open, this
 * identity, and what networking does. Opening a festival makes its [FestivalState].
 */
class AppState(
    val node: MeadowNode,
    private val scope: CoroutineScope,
    private val clock: () -> Long = { System.currentTimeMillis() / 1000 },
) : AutoCloseable {
    private val _festivals = MutableStateFlow<List<FestivalView>>(emptyList())
    private val _current = MutableStateFlow<FestivalState?>(null)
    private val _net = MutableStateFlow(NetStatus(false, null, 0u, 0uL, 0uL, null))
    private val _name = MutableStateFlow<String?>(null)

    /** Festivals on this device. */
    val festivals: StateFlow<List<FestivalView>> = _festivals.asStateFlow()

    /** The open festival, if any. */
    val current: StateFlow<FestivalState?> = _current.asStateFlow()

    /** Networking: peers, last sync, the invite. */
    val net: StateFlow<NetStatus> = _net.asStateFlow()

    /** This identity's display name in the open festival. */
    val displayName: StateFlow<String?> = _name.asStateFlow()

    /** This device's fingerprint, to read aloud. */
    val fingerprint: String = node.fingerprint()

    /** This device's public key (hex), to be named organiser. */
    val publicKey: String = node.publicKey()

    private val jobs = mutableListOf<Job>()
    private val opening = Mutex()

    init {
        jobs += scope.launch {
            // The core tells of networking's changes (peers, sessions) too: nothing is polled.
            node.changes(null, initial = true).collect { c ->
                if (c.network) readNet()
                if (c.festival == null || Scope.FESTIVAL in c.scopes) readFestivals()
                if (Scope.PROFILES in c.scopes && c.festival == _current.value?.festival) readName()
            }
        }
        jobs += scope.launch {
            readFestivals()
            node.currentFestival()?.let { open(it) }
        }
    }

    private suspend fun readFestivals() {
        _festivals.value = node.festivals()
    }

    private suspend fun readName() {
        _name.value = _current.value?.let { node.displayName(it.festival, null) }
    }

    private suspend fun readNet() {
        _net.value = node.netStatus()
    }

    /**
     * Opens a festival (and makes it this device's current one). One at a time: the start-up
     * read of the current festival and a festival opened meanwhile (created, joined, picked)
     * must not each make a state, leaving the screens on one and the caller holding the other.
     */
    suspend fun open(festival: String) {
        opening.withLock {
            if (_current.value?.festival == festival) return
            node.useFestival(festival)
            _current.value?.close()
            _current.value = FestivalState(node, festival, scope, clock)
        }
        readName()
        readNet()
    }

    /** Creates a festival owned by this device and opens it. */
    suspend fun create(name: String, timezone: String, start: String, end: String): Outcome<String> =
        outcome { node.createFestival(name, timezone, start, end) }.also { if (it is Outcome.Done) { readFestivals(); open(it.value) } }

    /** Creates the demo festival and opens it. */
    suspend fun createDemo(start: String): String {
        val id = node.createDemo(start)
        readFestivals()
        open(id)
        return id
    }

    /** Joins a festival from an invite link or text (over the LAN if [lan]) and opens it. */
    suspend fun join(invite: String, lan: Boolean = true): Outcome<String> =
        outcome { node.join(invite.trim(), lan) }.also {
            if (it is Outcome.Done) {
                // The core marked what the festival held as seen: changes count from here.
                readFestivals()
                open(it.value)
            }
        }

    /** Starts networking, so peers can sync and the invite can be shown. */
    suspend fun startSync(lan: Boolean = true): Outcome<Unit> = outcome { node.startNetworking(0u, lan); readNet() }

    /** Stops networking. */
    suspend fun stopSync() {
        node.stopNetworking()
        readNet()
    }

    /** Sets this identity's display name in the open festival. */
    suspend fun setDisplayName(name: String): Outcome<Unit> {
        val f = _current.value?.festival ?: return Outcome.Failed("no festival is open")
        return outcome { node.setDisplayName(f, name.trim()) }.also { readName() }
    }

    override fun close() {
        jobs.forEach { it.cancel() }
        _current.value?.close()
    }
}
