import Foundation

/// A byte stream between two devices: what a Multipeer session's `startStream` and
/// `didReceive stream` give (`FoundationByteStream`), or an L2CAP channel's streams.
public protocol ByteStream: AnyObject, Sendable {
    /// Reads what is there (blocking until something is), at most `max` bytes; empty: the end.
    func read(max: Int) -> Data
    /// Writes all of `data` (blocking); false if the stream is broken.
    func write(_ data: Data) -> Bool
    /// Closes both directions.
    func close()
}

/// Foundation's stream pair as a `ByteStream` (MultipeerConnectivity's streams are these).
public final class FoundationByteStream: ByteStream, @unchecked Sendable {
    // One reader thread and one writer thread use them; Foundation streams allow that.
    private let input: InputStream
    private let output: OutputStream

    /// Opens both streams.
    public init(input: InputStream, output: OutputStream) {
        self.input = input
        self.output = output
        input.open()
        output.open()
    }

    /// Reads up to `max` bytes; empty at the end or on an error.
    public func read(max: Int) -> Data {
        var buf = [UInt8](repeating: 0, count: max)
        let n = input.read(&buf, maxLength: max)
        return n > 0 ? Data(buf[0..<n]) : Data()
    }

    /// Writes all of `data`.
    public func write(_ data: Data) -> Bool {
        var rest = [UInt8](data)
        while !rest.isEmpty {
            let n = output.write(rest, maxLength: rest.count)
            if n <= 0 { return false }
            rest.removeFirst(n)
        }
        return true
    }

    /// Closes both streams.
    public func close() {
        input.close()
        output.close()
    }
}

/// A sync session over a byte stream (Multipeer, L2CAP): one thread reads and hands the bytes to
/// the core in order, one writes what the core sends; the core frames, checks and bounds
/// everything (docs/ble.md, "Byte streams").
public final class StreamLink: Link, @unchecked Sendable {
    private let stream: ByteStream
    private let writes = DispatchQueue(label: "meadow.stream.write")
    private let lock = NSLock()
    private var open = true

    private init(stream: ByteStream) { self.stream = stream }

    /// Queues a packet for the writer.
    public func send(packet: Data) {
        writes.async { [stream] in
            if !stream.write(packet) { stream.close() }
        }
    }

    /// The core ended the session: what it queued goes out, then the stream closes.
    public func disconnect() {
        let wasOpen = lock.withLock {
            defer { open = false }
            return open
        }
        if wasOpen { writes.async { [stream] in stream.close() } }
    }

    /// A stream has no packet size: the core frames it.
    public func mtu() -> UInt32 { 0 }

    private func run(_ session: LinkSession, clock: @escaping @Sendable () -> UInt64) async -> LinkEnd? {
        // The blocking reads happen on their own thread; their chunks reach the core in order.
        let (chunks, sink) = AsyncStream<Data>.makeStream()
        let stream = self.stream
        let reader = Thread {
            while true {
                let chunk = stream.read(max: 16 * 1024)
                if chunk.isEmpty { break }
                sink.yield(chunk)
            }
            sink.finish()
        }
        reader.start()
        var end: LinkEnd?
        for await chunk in chunks {
            do {
                end = try await session.received(bytes: chunk, nowMs: clock())
            } catch {
                break
            }
            if end != nil { break }
        }
        if end == nil { end = try? await session.closed() }
        disconnect()
        // Wait for the writer to finish what the core queued.
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in writes.async { done.resume() } }
        return end
    }

    /// Syncs `festival` with the peer at the other end of `stream`, as the side that asks.
    public static func dial(
        node: MeadowNode, festival: String, stream: ByteStream, via: Via = .multipeer,
        clock: @escaping @Sendable () -> UInt64 = { UInt64(Date().timeIntervalSince1970 * 1000) }
    ) async throws -> LinkEnd? {
        let link = StreamLink(stream: stream)
        let session = try await node.initiateLink(link: link, festival: festival, via: via, nowMs: clock())
        return await link.run(session, clock: clock)
    }

    /// Answers the peer at the other end of `stream`: it names the festival.
    public static func answer(
        node: MeadowNode, stream: ByteStream, via: Via = .multipeer,
        clock: @escaping @Sendable () -> UInt64 = { UInt64(Date().timeIntervalSince1970 * 1000) }
    ) async -> LinkEnd? {
        let link = StreamLink(stream: stream)
        let session = node.respondLink(link: link, via: via, nowMs: clock())
        return await link.run(session, clock: clock)
    }
}
