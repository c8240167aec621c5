//! The I/O drivers around sync sessions: a session run over a QUIC stream, fed what the
//! stream brings and the time, its requests answered by the node on blocking threads.

use super::*;

/// What one step of a session gave: the session back, how it ended (once), the next frames.
pub(super) type Step = (Session, Option<SessionEnd>, Vec<Vec<u8>>);

/// Feeds the session what happened on the stream, answers its requests from the store and takes
/// its next frame, on a blocking thread: store work never runs on the async workers.
pub(super) async fn step(
    inner: &Arc<Inner>,
    mut session: Session,
    input: Option<Vec<u8>>,
    event: Event,
    from: &crate::view::Arrival,
) -> Result<Step, NetError> {
    let node = inner.node.clone();
    let from = from.clone();
    let now = inner.now_ms();
    tokio::task::spawn_blocking(move || {
        if let Some(bytes) = input {
            session.handle_input(&bytes, now);
        }
        match event {
            Event::None => {}
            Event::Closed => session.handle_close(),
            Event::Timer => session.handle_timeout(now),
        }
        let mut n = node.lock().map_err(|_| NetError::Poisoned)?;
        let mut end = n.serve_sync(&mut session, &from)?;
        let mut frames = Vec::new();
        let mut size = 0;
        while size < STEP_BYTES
            && let Some(f) = session.poll_transmit(now)
        {
            size += f.len();
            frames.push(f);
            // Taking a frame may ask for the next ops to load.
            if let Some(e) = n.serve_sync(&mut session, &from)? {
                end = Some(e);
            }
        }
        Ok((session, end, frames))
    })
    .await
    .map_err(|e| NetError::Task(e.to_string()))?
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Event {
    None,
    Closed,
    Timer,
}

/// Runs one session over one bidirectional stream until it ends. One frame is produced at a time,
/// when the stream has taken the one before: a peer that does not read holds one frame of ours,
/// and is dropped when it has not taken it after [`WRITE_TIMEOUT`].
pub(super) async fn drive(
    inner: &Arc<Inner>,
    session: Session,
    (send, recv): (&mut SendStream, &mut RecvStream),
    peer: EndpointId,
    progress: &Progress,
    used: &ConnUse,
) -> Result<(Session, SessionEnd), NetError> {
    let mut session = session;
    let from = inner.arrival(peer);
    let made_progress = || {
        let now = inner.now_ms();
        progress.last_ms.fetch_max(now, Ordering::Relaxed);
        used.touch(now);
    };
    let mut ended: Option<SessionEnd> = None;
    let mut input = None;
    let mut event = Event::None;
    // Set once the stream was reset: nothing written can arrive any more.
    let mut reset = false;
    loop {
        let before = session.last_progress();
        let (s, end, frames) = step(inner, session, input.take(), event, &from).await?;
        session = s;
        if session.last_progress() > before {
            // The step moved the session on; it is stamped when the step ended, since storing
            // what arrived may have taken a while, and that wait was ours, not the peer's.
            made_progress();
        }
        event = Event::None;
        if end.is_some() {
            ended = end;
        }
        if !frames.is_empty() {
            let write = tokio::time::timeout(WRITE_TIMEOUT, async {
                for f in &frames {
                    send.write_all(f).await?;
                }
                Ok::<(), iroh::endpoint::WriteError>(())
            });
            tokio::select! {
                w = write => match w {
                    Ok(Ok(())) => made_progress(),
                    Ok(Err(_)) => event = Event::Closed,
                    Err(_) => {
                        tracing::info!("peer stopped reading; dropping the session");
                        let _ = send.reset(3u32.into());
                        reset = true;
                        event = Event::Closed;
                    }
                },
                _ = progress.cancel.notified() => {
                    let _ = send.reset(3u32.into());
                    reset = true;
                    event = Event::Closed;
                }
            }
            continue;
        }
        if let Some(end) = ended {
            if !reset {
                let _ = send.finish();
                // Let the last frames (a Done, an Error) reach the peer before anyone closes the
                // connection, which would discard them.
                let _ = tokio::time::timeout(Duration::from_secs(2), send.stopped()).await;
            }
            return Ok((session, end));
        }
        let wait = session.poll_timeout().map_or(1000, |d| d.saturating_sub(inner.now_ms())).max(1);
        let read = tokio::select! {
            r = tokio::time::timeout(Duration::from_millis(wait), recv.read_chunk(READ_BYTES)) => r,
            _ = progress.cancel.notified() => {
                let _ = send.reset(3u32.into());
                reset = true;
                event = Event::Closed;
                continue;
            }
        };
        match read {
            Ok(Ok(Some(first))) => {
                // Bytes read are not progress by themselves: the session judges what they were.
                let mut buf = first.to_vec();
                // Whatever else has already arrived joins this read.
                while buf.len() < READ_BYTES {
                    match tokio::time::timeout(Duration::ZERO, recv.read_chunk(READ_BYTES - buf.len())).await {
                        Ok(Ok(Some(more))) => buf.extend_from_slice(&more),
                        _ => break,
                    }
                }
                input = Some(buf);
            }
            Ok(Ok(None)) | Ok(Err(_)) => event = Event::Closed,
            Err(_) => event = Event::Timer,
        }
    }
}

#[derive(Debug, Clone)]
pub(super) struct Handler {
    pub(super) inner: Arc<Inner>,
}

impl ProtocolHandler for Handler {
    async fn accept(&self, conn: Connection) -> Result<(), AcceptError> {
        let Some(guard) = self.inner.admit(&conn) else {
            conn.close(4u32.into(), b"too many connections");
            return Ok(());
        };
        serve_connection(self.inner.clone(), conn).await;
        drop(guard);
        Ok(())
    }
}

/// Answers every session the peer opens on a connection, whichever side opened the connection:
/// live updates flow both ways over one connection.
pub(super) async fn serve_connection(inner: Arc<Inner>, conn: Connection) {
    let peer = conn.remote_id();
    while let Ok((mut send, mut recv)) = conn.accept_bi().await {
        let Some(slot) = inner.slot(peer) else {
            inner.count(|s| s.refused += 1);
            // Say why, briefly, without touching the store; a peer that does not read this is
            // not waited for.
            tokio::spawn(async move {
                let frame =
                    Message::Error { code: ErrorCode::Busy as u8, reason: "too many sync sessions".into() }.frame();
                let _ = tokio::time::timeout(Duration::from_secs(1), send.write_all(&frame)).await;
                let _ = send.finish();
                let _ = recv.stop(0u32.into());
            });
            continue;
        };
        let inner = inner.clone();
        let conn = conn.clone();
        let used = inner.use_conn(&conn);
        tokio::spawn(async move {
            let before = inner.revision();
            let session = Session::respond(inner.cfg.sync.clone(), inner.now_ms());
            match drive(&inner, session, (&mut send, &mut recv), peer, &slot.progress, &used).await {
                Ok((session, end)) => {
                    if let SessionEnd::Failed(e) = &end {
                        tracing::info!(peer = %peer.fmt_short(), error = %e, "sync session with peer failed");
                    }
                    let festival = session.festival();
                    // A change stored while this first session ran was not pushed to the peer (it
                    // was not a live peer yet) and may have missed the session's diff: push it now.
                    if inner.record(peer, &conn, festival, &end)
                        && let Some(f) = festival
                        && inner.revision() != before
                    {
                        super::live::live_push(&inner, conn.clone(), f);
                    }
                    if matches!(end, SessionEnd::Failed(_)) {
                        // A peer that sent garbage or forged ops, or stopped reading, is dropped.
                        conn.close(1u32.into(), b"session failed");
                    }
                }
                Err(e) => tracing::warn!(error = %e, "sync session aborted"),
            }
            drop(slot);
            drop(used);
        });
    }
    if let Ok(mut peers) = inner.peers.lock() {
        peers.remove(&peer);
    }
    inner.changed.notify_one();
}

/// Starts a session for `festival` on a new stream of `conn`. The stream is opened before
/// anything is loaded for it: a peer that grants no stream costs nothing but the wait.
pub(super) async fn initiate(
    inner: &Arc<Inner>,
    conn: &Connection,
    festival: FestivalId,
    slots: Option<&Arc<tokio::sync::Semaphore>>,
) -> Result<SessionEnd, NetError> {
    let (mut send, mut recv) = match tokio::time::timeout(OPEN_TIMEOUT, conn.open_bi()).await {
        Ok(Ok(streams)) => streams,
        Ok(Err(e)) => return Err(NetError::Connect(e.to_string())),
        Err(_) => return Err(NetError::Connect("the peer opened no stream in time".into())),
    };
    // Only once the peer granted a stream does a push take one of the few slots that hold a
    // session's work: a peer that grants none holds nothing and blocks nobody.
    let _permit = match slots {
        Some(s) => Some(s.clone().acquire_owned().await.map_err(|e| NetError::Task(e.to_string()))?),
        None => None,
    };
    let node = inner.node.clone();
    let (mut cfg, now) = (inner.cfg.sync.clone(), inner.now_ms());
    if slots.is_some() {
        cfg.max_session_ms = cfg.max_session_ms.min(LIVE_PUSH_MAX.as_millis() as u64);
    }
    let session = tokio::task::spawn_blocking(move || {
        node.lock().map_err(|_| NetError::Poisoned)?.start_sync(&festival, cfg, now).map_err(NetError::from)
    })
    .await
    .map_err(|e| NetError::Task(e.to_string()))??;
    let used = inner.use_conn(conn);
    let (_, end) = drive(inner, session, (&mut send, &mut recv), conn.remote_id(), &Progress::default(), &used).await?;
    inner.record(conn.remote_id(), conn, Some(festival), &end);
    Ok(end)
}
