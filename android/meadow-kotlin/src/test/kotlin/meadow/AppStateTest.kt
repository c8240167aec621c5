package meadow

import java.nio.file.Files
import java.nio.file.Path
import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.async
import kotlinx.coroutines.awaitAll
import kotlinx.coroutines.cancel
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Test
import uniffi.meadow_ffi.MeadowNode

class AppStateTest {
    @Test
    fun callersOpeningOneFestivalAtOnceAllHoldTheStateTheScreensShow() = runBlocking {
        val node = MeadowNode.open(Files.createTempDirectory("meadow").toString())
        val f = node.import(Files.readAllBytes(Path.of("../../tests/fixtures/wiese-v1.xml")))
        repeat(20) {
            val scope = CoroutineScope(SupervisorJob() + Dispatchers.Default)
            // As at start-up: the app opens the current festival while a caller (create, join,
            // a deep link) opens it too. Each caller then holds what `current` says.
            val app = AppState(node, scope)
            val go = CompletableDeferred<Unit>()
            val held = (0 until 3).map { async(Dispatchers.Default) { go.await(); app.open(f); app.current.value } }
            go.complete(Unit)
            val states = held.awaitAll()
            assertEquals(1, states.toSet().size, "callers hold different states: one of them was closed")
            assertEquals(app.current.value, states[0])
            app.close()
            scope.cancel()
        }
    }
}
