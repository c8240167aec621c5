//! `meadow serve --ble`: Bluetooth LE on Linux. A central through btleplug (scans, dials phones,
//! syncs over their GATT service) and a peripheral through bluer (advertises and serves the
//! Meadow GATT service, so that phones find the info point). Both talk to BlueZ over D-Bus. The
//! core's scheduler decides what to do; this module only moves bytes and radio events.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use bluer::gatt::local::{
    Application, Characteristic as LocalCharacteristic, CharacteristicControlEvent, CharacteristicNotify,
    CharacteristicNotifyMethod, CharacteristicRead, CharacteristicWrite, CharacteristicWriteMethod, Service,
    characteristic_control,
};
use btleplug::api::{Central, CentralEvent, Characteristic, Manager as _, Peripheral as _, ScanFilter, WriteType};
use btleplug::platform::{Manager, Peripheral};
use futures_lite::StreamExt;
use meadow_core::net::SharedNode;
use meadow_core::node::{LinkStep, LinkSync, SessionEnd};
use meadow_core::op::FestivalId;
use meadow_core::proximity::advert::{Advert, Sighting};
use meadow_core::proximity::{
    Action, Encounters, LinkOutcome, RX_UUID, SERVICE_UUID, STATE_UUID, Salts, ScheduleConfig, TX_UUID, Transport,
};
use tokio::sync::mpsc;

/// The MTU assumed for links this node dials: btleplug does not tell the negotiated one, and
/// BlueZ asks for 517; phones answer 185 or more.
const CENTRAL_MTU: usize = 185;

fn uuid(u: &meadow_core::proximity::Uuid) -> uuid::Uuid {
    uuid::Uuid::from_bytes(*u)
}

/// The BlueZ adapter, or why there is none: checked before `serve` changes anything.
pub async fn adapter() -> Result<(bluer::Session, bluer::Adapter)> {
    let session = bluer::Session::new()
        .await
        .map_err(|e| anyhow!("Bluetooth: cannot reach BlueZ over D-Bus ({e}); is bluetoothd running?"))?;
    let adapter = session.default_adapter().await.map_err(|e| anyhow!("Bluetooth: no adapter found ({e})"))?;
    let powered = adapter.is_powered().await.map_err(|e| anyhow!("Bluetooth: adapter {}: {e}", adapter.name()))?;
    if !powered {
        bail!("Bluetooth: adapter {} is powered off (try `bluetoothctl power on`)", adapter.name());
    }
    Ok((session, adapter))
}

fn now_ms() -> u64 {
    meadow_core::node::now_ms()
}

fn peer_id(name: &impl Hash) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    name.hash(&mut h);
    h.finish()
}

/// What the link tasks tell the scheduler's loop.
enum Event {
    Ended(u64, LinkOutcome),
    StateRead(u64, Option<Advert>),
    Incoming(u64, tokio::sync::oneshot::Sender<bool>),
}

/// Runs Bluetooth until the task is dropped.
pub async fn run(node: SharedNode, festival: FestivalId, adapter: bluer::Adapter) -> Result<()> {
    let local = {
        let n = node.lock().map_err(|_| anyhow!("node lock poisoned"))?;
        n.local_state(&festival)?
    };
    let sched =
        Arc::new(Mutex::new(Encounters::new(ScheduleConfig::default(), Some(local), 0, now_ms(), Salts::system())));
    let (tx, mut rx) = mpsc::channel::<Event>(64);
    let _gatt = serve_gatt(&adapter, node.clone(), festival, sched.clone(), tx.clone()).await?;
    let manager = Manager::new().await.context("Bluetooth: btleplug")?;
    let central = manager
        .adapters()
        .await
        .context("Bluetooth: listing adapters")?
        .into_iter()
        .next()
        .ok_or_else(|| anyhow!("Bluetooth: no adapter for the central"))?;
    let mut events = central.events().await.context("Bluetooth: scan events")?;
    let feed = node.lock().map_err(|_| anyhow!("node lock poisoned"))?.subscribe();
    let mut advertising: Option<bluer::adv::AdvertisementHandle> = None;
    let mut known: HashMap<u64, btleplug::platform::PeripheralId> = HashMap::new();
    let mut links: HashMap<u64, tokio::task::JoinHandle<()>> = HashMap::new();
    tracing::info!(adapter = adapter.name(), "Bluetooth LE running");
    loop {
        // Everything the scheduler asks, then wait for the next event or its timeout.
        loop {
            let action = sched.lock().map_err(|_| anyhow!("scheduler poisoned"))?.poll_action(now_ms());
            let Some(action) = action else { break };
            match action {
                Action::StartScan => central.start_scan(ScanFilter::default()).await.context("Bluetooth: scan")?,
                Action::StopScan => central.stop_scan().await.context("Bluetooth: scan")?,
                Action::Advertise => {
                    drop(advertising.take());
                    let ad = sched.lock().map_err(|_| anyhow!("scheduler poisoned"))?.advert();
                    if let Some(ad) = ad {
                        let adv = bluer::adv::Advertisement {
                            advertisement_type: bluer::adv::Type::Peripheral,
                            service_data: BTreeMap::from([(uuid(&SERVICE_UUID), ad.encode().to_vec())]),
                            discoverable: Some(true),
                            ..Default::default()
                        };
                        advertising = Some(adapter.advertise(adv).await.context("Bluetooth: advertising")?);
                    }
                }
                Action::StopAdvertising => drop(advertising.take()),
                Action::Connect(peer) | Action::ReadState(peer) => {
                    let read = matches!(action, Action::ReadState(_));
                    match known.get(&peer) {
                        Some(id) => {
                            let p = central.peripheral(id).await;
                            let (node, tx) = (node.clone(), tx.clone());
                            links.insert(
                                peer,
                                tokio::spawn(async move {
                                    let outcome = match p {
                                        Ok(p) => dial(p, node, festival, read, peer, &tx).await,
                                        Err(_) => LinkOutcome::Unreachable,
                                    };
                                    let _ = tx.send(Event::Ended(peer, outcome)).await;
                                }),
                            );
                        }
                        None => sched.lock().map_err(|_| anyhow!("scheduler poisoned"))?.link_ended(
                            peer,
                            LinkOutcome::Unreachable,
                            now_ms(),
                        ),
                    }
                }
                Action::Disconnect(peer) => {
                    if let Some(t) = links.remove(&peer) {
                        t.abort();
                        sched.lock().map_err(|_| anyhow!("scheduler poisoned"))?.link_ended(
                            peer,
                            LinkOutcome::Finished,
                            now_ms(),
                        );
                    }
                }
            }
        }
        let wait = {
            let s = sched.lock().map_err(|_| anyhow!("scheduler poisoned"))?;
            Duration::from_millis(s.poll_timeout(now_ms()).saturating_sub(now_ms()).clamp(50, 5_000))
        };
        tokio::select! {
            e = events.next() => match e {
                Some(CentralEvent::ServiceDataAdvertisement { id, service_data }) => {
                    if let Some(data) = service_data.get(&uuid(&SERVICE_UUID)) {
                        let peer = peer_id(&id);
                        known.insert(peer, id);
                        // A payload that does not decode is no sighting.
                        if let Ok(a) = Advert::decode(data) {
                            sched.lock().map_err(|_| anyhow!("scheduler poisoned"))?.seen(peer, Sighting::Advert(a), now_ms());
                        }
                    }
                }
                Some(CentralEvent::ServicesAdvertisement { id, services }) if services.contains(&uuid(&SERVICE_UUID)) => {
                    let peer = peer_id(&id);
                    known.insert(peer, id);
                    sched.lock().map_err(|_| anyhow!("scheduler poisoned"))?.seen(peer, Sighting::ServiceOnly, now_ms());
                }
                Some(_) => {}
                None => bail!("Bluetooth: the adapter's event stream ended"),
            },
            ev = rx.recv() => {
                let mut s = sched.lock().map_err(|_| anyhow!("scheduler poisoned"))?;
                match ev {
                    Some(Event::Ended(peer, outcome)) => {
                        links.remove(&peer);
                        s.link_ended(peer, outcome, now_ms());
                    }
                    Some(Event::StateRead(peer, advert)) => s.state_read(peer, advert, now_ms()),
                    Some(Event::Incoming(peer, answer)) => { let _ = answer.send(s.incoming(peer, now_ms())); }
                    None => {}
                }
            }
            _ = feed.next() => {
                let n = node.lock().map_err(|_| anyhow!("node lock poisoned"))?;
                let state = n.local_state(&festival)?;
                sched.lock().map_err(|_| anyhow!("scheduler poisoned"))?.set_local(Some(state), now_ms());
            }
            _ = tokio::time::sleep(wait) => {}
        }
    }
}

/// Feeds a link's step to the radio: the packets it produced, and whether it ended.
type Step = Result<LinkStep, meadow_core::node::NodeError>;

fn step(
    node: &SharedNode,
    link: &Arc<Mutex<LinkSync>>,
    f: impl FnOnce(&mut LinkSync, &mut meadow_core::node::Node) -> Step,
) -> Option<LinkStep> {
    let mut n = node.lock().ok()?;
    let mut l = link.lock().ok()?;
    f(&mut l, &mut n).ok()
}

/// Dials a peer as central: reads its state, or runs a swap over its TX and RX characteristics.
async fn dial(
    p: Peripheral,
    node: SharedNode,
    festival: FestivalId,
    read: bool,
    peer: u64,
    tx: &mpsc::Sender<Event>,
) -> LinkOutcome {
    if tokio::time::timeout(Duration::from_secs(10), p.connect()).await.map_or(true, |r| r.is_err()) {
        return LinkOutcome::Unreachable;
    }
    let outcome = swap_over(&p, node, festival, read, peer, tx).await.unwrap_or(LinkOutcome::Failed);
    let _ = p.disconnect().await;
    outcome
}

async fn swap_over(
    p: &Peripheral,
    node: SharedNode,
    festival: FestivalId,
    read: bool,
    peer: u64,
    events: &mpsc::Sender<Event>,
) -> Result<LinkOutcome> {
    p.discover_services().await?;
    let chars: BTreeSet<Characteristic> = p.characteristics();
    let find = |u| chars.iter().find(|c| c.uuid == uuid(u)).cloned().ok_or_else(|| anyhow!("no Meadow service"));
    if read {
        let value = p.read(&find(&STATE_UUID)?).await.ok();
        let advert = value.and_then(|v| Advert::read_state(&v).ok()).map(|(a, _)| a);
        let _ = events.send(Event::StateRead(peer, advert)).await;
        // The state read ends this connection; a swap, if worth it, dials again.
        return Ok(LinkOutcome::Finished);
    }
    let (txc, rxc) = (find(&TX_UUID)?, find(&RX_UUID)?);
    p.subscribe(&rxc).await?;
    let mut notes = p.notifications().await?;
    let link = {
        let n = node.lock().map_err(|_| anyhow!("node lock poisoned"))?;
        Arc::new(Mutex::new(LinkSync::initiate(&n, &festival, Transport::Gatt { mtu: CENTRAL_MTU }, now_ms())?))
    };
    let mut out = step(&node, &link, |l, n| l.start(n)).ok_or_else(|| anyhow!("link failed"))?;
    loop {
        for packet in std::mem::take(&mut out.packets) {
            p.write(&txc, &packet, WriteType::WithoutResponse).await?;
        }
        if let Some(end) = out.end.take() {
            return Ok(if matches!(end, SessionEnd::Finished(_)) {
                LinkOutcome::Finished
            } else {
                LinkOutcome::Failed
            });
        }
        out = tokio::select! {
            n = notes.next() => match n {
                Some(v) if v.uuid == uuid(&RX_UUID) => step(&node, &link, |l, nd| l.received(nd, &v.value, now_ms())),
                Some(_) => Some(LinkStep::default()),
                None => step(&node, &link, |l, nd| l.closed(nd)),
            },
            _ = tokio::time::sleep(Duration::from_millis(500)) => step(&node, &link, |l, nd| l.tick(nd, now_ms())),
        }
        .ok_or_else(|| anyhow!("link failed"))?;
    }
}

/// Serves the Meadow GATT service: State (read), TX (write without response, one reader per
/// central), RX (notify, one writer per central). A central with both gets a swap.
async fn serve_gatt(
    adapter: &bluer::Adapter,
    node: SharedNode,
    festival: FestivalId,
    sched: Arc<Mutex<Encounters>>,
    events: mpsc::Sender<Event>,
) -> Result<bluer::gatt::local::ApplicationHandle> {
    let (tx_control, tx_handle) = characteristic_control();
    let (rx_control, rx_handle) = characteristic_control();
    let state_sched = sched.clone();
    let app = Application {
        services: vec![Service {
            uuid: uuid(&SERVICE_UUID),
            primary: true,
            characteristics: vec![
                LocalCharacteristic {
                    uuid: uuid(&STATE_UUID),
                    read: Some(CharacteristicRead {
                        read: true,
                        fun: Box::new(move |_req| {
                            // A fresh salt at every read: a read must not repeat the advertised one.
                            let value = state_sched
                                .lock()
                                .ok()
                                .and_then(|mut s| s.fresh_advert())
                                .map(|a| a.state_value(0).to_vec());
                            Box::pin(async move { value.ok_or(bluer::gatt::local::ReqError::Failed) })
                        }),
                        ..Default::default()
                    }),
                    ..Default::default()
                },
                LocalCharacteristic {
                    uuid: uuid(&TX_UUID),
                    write: Some(CharacteristicWrite {
                        write_without_response: true,
                        method: CharacteristicWriteMethod::Io,
                        ..Default::default()
                    }),
                    control_handle: tx_handle,
                    ..Default::default()
                },
                LocalCharacteristic {
                    uuid: uuid(&RX_UUID),
                    notify: Some(CharacteristicNotify {
                        notify: true,
                        method: CharacteristicNotifyMethod::Io,
                        ..Default::default()
                    }),
                    control_handle: rx_handle,
                    ..Default::default()
                },
            ],
            ..Default::default()
        }],
        ..Default::default()
    };
    let handle = adapter.serve_gatt_application(app).await.context("Bluetooth: serving the GATT service")?;
    tokio::spawn(answer_centrals(tx_control, rx_control, node, festival, events));
    Ok(handle)
}

async fn answer_centrals(
    mut tx_control: bluer::gatt::local::CharacteristicControl,
    mut rx_control: bluer::gatt::local::CharacteristicControl,
    node: SharedNode,
    _festival: FestivalId,
    events: mpsc::Sender<Event>,
) {
    let mut readers: HashMap<bluer::Address, bluer::gatt::CharacteristicReader> = HashMap::new();
    let mut writers: HashMap<bluer::Address, bluer::gatt::CharacteristicWriter> = HashMap::new();
    loop {
        let address = tokio::select! {
            Some(CharacteristicControlEvent::Write(req)) = tx_control.next() => match req.accept() {
                Ok(r) => { let a = r.device_address(); readers.insert(a, r); a }
                Err(_) => continue,
            },
            Some(CharacteristicControlEvent::Notify(w)) = rx_control.next() => { let a = w.device_address(); writers.insert(a, w); a }
            else => return,
        };
        if let (Some(_), Some(_)) = (readers.get(&address), writers.get(&address)) {
            let (Some(r), Some(w)) = (readers.remove(&address), writers.remove(&address)) else { continue };
            let peer = peer_id(&address.to_string());
            let (answer, accepted) = tokio::sync::oneshot::channel();
            if events.send(Event::Incoming(peer, answer)).await.is_err() || !accepted.await.unwrap_or(false) {
                continue;
            }
            let (node, events) = (node.clone(), events.clone());
            tokio::spawn(async move {
                let outcome = answer_one(r, w, node).await;
                let _ = events.send(Event::Ended(peer, outcome)).await;
            });
        }
    }
}

async fn answer_one(
    r: bluer::gatt::CharacteristicReader,
    w: bluer::gatt::CharacteristicWriter,
    node: SharedNode,
) -> LinkOutcome {
    let link = Arc::new(Mutex::new(LinkSync::respond(Transport::Gatt { mtu: r.mtu().min(w.mtu()) }, now_ms())));
    let Some(mut out) = step(&node, &link, |l, n| l.start(n)) else { return LinkOutcome::Failed };
    loop {
        for packet in std::mem::take(&mut out.packets) {
            if w.send(&packet).await.is_err() {
                return LinkOutcome::Failed;
            }
        }
        if let Some(end) = out.end.take() {
            return if matches!(end, SessionEnd::Finished(_)) { LinkOutcome::Finished } else { LinkOutcome::Failed };
        }
        let next = tokio::select! {
            p = r.recv() => match p {
                Ok(p) => step(&node, &link, |l, n| l.received(n, &p, now_ms())),
                Err(_) => step(&node, &link, |l, n| l.closed(n)),
            },
            _ = tokio::time::sleep(Duration::from_millis(500)) => step(&node, &link, |l, n| l.tick(n, now_ms())),
        };
        match next {
            Some(s) => out = s,
            None => return LinkOutcome::Failed,
        }
    }
}
