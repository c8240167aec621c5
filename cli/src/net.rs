//! The networked commands: `serve`, `invite`, `join`, `sync`.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use meadow_core::net::{Invite, Net, NetConfig, NetError, Networking, SharedNode, remember_peer, remembered_peers};
use meadow_core::node::{Node, SessionEnd};
use meadow_core::op::FestivalId;
use meadow_core::sync::SyncError;

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")
}

fn print_invite(invite: &Invite) {
    out!("invite: {}", invite.to_link());
    if let Ok(code) = qrcode::QrCode::new(invite.to_link().as_bytes()) {
        let art = code.render::<qrcode::render::unicode::Dense1x2>().quiet_zone(true).build();
        out!("{art}");
    }
}

/// Where a browser reaches the web page: an address bound to all interfaces is no address to
/// type, so it becomes localhost and each address the node's own endpoint found on this machine.
fn web_urls(web: SocketAddr, local: impl Iterator<Item = std::net::IpAddr>) -> Vec<String> {
    if !web.ip().is_unspecified() {
        return vec![format!("http://{web}/")];
    }
    let mut urls = vec![format!("http://localhost:{}/", web.port())];
    for ip in local.filter(|ip| !ip.is_loopback() && !ip.is_unspecified() && ip.is_ipv4() == web.is_ipv4()) {
        let url = format!("http://{}/", SocketAddr::new(ip, web.port()));
        if !urls.contains(&url) {
            urls.push(url);
        }
    }
    urls
}

/// Runs the node until interrupted.
pub fn serve(node: Node, bind: Option<SocketAddr>, mdns: bool, ble: bool, web: Option<SocketAddr>) -> Result<()> {
    let current = node.current_festival()?;
    let rt = runtime()?;
    // Bluetooth is checked before anything is started or stored: without it, nothing changes.
    let radio = match (ble, current) {
        (false, _) => None,
        (true, None) => bail!("Bluetooth: no current festival to swap; select one first"),
        (true, Some(f)) => Some((f, rt.block_on(crate::ble::adapter())?)),
    };
    let bind = bind.unwrap_or_else(|| SocketAddr::from(([0, 0, 0, 0], 0)));
    let shared: SharedNode = Arc::new(Mutex::new(node));
    rt.block_on(async move {
        // The web address too is taken before anything is started or stored.
        let web = match web {
            Some(addr) => Some((addr, meadow_web::Web::bind(addr).await?)),
            None => None,
        };
        let cfg = NetConfig { bind, mdns, ..NetConfig::loopback() };
        let running = Networking::start(shared.clone(), cfg).await?;
        let net = running.net().clone();
        let addr = net.addr();
        out!("meadow node {} listening on {}", addr.id.fmt_short(), addr.ip_addrs().map(|a| a.to_string()).collect::<Vec<_>>().join(", "));
        match current {
            Some(f) => print_invite(&net.invite(f)),
            None => out!("no current festival yet: create, import or join one; peers can still sync with this node"),
        }
        let _web = match web {
            Some((web_addr, listener)) => {
                let inviter = net.clone();
                let invite: meadow_web::InviteFn = Arc::new(move |f: &FestivalId| Some(inviter.invite(*f).to_link()));
                let cfg = meadow_web::WebConfig::new(web_addr);
                let w = meadow_web::Web::start_on(listener, shared.clone(), cfg, Some(invite)).await?;
                let urls = web_urls(w.addr(), addr.ip_addrs().map(|a| a.ip()));
                out!("web: the programme for any browser at {} (feeds: /schedule.xml, /schedule.json, /programme.ics)", urls.join(" or "));
                Some(w)
            }
            None => None,
        };
        let mut keepers: Vec<tokio::task::JoinHandle<()>> = Vec::new();
        if let Some((f, (session, adapter))) = radio {
            let node = shared.clone();
            keepers.push(tokio::spawn(async move {
                let _session = session;
                if let Err(e) = crate::ble::run(node, f, adapter).await {
                    out!("Bluetooth stopped: {e:#}");
                }
            }));
        }
        let mut tick = tokio::time::interval(Duration::from_secs(10));
        loop {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => break,
                _ = tick.tick() => {
                    let s = net.stats();
                    out!("status: {} peers, {} sessions ({} failed), {} ops received, {} ops sent", s.peers, s.sessions, s.failures, s.ops_received, s.ops_sent);
                }
            }
        }
        out!("shutting down");
        for k in keepers {
            k.abort();
        }
        running.stop().await;
        Ok::<_, anyhow::Error>(())
    })
}

/// Prints the invite that `serve` advertises.
pub fn invite(node: &Node, festival: FestivalId) -> Result<()> {
    let peer = meadow_core::net::last_address(node)?
        .ok_or_else(|| anyhow!("run `meadow serve` first: the invite names the address it listens on"))?;
    print_invite(&Invite { festival, peer });
    Ok(())
}

/// Syncs the invite's festival with its peer once; with `join`, as the core defines joining (the
/// festival is then selected).
async fn sync_once(shared: &SharedNode, invite: &Invite, join: bool) -> Result<SessionEnd> {
    let net = Net::start(
        shared.clone(),
        NetConfig { bind: SocketAddr::from(([0, 0, 0, 0], 0)), mdns: false, ..NetConfig::loopback() },
    )
    .await?;
    let progress = indicatif::ProgressBar::new_spinner();
    progress.set_message("syncing");
    // Progress is read on a thread of its own, woken by the change feed: store reads never run
    // on the async workers.
    let changes = shared.lock().map_err(|_| anyhow!("node lock poisoned"))?.subscribe();
    let watcher = {
        let shared = shared.clone();
        let progress = progress.clone();
        let changes = changes.clone();
        std::thread::spawn(move || {
            loop {
                let n = shared.lock().ok().and_then(|n| n.op_count().ok()).unwrap_or(0);
                progress.set_message(format!("syncing: {n} ops held"));
                progress.tick();
                if changes.is_closed() {
                    return;
                }
                changes.wait(Some(Duration::from_millis(200)));
            }
        })
    };
    let run = async {
        if join {
            match net.join(invite).await {
                Ok(stats) => Ok(SessionEnd::Finished(stats)),
                Err(NetError::Sync(e)) => Ok(SessionEnd::Failed(e)),
                Err(e) => Err(e),
            }
        } else {
            net.sync_with(invite.peer.clone(), invite.festival).await
        }
    };
    let end = tokio::time::timeout(Duration::from_secs(600), run).await;
    changes.close();
    let _ = watcher.join();
    progress.finish_and_clear();
    net.shutdown().await;
    match end {
        Ok(Err(NetError::Connect(_))) => {
            let at: Vec<String> = invite.peer.ip_addrs().map(|a| a.to_string()).collect();
            bail!(
                "the peer is unreachable (tried {}): is `meadow serve` running there, on a network this device can reach?",
                if at.is_empty() { "no address in the invite".to_owned() } else { at.join(", ") }
            )
        }
        Ok(r) => Ok(r?),
        Err(_) => bail!("sync took longer than 10 minutes; what arrived is kept, run it again to continue"),
    }
}

/// Says what a failed session means for the person who asked for it.
fn explain(e: &SyncError) -> String {
    match e {
        SyncError::NotHeld(_) => {
            "the peer does not hold this festival (the invite may be for a festival it no longer serves)".into()
        }
        SyncError::Busy(_) => "the peer is busy with other devices; try again in a minute".into(),
        other => format!("sync failed: {other} (ops that arrived are kept)"),
    }
}

/// Joins a festival from an invite.
pub fn join(node: Node, ticket: &str) -> Result<()> {
    let invite = Invite::parse(ticket).map_err(|_| {
        anyhow!("that is not a Meadow invite: expected a meadow://join/... link or the text after it, as `meadow invite` prints")
    })?;
    let shared: SharedNode = Arc::new(Mutex::new(node));
    let end = runtime()?.block_on(sync_once(&shared, &invite, true))?;
    let mut node = shared.lock().map_err(|_| anyhow!("node lock poisoned"))?;
    match end {
        SessionEnd::Finished(stats) => {
            remember_peer(&mut node, &invite)?;
            let f = node.festival(&invite.festival).context("the peer sent no festival")?;
            out!(
                "joined {:?}: {} received ({} bytes), {} sent",
                f.name,
                crate::output::count(stats.ops_received as usize, "op", "ops"),
                stats.bytes_received,
                stats.ops_sent
            );
            Ok(())
        }
        SessionEnd::Failed(e) => bail!("{}", explain(&e)),
    }
}

/// Syncs a festival with the peers it was joined from.
pub fn sync(node: Node, festival: FestivalId) -> Result<()> {
    let invites: Vec<Invite> = remembered_peers(&node)?.into_iter().filter(|i| i.festival == festival).collect();
    if invites.is_empty() {
        bail!("no known peers for this festival: `meadow join` an invite first");
    }
    let shared: SharedNode = Arc::new(Mutex::new(node));
    let rt = runtime()?;
    let mut ok = 0;
    for invite in &invites {
        match rt.block_on(sync_once(&shared, invite, false)) {
            Ok(SessionEnd::Finished(s)) => {
                ok += 1;
                out!(
                    "synced with {}: {} received, {} sent",
                    invite.peer.id.fmt_short(),
                    crate::output::count(s.ops_received as usize, "op", "ops"),
                    s.ops_sent
                );
            }
            Ok(SessionEnd::Failed(e)) => out!("{}: {}", invite.peer.id.fmt_short(), explain(&e)),
            Err(e) => out!("sync with {} failed: {e:#}", invite.peer.id.fmt_short()),
        }
    }
    if ok == 0 {
        bail!("no peer could be reached");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_web_page_bound_everywhere_is_named_by_addresses_a_browser_can_reach() {
        let local =
            ["127.0.0.1", "192.168.1.20", "fe80::1", "192.168.1.20", "10.0.0.7"].map(|a| a.parse().expect("ip"));
        let all: SocketAddr = "0.0.0.0:8080".parse().expect("addr");
        assert_eq!(
            web_urls(all, local.into_iter()),
            ["http://localhost:8080/", "http://192.168.1.20:8080/", "http://10.0.0.7:8080/"]
        );
        let one: SocketAddr = "127.0.0.1:9000".parse().expect("addr");
        assert_eq!(web_urls(one, local.into_iter()), ["http://127.0.0.1:9000/"]);
    }
}
