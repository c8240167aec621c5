package meadow.device

import java.io.InputStream
import java.io.OutputStream
import java.net.InetSocketAddress
import java.net.ServerSocket
import java.net.Socket
import java.util.concurrent.LinkedBlockingQueue
import kotlin.concurrent.thread
import kotlinx.coroutines.runBlocking
import uniffi.meadow_core.Via
import uniffi.meadow_ffi.Link
import uniffi.meadow_ffi.LinkEnd
import uniffi.meadow_ffi.LinkSession
import uniffi.meadow_ffi.MeadowNode

/**
 * A sync session over a byte stream: the socket a Wi-Fi Direct group (or an L2CAP channel) gives.
 * One thread reads and hands the bytes to the core, one writes what the core sends; the core
 * frames, checks and bounds everything (docs/ble.md, "Byte streams").
 */
class StreamLink private constructor(
    private val input: InputStream,
    private val output: OutputStream,
    private val onClose: () -> Unit,
) : Link {
    private val outbox = LinkedBlockingQueue<ByteArray>()
    @Volatile private var open = true
    private lateinit var session: LinkSession

    override fun send(packet: ByteArray) { outbox.add(packet) }

    override fun disconnect() {
        open = false
        outbox.add(ByteArray(0))
    }

    override fun mtu(): UInt = 0u

    private fun run(clock: () -> Long): LinkEnd? {
        val writer = thread(name = "meadow-stream-write", isDaemon = true) {
            runCatching {
                while (true) {
                    val p = outbox.take()
                    if (p.isEmpty() && !open) break
                    output.write(p)
                    output.flush()
                }
            }
            // What the core queued went out; closing the socket ends the peer's read.
            onClose()
        }
        val buf = ByteArray(16 * 1024)
        var end: LinkEnd? = null
        runBlocking {
            while (end == null) {
                val n = runCatching { input.read(buf) }.getOrDefault(-1)
                end = if (n < 0) session.closed() ?: break else session.received(buf.copyOf(n), clock().toULong())
            }
        }
        disconnect()
        writer.join(5_000)
        return end
    }

    companion object {
        /** Dials `address` and syncs `festival` with whoever answers; returns how it ended. */
        fun dial(node: MeadowNode, festival: String, address: InetSocketAddress, via: Via = Via.WIFI_DIRECT, clock: () -> Long = System::currentTimeMillis): LinkEnd? {
            val socket = Socket()
            socket.connect(address, 10_000)
            socket.soTimeout = 30_000
            val link = StreamLink(socket.getInputStream(), socket.getOutputStream()) { socket.close() }
            link.session = runBlocking { node.initiateLink(link, festival, via, clock().toULong()) }
            return link.run(clock)
        }

        /** Answers one peer on `server`; returns how the sync ended. */
        fun answer(node: MeadowNode, server: ServerSocket, via: Via = Via.WIFI_DIRECT, clock: () -> Long = System::currentTimeMillis): LinkEnd? {
            val socket = server.accept()
            socket.soTimeout = 30_000
            val link = StreamLink(socket.getInputStream(), socket.getOutputStream()) { socket.close() }
            link.session = node.respondLink(link, via, clock().toULong())
            return link.run(clock)
        }
    }
}
