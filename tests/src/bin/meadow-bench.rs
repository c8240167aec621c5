//! `meadow-bench`: reproducible speed figures for Meadow, as JSON on stdout.
//!
//! `meadow-bench ingest --ops 50000 --authors 1000` and `meadow-bench query --events 10000`.

use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use meadow_core::demo::Rng;
use meadow_core::node::{ImportOptions, Imported, Node};
use meadow_core::op::{Body, Op};
use meadow_core::store::Store;
use meadow_core::view::ProgrammeFilter;
use meadow_tests::benchmark_festival;
use serde_json::json;

#[derive(Debug, Parser)]
#[command(name = "meadow-bench", about = "Meadow benchmarks (JSON on stdout)")]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Crews: bytes per shared favourite, reading a crew of 20, removing a member from 30.
    Crew {
        /// Members of the crew that is read.
        #[arg(long, default_value_t = 20)]
        members: usize,
        /// Favourites each member shares.
        #[arg(long, default_value_t = 50)]
        favourites: usize,
        /// Members of the crew one is removed from.
        #[arg(long, default_value_t = 30)]
        remove_from: usize,
    },
    /// Decode, verify, store and materialize a festival's ops, against plain verification.
    Ingest {
        /// Number of ops.
        #[arg(long, default_value_t = 50_000)]
        ops: usize,
        /// Number of authors.
        #[arg(long, default_value_t = 1_000)]
        authors: usize,
        /// Ops per ingest batch (what one sync message or import step delivers).
        #[arg(long, default_value_t = 1_000)]
        batch: usize,
    },
    /// Sync cost: bytes when peers agree and per missing op, against negentropy on the same sets.
    Sync {
        /// Number of ops.
        #[arg(long, default_value_t = 50_000)]
        ops: usize,
        /// Number of authors.
        #[arg(long, default_value_t = 1_000)]
        authors: usize,
    },
    /// Import of a generated frab schedule, then a re-import of the same file.
    Import {
        /// Number of events in the schedule.
        #[arg(long, default_value_t = 2_000)]
        events: usize,
    },
    /// The day view through the FFI layer, called from Rust as the apps call it (async), on the
    /// store `query --keep DIR` left: the Rust side of the Kotlin benchmark's figures.
    Ffi {
        /// The kept store's directory.
        #[arg(long)]
        dir: std::path::PathBuf,
        /// Samples per call.
        #[arg(long, default_value_t = 300)]
        samples: usize,
    },
    /// Proximity exchange over a simulated 20 KB/s, 185-byte-MTU GATT link, and a crowd of 200.
    Proximity {
        /// Events of the programme.
        #[arg(long, default_value_t = 10_000)]
        events: usize,
        /// The organisers' announcements.
        #[arg(long, default_value_t = 50)]
        announcements: usize,
    },
    /// The web info point on loopback: 50 clients with keep-alive fetching the programme page
    /// and polling `schedule.xml` (304), on the demo festival and on a large one.
    Web {
        /// Events of the large festival.
        #[arg(long, default_value_t = 10_000)]
        events: usize,
        /// Concurrent clients.
        #[arg(long, default_value_t = 50)]
        clients: usize,
        /// Seconds per measurement.
        #[arg(long, default_value_t = 5.0)]
        seconds: f64,
    },
    /// Programme queries, search and app launch over a festival of this many events.
    Query {
        /// Number of events.
        #[arg(long, default_value_t = 10_000)]
        events: usize,
        /// Samples per query kind.
        #[arg(long, default_value_t = 300)]
        samples: usize,
        /// Keep the festival's data directory here (for the Kotlin benchmark on the same store).
        #[arg(long)]
        keep: Option<std::path::PathBuf>,
    },
}

fn main() -> Result<()> {
    match Cli::parse().command {
        Cmd::Crew { members, favourites, remove_from } => {
            println!(
                "{}",
                serde_json::to_string_pretty(&meadow_tests::crewbench::run(members, favourites, remove_from)?)?
            );
            Ok(())
        }
        Cmd::Ingest { ops, authors, batch } => ingest(ops, authors, batch),
        Cmd::Query { events, samples, keep } => query(events, samples, keep),
        Cmd::Import { events } => import(events),
        Cmd::Sync { ops, authors } => sync(ops, authors),
        Cmd::Ffi { dir, samples } => ffi(&dir, samples),
        Cmd::Proximity { events, announcements } => proximity(events, announcements),
        Cmd::Web { events, clients, seconds } => web(events, clients, seconds),
    }
}

/// Re-imports timed for `reimport_noop_ms`.
const REIMPORT_SAMPLES: usize = 9;

fn import(events: usize) -> Result<()> {
    let xml = meadow_tests::frab_schedule_xml(events, 1);
    let dir = tempfile::tempdir()?;
    let mut node = Node::open(dir.path())?;
    let t = Instant::now();
    let outcome = node.import(xml.as_bytes(), &ImportOptions::default(), &mut |_, _| {})?;
    let import_s = t.elapsed().as_secs_f64();
    let Imported::Schedule { festival, summary, .. } = outcome else { anyhow::bail!("not a schedule") };
    anyhow::ensure!(summary.added == events, "imported {} of {events}", summary.added);
    let ops = node.store().op_count()?;
    // A re-import that changes nothing takes tens of milliseconds: the median of several.
    let mut samples = Vec::new();
    for _ in 0..REIMPORT_SAMPLES {
        let t = Instant::now();
        let again = node.import(xml.as_bytes(), &ImportOptions::default(), &mut |_, _| {})?;
        samples.push(t.elapsed().as_secs_f64() * 1e3);
        let Imported::Schedule { summary: again, .. } = again else { anyhow::bail!("not a schedule") };
        anyhow::ensure!(again.is_noop() && node.store().op_count()? == ops, "re-import changed something");
    }
    samples.sort_by(f64::total_cmp);
    let reimport_ms = samples[samples.len() / 2];
    let v2 = meadow_tests::frab_schedule_xml(events, 2);
    let t = Instant::now();
    let update =
        node.import(v2.as_bytes(), &ImportOptions { into: Some(festival), ..Default::default() }, &mut |_, _| {})?;
    let update_ms = t.elapsed().as_secs_f64() * 1e3;
    let Imported::Schedule { summary: update, .. } = update else { anyhow::bail!("not a schedule") };
    let out = json!({
        "bench": "import",
        "events": events,
        "file_bytes": xml.len(),
        "import_s": import_s,
        "import_events_per_s": events as f64 / import_s,
        "reimport_noop_ms": reimport_ms,
        "update_ms": update_ms,
        "update_moved": update.moved,
    });
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(())
}

fn store_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|rd| rd.filter_map(|e| e.ok()).filter_map(|e| e.metadata().ok()).map(|m| m.len()).sum())
        .unwrap_or(0)
}

/// Where a store's bytes go: pages per table and index (SQLite's dbstat), per op, largest first;
/// the ten largest by name and the rest together.
fn store_breakdown(db: &Path, ops: usize) -> Result<serde_json::Value> {
    let conn = rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let mut stmt = conn.prepare("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC")?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
    let mut out = serde_json::Map::new();
    let mut rest = 0i64;
    for (i, row) in rows.enumerate() {
        let (name, bytes) = row?;
        if i < 10 {
            out.insert(name, json!((bytes as f64 / ops as f64).round()));
        } else {
            rest += bytes;
        }
    }
    out.insert("rest".into(), json!((rest as f64 / ops as f64).round()));
    Ok(serde_json::Value::Object(out))
}

fn ingest(n: usize, authors: usize, batch: usize) -> Result<()> {
    eprintln!("generating {n} ops by {authors} authors...");
    let scenario = benchmark_festival(42, n, authors);
    let wire: Vec<Vec<u8>> = scenario.ops.iter().map(|o| o.bytes().to_vec()).collect();
    let wire_bytes: usize = wire.iter().map(Vec::len).sum();

    // Ceiling: the same ops' signatures checked one by one on one core.
    let decoded: Vec<Op> = wire.iter().map(|b| Op::decode(b)).collect::<Result<_, _>>()?;
    let t = Instant::now();
    for op in &decoded {
        op.verify_signature()?;
    }
    let verify_s = t.elapsed().as_secs_f64();
    // The other ceilings, on every core: one by one, and in batches as ingest checks them (what
    // ingest's verifier threads could do if the store's writes cost nothing).
    let cores = std::thread::available_parallelism().map_or(1, |p| p.get());
    let on_all_cores = |check: &(dyn Fn(&[Op]) -> bool + Sync)| -> Result<f64> {
        let t = Instant::now();
        std::thread::scope(|s| {
            let per = decoded.len().div_ceil(cores);
            let workers: Vec<_> = decoded.chunks(per.max(1)).map(|part| s.spawn(move || check(part))).collect();
            workers.into_iter().all(|w| w.join().unwrap_or(false))
        })
        .then_some(())
        .context("a bench op failed verification")?;
        Ok(t.elapsed().as_secs_f64())
    };
    let verify_all_s = on_all_cores(&|part| part.iter().all(|o| o.verify_signature().is_ok()))?;
    let batch_all_s = on_all_cores(&|part| {
        part.chunks(meadow_core::op::MAX_BATCH).all(|b| meadow_core::op::verify_signatures(b).iter().all(Result::is_ok))
    })?;

    let dir = tempfile::tempdir()?;
    let mut store = Store::open(&dir.path().join("bench.sqlite3"))?;
    let t = Instant::now();
    let mut stored = 0;
    for chunk in wire.chunks(batch.max(1)) {
        let report = store.ingest_bytes(chunk)?;
        anyhow::ensure!(report.rejected.is_empty(), "bench ops rejected: {:?}", report.rejected.first());
        stored += report.stored;
    }
    let ingest_s = t.elapsed().as_secs_f64();
    anyhow::ensure!(stored == n, "stored {stored} of {n}");
    let events = store.programme(&scenario.festival, &ProgrammeFilter::default())?.len();

    // Re-ingest of everything already held (a re-sync): duplicates skip verification.
    let t = Instant::now();
    for chunk in wire.chunks(batch.max(1)) {
        store.ingest_bytes(chunk)?;
    }
    let reingest_s = t.elapsed().as_secs_f64();
    drop(store);

    let out = json!({
        "bench": "ingest",
        "ops": n,
        "authors": authors,
        "batch": batch,
        "events_materialized": events,
        "wire_bytes_per_op": wire_bytes as f64 / n as f64,
        "ingest_s": ingest_s,
        "ingest_ops_per_s": n as f64 / ingest_s,
        "verify_only_ops_per_s": n as f64 / verify_s,
        "ingest_vs_verify_only": verify_s / ingest_s,
        "verify_all_cores_ops_per_s": n as f64 / verify_all_s,
        "ingest_vs_verify_all_cores": verify_all_s / ingest_s,
        "verify_batch_all_cores_ops_per_s": n as f64 / batch_all_s,
        "ingest_vs_verify_batch_all_cores": batch_all_s / ingest_s,
        "reingest_duplicates_ops_per_s": n as f64 / reingest_s,
        "store_bytes_per_op": store_bytes(dir.path()) as f64 / n as f64,
        "store_vs_wire_bytes": store_bytes(dir.path()) as f64 / wire_bytes as f64,
        "store_bytes_per_op_by_table": store_breakdown(&dir.path().join("bench.sqlite3"), n)?,
        "threads": std::thread::available_parallelism().map_or(1, |p| p.get()),
    });
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(())
}

fn p50(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

fn p95(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() * 95 / 100).copied().unwrap_or(0.0)
}

fn query(n_events: usize, samples: usize, keep: Option<std::path::PathBuf>) -> Result<()> {
    eprintln!("building a festival with {n_events} events...");
    // Enough ops that about n_events remain events after edits.
    let mut scenario = benchmark_festival(7, n_events * 4 / 3 + 100, (n_events / 10).max(10));
    let mut events = 0;
    let mut cut = scenario.ops.len();
    for (i, op) in scenario.ops.iter().enumerate() {
        if matches!(op.body(), Body::Event { target: None, .. }) {
            events += 1;
            if events == n_events {
                cut = i + 1;
                break;
            }
        }
    }
    scenario.ops.truncate(cut);
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("bench.sqlite3");
    let f = scenario.festival;
    {
        let mut store = Store::open(&path)?;
        for chunk in scenario.ops.chunks(2000) {
            store.ingest(chunk.to_vec())?;
        }
    }
    if let Some(keep) = &keep {
        std::fs::create_dir_all(keep)?;
        std::fs::copy(&path, keep.join("meadow.sqlite3"))?;
    }
    let store = Store::open(&path)?;
    let days: Vec<String> = store.days(&f)?.into_iter().map(|d| d.date).collect();
    let total: usize = store.programme(&f, &ProgrammeFilter::default())?.len();
    let day_filter = |d: &str| -> Result<ProgrammeFilter> {
        Ok(ProgrammeFilter { day: Some(d.parse().context("day")?), ..Default::default() })
    };
    let mut rng = Rng::new(3);
    let mut day_us = Vec::with_capacity(samples);
    let mut day_rows = 0;
    for _ in 0..samples {
        let d = &days[rng.below(days.len() as u64) as usize];
        let filter = day_filter(d)?;
        let t = Instant::now();
        let rows = store.programme(&f, &filter)?;
        day_us.push(t.elapsed().as_secs_f64() * 1e6);
        day_rows += rows.len();
    }
    let words =
        ["bees", "kites", "radio", "soil", "folk", "techno", "poetry", "solar", "owls", "tea", "person 12", "event 77"];
    let mut search_us = Vec::with_capacity(samples);
    for i in 0..samples {
        let t = Instant::now();
        let hits = store.search(&f, words[i % words.len()], 50)?;
        search_us.push(t.elapsed().as_secs_f64() * 1e6);
        anyhow::ensure!(!hits.is_empty() || i % words.len() >= 10, "search found nothing");
    }
    // The first screenful of a day, as a phone's list asks for it.
    let mut first_us = Vec::with_capacity(samples);
    for _ in 0..samples {
        let filter = day_filter(&days[rng.below(days.len() as u64) as usize])?;
        let t = Instant::now();
        let (page, total) = store.programme_page(&f, &filter, 0, 50)?;
        first_us.push(t.elapsed().as_secs_f64() * 1e6);
        anyhow::ensure!(page.len() == total.min(50), "a short first page");
    }
    // A page deep into a day (as the web's "next" links ask): the rows before it are skipped.
    let mut deep_us = Vec::with_capacity(samples);
    for i in 0..samples {
        let filter = day_filter(&days[rng.below(days.len() as u64) as usize])?;
        let offset = (i % 100) * 17;
        let t = Instant::now();
        let (page, total) = store.programme_page(&f, &filter, offset, 50)?;
        deep_us.push(t.elapsed().as_secs_f64() * 1e6);
        anyhow::ensure!(page.len() == total.saturating_sub(offset).min(50), "a short deep page");
    }
    let all = store.programme(&f, &ProgrammeFilter::default())?;
    drop(store);
    let baseline_us = plain_day_read(dir.path(), &all, &days, samples)?;
    let plain_fts_us = plain_fts_search(&path, &words, samples)?;
    // App launch: open the store and answer the first day's programme.
    let mut open_ms = Vec::new();
    for _ in 0..7 {
        let t = Instant::now();
        let s = Store::open(&path)?;
        let first = s.programme(&f, &day_filter(&days[0])?)?;
        open_ms.push(t.elapsed().as_secs_f64() * 1e3);
        anyhow::ensure!(!first.is_empty(), "empty first day");
    }
    let ops = scenario.ops.len();
    let out = json!({
        "bench": "query",
        "events": total,
        "ops": ops,
        "days": days.len(),
        "rows_per_day_query": day_rows as f64 / samples as f64,
        "query_day_p50_us": p50(day_us.clone()),
        "rust_day_p50_us": p50(day_us.clone()),
        "baseline_day_p50_us": baseline_us,
        "day_vs_baseline": p50(day_us.clone()) / baseline_us,
        "search_vs_baseline": p50(search_us.clone()) / baseline_us,
        "plain_fts_p50_us": plain_fts_us,
        "search_vs_plain_fts": p50(search_us.clone()) / plain_fts_us,
        "first_50_p50_us": p50(first_us.clone()),
        "first_50_p95_us": p95(first_us),
        "page_50_at_offset_p50_us": p50(deep_us.clone()),
        "page_50_at_offset_p95_us": p95(deep_us),
        "query_day_p95_us": p95(day_us),
        "query_search_p50_us": p50(search_us.clone()),
        "query_search_p95_us": p95(search_us),
        "open_ms": p50(open_ms),
        "store_bytes_per_op": store_bytes(dir.path()) as f64 / ops as f64,
        "store_bytes_per_op_by_table": store_breakdown(&path, ops)?,
    });
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(())
}

fn ffi(dir: &Path, samples: usize) -> Result<()> {
    let node = meadow_ffi::MeadowNode::open(dir.to_string_lossy().into_owned())?;
    // The executor that polls the calls, as Kotlin's or Swift's would: not the node's runtime.
    let rt = tokio::runtime::Builder::new_current_thread().build()?;
    let fid = rt.block_on(node.festivals())?.into_iter().next().context("no festival in the store")?.id;
    let festival = fid.to_hex();
    let mut days: Vec<String> =
        rt.block_on(node.programme(festival.clone(), None))?.into_iter().map(|e| e.day).collect();
    days.dedup();
    let store = Store::open(&dir.join("meadow.sqlite3"))?;
    let time = |what: &str, n: usize, f: &mut dyn FnMut(&str) -> Result<usize>| -> Result<f64> {
        let mut us = Vec::with_capacity(n);
        for i in 0..100 + n {
            let t = Instant::now();
            let rows = f(&days[i % days.len()])?;
            // The first calls warm the caches.
            if i >= 100 {
                us.push(t.elapsed().as_secs_f64() * 1e6);
            }
            anyhow::ensure!(rows > 0, "{what}: no rows");
        }
        Ok(p50(us))
    };
    let day = |d: &str| meadow_ffi::ProgrammeQuery { day: Some(d.to_owned()), ..Default::default() };
    let core = time("core", samples, &mut |d| {
        let filter = ProgrammeFilter { day: Some(d.parse().context("day")?), ..Default::default() };
        Ok(store.programme(&fid, &filter)?.len())
    })?;
    let ffi_day = time("ffi day", samples, &mut |d| {
        Ok(rt.block_on(node.programme(festival.clone(), Some(d.to_owned())))?.len())
    })?;
    let ffi_view = time("ffi view", samples, &mut |d| {
        Ok(rt.block_on(node.day_view(festival.clone(), day(d), 0, 100_000))?.rows.len())
    })?;
    let ffi_first = time("ffi first 50", samples * 4, &mut |d| {
        Ok(rt.block_on(node.day_view(festival.clone(), day(d), 0, 50))?.rows.len())
    })?;
    let out = json!({
        "bench": "ffi",
        "rust_day_p50_us": core,
        "ffi_day_p50_us": ffi_day,
        "ffi_day_view_p50_us": ffi_view,
        "ffi_first_50_p50_us": ffi_first,
    });
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(())
}

/// The plainest SQLite read of a day's rows, the yardstick the day query is measured against:
/// one indexed range over a table that holds only the columns a list shows, each row read into
/// owned strings. Returns the median over `samples` reads of random days, in microseconds.
/// The floor under search: a plain FTS5 MATCH of the same queries (the same prefix terms) on the
/// same rows of the same store file, best first, 50 hits, reading each hit's title. Returns the
/// p50 in microseconds.
fn plain_fts_search(store: &Path, words: &[&str], samples: usize) -> Result<f64> {
    let conn = rusqlite::Connection::open_with_flags(store, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let mut stmt =
        conn.prepare("SELECT rowid, title FROM events_fts WHERE events_fts MATCH ?1 ORDER BY rank LIMIT 50")?;
    let mut us = Vec::with_capacity(samples);
    for i in 0..samples {
        let terms: Vec<String> = words[i % words.len()]
            .split(|c: char| !c.is_alphanumeric())
            .filter(|t| !t.is_empty())
            .map(|t| format!("\"{t}\"*"))
            .collect();
        let t = Instant::now();
        let hits = stmt
            .query_map([terms.join(" ")], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))?
            .collect::<Result<Vec<_>, _>>()?;
        us.push(t.elapsed().as_secs_f64() * 1e6);
        anyhow::ensure!(!hits.is_empty() || i % words.len() >= 10, "plain search found nothing");
    }
    Ok(p50(us))
}

fn plain_day_read(dir: &Path, all: &[meadow_core::view::EventView], days: &[String], samples: usize) -> Result<f64> {
    let conn = rusqlite::Connection::open(dir.join("baseline.sqlite3"))?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         CREATE TABLE plain (day TEXT, start INTEGER, end INTEGER, id BLOB, title TEXT, subtitle TEXT, venue TEXT,
                             track TEXT, tags TEXT, people TEXT, cancelled INTEGER, official INTEGER);
         CREATE INDEX plain_day ON plain (day, start);",
    )?;
    {
        let tx = conn.unchecked_transaction()?;
        let mut ins = tx.prepare("INSERT INTO plain VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)")?;
        for e in all {
            ins.execute(rusqlite::params![
                e.day,
                e.start,
                e.end,
                &e.id.0[..],
                e.title,
                e.subtitle,
                e.venue_name,
                e.track,
                e.tags.join("\u{1f}"),
                e.people.join("\u{1f}"),
                e.cancelled,
                e.official
            ])?;
        }
        drop(ins);
        tx.commit()?;
    }
    type Row = (i64, i64, Vec<u8>, String, String, String, String, String, String, bool, bool);
    let mut stmt = conn.prepare(
        "SELECT start, end, id, title, subtitle, venue, track, tags, people, cancelled, official
         FROM plain WHERE day = ? ORDER BY start",
    )?;
    let mut rng = Rng::new(5);
    let mut us = Vec::with_capacity(samples);
    for i in 0..samples + 50 {
        let day = &days[rng.below(days.len() as u64) as usize];
        let t = Instant::now();
        let rows: Vec<Row> = stmt
            .query_map([day], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                    r.get(7)?,
                    r.get(8)?,
                    r.get(9)?,
                    r.get(10)?,
                ))
            })?
            .collect::<Result<_, _>>()?;
        // The first reads warm the page cache, as the day query's own samples had theirs warm.
        if i >= 50 {
            us.push(t.elapsed().as_secs_f64() * 1e6);
        }
        anyhow::ensure!(!rows.is_empty(), "an empty baseline day");
    }
    Ok(p50(us))
}

/// A node holding `ops` (ingested in batches, as sync would deliver them).
fn node_with(dir: &Path, ops: &[meadow_core::op::Op]) -> Result<Node> {
    let mut n = Node::open(dir)?;
    for chunk in ops.chunks(2000) {
        n.ingest(chunk.to_vec())?;
    }
    Ok(n)
}

/// Bytes negentropy exchanges to reconcile the same (Lamport, id) sets.
fn negentropy_bytes(full: &[meadow_core::op::Op], partial: &[meadow_core::op::Op]) -> Result<u64> {
    use negentropy::{Id, Negentropy, NegentropyStorageVector};
    let storage = |ops: &[meadow_core::op::Op]| -> Result<NegentropyStorageVector> {
        let mut st = NegentropyStorageVector::with_capacity(ops.len());
        for op in ops {
            st.insert(op.lamport(), Id::from_byte_array(op.id().0)).map_err(|e| anyhow::anyhow!("{e:?}"))?;
        }
        st.seal().map_err(|e| anyhow::anyhow!("{e:?}"))?;
        Ok(st)
    };
    let mut client = Negentropy::owned(storage(partial)?, 0).map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let mut server = Negentropy::owned(storage(full)?, 0).map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let mut msg = client.initiate().map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let mut total = msg.len() as u64;
    let (mut have, mut need) = (Vec::new(), Vec::new());
    loop {
        let reply = server.reconcile(&msg).map_err(|e| anyhow::anyhow!("{e:?}"))?;
        total += reply.len() as u64;
        match client.reconcile_with_ids(&reply, &mut have, &mut need).map_err(|e| anyhow::anyhow!("{e:?}"))? {
            Some(next) => {
                total += next.len() as u64;
                msg = next;
            }
            None => break,
        }
    }
    anyhow::ensure!(
        need.len() == full.len() - partial.len(),
        "negentropy found {} of {} missing",
        need.len(),
        full.len() - partial.len()
    );
    Ok(total)
}

struct SyncRun {
    bytes: u64,
    op_bytes: u64,
    /// Bytes of the frames that carried ops, both ways.
    op_frame_bytes: u64,
    ops: u64,
    round_trips: u64,
    seconds: f64,
}

fn run_sync(b: &mut Node, a: &mut Node, festival: &meadow_core::op::FestivalId) -> Result<SyncRun> {
    use meadow_core::node::SessionEnd;
    use meadow_tests::simnet::{Link, sync_pair};
    let t = Instant::now();
    let link = Link::lan();
    let out = sync_pair(b, a, festival, &link, &meadow_core::sync::Config::default(), 600_000);
    let seconds = t.elapsed().as_secs_f64();
    let (Some(SessionEnd::Finished(mine)), Some(SessionEnd::Finished(theirs))) = (&out.initiator, &out.responder)
    else {
        anyhow::bail!("sync did not finish: {out:?}");
    };
    Ok(SyncRun {
        bytes: out.bytes_up + out.bytes_down,
        op_bytes: mine.op_bytes_received,
        op_frame_bytes: mine.op_frame_bytes_sent + theirs.op_frame_bytes_sent,
        ops: mine.ops_received,
        round_trips: mine.rounds,
        seconds,
    })
}

fn sync(n: usize, authors: usize) -> Result<()> {
    eprintln!("generating {n} ops by {authors} authors...");
    let mut s = benchmark_festival(42, n, authors);
    // The newest ops are what a device that was away lacks.
    s.ops.sort_by_key(|o| o.order_key());
    let dir = tempfile::tempdir()?;
    eprintln!("filling the full peer...");
    let t = Instant::now();
    let mut a = node_with(&dir.path().join("a"), &s.ops)?;
    let local_ingest_s = t.elapsed().as_secs_f64();

    eprintln!("in sync...");
    let mut b = node_with(&dir.path().join("b"), &s.ops)?;
    let in_sync = run_sync(&mut b, &mut a, &s.festival)?;
    anyhow::ensure!(in_sync.ops == 0, "peers in sync exchanged ops");
    let mut figures = serde_json::Map::new();
    for (pct, label) in [(1usize, "1pct"), (50, "50pct")] {
        eprintln!("{pct}% missing...");
        let keep = n - n * pct / 100;
        let mut c = node_with(&dir.path().join(format!("c{pct}")), &s.ops[..keep])?;
        let run = run_sync(&mut c, &mut a, &s.festival)?;
        let missing = (n - keep) as u64;
        anyhow::ensure!(run.ops == missing, "received {} of {missing} missing ops", run.ops);
        // Reconciliation: what the session cost beyond the frames that carried ops.
        let overhead = run.bytes.saturating_sub(run.op_frame_bytes);
        figures.insert(format!("diff_op_bytes_{label}"), json!(run.op_bytes));
        figures.insert(format!("diff_op_frame_bytes_{label}"), json!(run.op_frame_bytes));
        figures.insert(format!("diff_overhead_bytes_per_op_{label}"), json!(overhead as f64 / missing as f64));
        figures.insert(format!("diff_overhead_bytes_{label}"), json!(overhead));
        figures.insert(format!("diff_total_bytes_{label}"), json!(run.bytes));
        figures.insert(format!("round_trips_{label}"), json!(run.round_trips));
        figures.insert(format!("negentropy_diff_bytes_{label}"), json!(negentropy_bytes(&s.ops, &s.ops[..keep])?));
    }
    eprintln!("empty peer...");
    let mut e = Node::open(&dir.path().join("e"))?;
    let full = run_sync(&mut e, &mut a, &s.festival)?;
    anyhow::ensure!(full.ops == n as u64, "full sync moved {} of {n} ops", full.ops);
    drop(e);
    eprintln!("empty peer over iroh on loopback...");
    let iroh = iroh_full_sync(a, Node::open(&dir.path().join("f"))?, s.festival, n)?;
    let mut out = json!({
        "bench": "sync",
        "ops": n,
        "authors": authors,
        "in_sync_bytes": in_sync.bytes,
        "round_trips_in_sync": in_sync.round_trips,
        "negentropy_in_sync_bytes": negentropy_bytes(&s.ops, &s.ops)?,
        "full_sync_s": iroh.full_sync_s,
        "live_push_p50_ms": iroh.live_push_p50_ms,
        "live_push_p95_ms": iroh.live_push_p95_ms,
        "live_push_samples": LIVE_PUSH_SAMPLES,
        "full_sync_inprocess_s": full.seconds,
        "local_ingest_s": local_ingest_s,
        "full_sync_bytes": full.bytes,
        "full_sync_op_bytes": full.op_bytes,
        "full_sync_bytes_vs_op_bytes": full.bytes as f64 / full.op_bytes.max(1) as f64,
    });
    if let Some(o) = out.as_object_mut() {
        o.extend(figures);
    }
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(())
}

/// What the iroh runs measured.
struct IrohRun {
    full_sync_s: f64,
    live_push_p50_ms: f64,
    live_push_p95_ms: f64,
}

/// Ops written on one node and timed until the connected peer stored them.
const LIVE_PUSH_SAMPLES: usize = 40;

/// Over iroh (QUIC on loopback): seconds for an empty node to fetch the whole festival from
/// `full`; then, while the two stay connected, the time from an op written on `full` to the
/// other node's change feed saying it stored it (so the op is readable there).
fn iroh_full_sync(full: Node, empty: Node, festival: meadow_core::op::FestivalId, n: usize) -> Result<IrohRun> {
    use meadow_core::feed::Scope;
    use meadow_core::net::{Net, NetConfig};
    use std::sync::{Arc, Mutex};
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    rt.block_on(async move {
        let a = Arc::new(Mutex::new(full));
        let b = Arc::new(Mutex::new(empty));
        let na = Net::start(a.clone(), NetConfig::loopback()).await?;
        let nb = Net::start(b.clone(), NetConfig::loopback()).await?;
        let t = Instant::now();
        let end = nb.sync_with(na.addr(), festival).await?;
        let full_sync_s = t.elapsed().as_secs_f64();
        anyhow::ensure!(matches!(end, meadow_core::node::SessionEnd::Finished(_)), "iroh sync failed: {end:?}");
        let got = b.lock().map_err(|_| anyhow::anyhow!("lock"))?.store().op_count()?;
        anyhow::ensure!(got == n as u64, "iroh sync moved {got} of {n} ops");
        let feed = b.lock().map_err(|_| anyhow::anyhow!("lock"))?.subscribe();
        let mut samples = Vec::with_capacity(LIVE_PUSH_SAMPLES);
        for i in 0..LIVE_PUSH_SAMPLES {
            // Let the previous push (and B's answering push back) settle.
            tokio::time::sleep(std::time::Duration::from_millis(30)).await;
            while feed.try_next().is_some() {}
            let writer = a.clone();
            let t = Instant::now();
            tokio::task::spawn_blocking(move || -> Result<()> {
                let mut n = writer.lock().map_err(|_| anyhow::anyhow!("lock"))?;
                n.set_display_name(festival, &format!("info point {i}"))?;
                Ok(())
            })
            .await??;
            let stored = tokio::time::timeout(std::time::Duration::from_secs(10), async {
                while let Some(changes) = feed.next().await {
                    if changes.scopes(&festival).contains(Scope::Profiles) {
                        return true;
                    }
                }
                false
            })
            .await;
            anyhow::ensure!(matches!(stored, Ok(true)), "live push {i} did not arrive");
            samples.push(t.elapsed().as_secs_f64() * 1e3);
        }
        nb.shutdown().await;
        na.shutdown().await;
        Ok(IrohRun { full_sync_s, live_push_p50_ms: p50(samples.clone()), live_push_p95_ms: p95(samples) })
    })
}

/// An empty phone meets the info point over Bluetooth: when the announcements are in, when the
/// whole programme is, what share of the link carried ops; then the crowd simulation.
fn proximity(events: usize, announcements: usize) -> Result<()> {
    use meadow_tests::crowd::{CrowdConfig, run};
    use meadow_tests::radio::{Radio, empty_node, programme_with_announcements, swap};
    eprintln!("generating a festival of {events} events and {announcements} announcements");
    let s = programme_with_announcements(7, events, announcements);
    let mut info = empty_node(1);
    info.ingest(s.ops.clone()).context("ingest")?;
    let mut phone = empty_node(2);
    let radio = Radio::gatt(185, 20_000);
    let mut ready_ms = None;
    let festival = s.festival;
    let started = Instant::now();
    eprintln!("swapping over a simulated 20 KB/s link (MTU 185)");
    let out = swap(&mut phone, &mut info, &festival, &radio, 24 * 3_600_000, &mut |n, ms| {
        if ready_ms.is_none() && n.announcements(&festival, 0).is_ok_and(|a| a.len() == announcements) {
            ready_ms = Some(ms);
        }
    });
    let finished = matches!(out.dialler, Some(meadow_core::node::SessionEnd::Finished(_)));
    anyhow::ensure!(finished, "the swap did not finish: {out:?}");
    anyhow::ensure!(
        phone.op_count()? == s.ops.len() as u64,
        "the phone holds {} of {} ops",
        phone.op_count()?,
        s.ops.len()
    );
    let swap_wall_s = started.elapsed().as_secs_f64();
    // The same over an L2CAP channel at the same air rate: no ATT header per packet, and the
    // channel's own flow control instead of GATT's.
    eprintln!("swapping over a simulated 20 KB/s L2CAP channel");
    let l2cap = Radio { transport: meadow_core::proximity::Transport::Stream, ..radio.clone() };
    let mut phone2 = empty_node(3);
    let over_l2cap = swap(&mut phone2, &mut info, &festival, &l2cap, 24 * 3_600_000, &mut |_, _| {});
    anyhow::ensure!(
        matches!(over_l2cap.dialler, Some(meadow_core::node::SessionEnd::Finished(_)))
            && phone2.op_count()? == s.ops.len() as u64,
        "the L2CAP swap did not finish: {over_l2cap:?}"
    );
    let ops = s.ops.len() as f64;
    eprintln!("running the crowd: 200 phones, with and without a spammer");
    let crowd = run(&CrowdConfig::default());
    let quiet = run(&CrowdConfig { spam_ops: 0, ..CrowdConfig::default() });
    // The same crowd at the goodput of packed frames (sync version 2, community ops from fresh
    // keys: the slower case).
    let packed = CrowdConfig { goodput: 2.0, ..CrowdConfig::default() };
    let crowd_packed = run(&packed);
    let quiet_packed = run(&CrowdConfig { spam_ops: 0, ..packed });
    let json = serde_json::json!({
        "bench": "proximity",
        "events": events,
        "announcements": announcements,
        "link": {"mtu": 185, "bytes_per_s": 20_000, "latency_ms": radio.latency_ms},
        "announcements_ready_s": ready_ms.map(|ms| ms as f64 / 1000.0),
        "full_programme_s": out.elapsed_ms as f64 / 1000.0,
        "goodput_ratio": (out.op_bytes as f64 / out.link_bytes as f64 * 1000.0).round() / 1000.0,
        "link_bytes": out.link_bytes,
        "op_bytes": out.op_bytes,
        "wire_bytes_per_op": out.op_bytes as f64 / ops,
        "link_bytes_per_op": out.link_bytes as f64 / ops,
        "link_vs_op_bytes": out.link_bytes as f64 / out.op_bytes as f64,
        "l2cap": {
            "full_programme_s": over_l2cap.elapsed_ms as f64 / 1000.0,
            "link_bytes": over_l2cap.link_bytes,
            "link_bytes_per_op": over_l2cap.link_bytes as f64 / ops,
        },
        "swap_wall_s": swap_wall_s,
        "crowd": {
            "phones": 200, "festival_ops": 5_000, "spam_ops": 10_000,
            "p90_announcement_s": crowd.p90_announcement_s,
            "per_announcement_p90_s": crowd.announcement_p90_s,
            "connections_per_phone_hour": crowd.connections_per_phone_hour,
            "max_connections_per_phone_hour": crowd.max_connections_per_phone_hour,
            "swaps": crowd.swaps, "swaps_cut": crowd.swaps_cut,
        },
        "crowd_without_spam": {
            "p90_announcement_s": quiet.p90_announcement_s,
            "connections_per_phone_hour": quiet.connections_per_phone_hour,
        },
        "crowd_spam_vs_quiet_p90": crowd.p90_announcement_s / quiet.p90_announcement_s,
        "crowd_at_packed_goodput": {
            "goodput": 2.0,
            "p90_announcement_s": crowd_packed.p90_announcement_s,
            "per_announcement_p90_s": crowd_packed.announcement_p90_s,
            "connections_per_phone_hour": crowd_packed.connections_per_phone_hour,
            "p90_announcement_s_without_spam": quiet_packed.p90_announcement_s,
        },
        "crowd_of_nodes": crowd_of_nodes()?,
    });
    println!("{}", serde_json::to_string_pretty(&json)?);
    Ok(())
}

/// A crowd of real nodes (stores, sessions, the simulated radio) with and without a spammer,
/// and the model run with the same settings: how far the model is from real sessions.
fn crowd_of_nodes() -> Result<serde_json::Value> {
    use meadow_tests::crowd::{CrowdReport, run};
    use meadow_tests::crowd_nodes::{self, NodeCrowdConfig};
    let cfg = NodeCrowdConfig::default();
    eprintln!("running a crowd of {} real nodes, with and without a spammer", cfg.phones);
    let started = Instant::now();
    let nodes = crowd_nodes::run(&cfg);
    let quiet_cfg = NodeCrowdConfig { spam_ops: 0, ..cfg.clone() };
    let nodes_quiet = crowd_nodes::run(&quiet_cfg);
    let wall_s = started.elapsed().as_secs_f64();
    // The model's goodput: what packed frames of the spam measure (the lower of the two), the
    // radio's share of the air as the GATT swaps measure it aside.
    let goodput = nodes.packed_goodput.0.min(nodes.packed_goodput.1) * 0.97;
    let model = run(&cfg.model(nodes.festival_ops, nodes.op_bytes, goodput));
    let model_quiet = run(&quiet_cfg.model(nodes.festival_ops, nodes.op_bytes, goodput));
    let figures = |r: &CrowdReport| {
        json!({
            "p90_announcement_s": r.p90_announcement_s,
            "per_announcement_p90_s": r.announcement_p90_s,
            "connections_per_phone_hour": r.connections_per_phone_hour,
            "swaps": r.swaps, "swaps_cut": r.swaps_cut,
            "spam_held_mean": r.spam_held_mean,
        })
    };
    Ok(json!({
        "phones": cfg.phones, "festival_ops": nodes.festival_ops, "spam_ops": cfg.spam_ops,
        "announcements": cfg.announcements, "minutes": cfg.duration_ms / 60_000, "op_bytes": nodes.op_bytes,
        "nodes": figures(&nodes.report), "nodes_without_spam": figures(&nodes_quiet.report),
        "model": figures(&model), "model_without_spam": figures(&model_quiet),
        "nodes_vs_model_p90": nodes.report.p90_announcement_s / model.p90_announcement_s,
        "nodes_vs_model_p90_without_spam": nodes_quiet.report.p90_announcement_s / model_quiet.p90_announcement_s,
        "link_bytes": nodes.link_bytes,
        "packed_goodput_programme": nodes.packed_goodput.0,
        "packed_goodput_spam": nodes.packed_goodput.1,
        "model_goodput": goodput,
        "wall_s": wall_s,
    }))
}

/// Numbers the requests of a template with `{n}` in it, so that each one misses the cache.
static WEB_REQUEST_NO: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// One client's keep-alive loop: requests until `until`, latencies in microseconds.
async fn web_client(
    addr: std::net::SocketAddr,
    request: std::sync::Arc<Vec<u8>>,
    expect: u16,
    until: Instant,
) -> Result<Vec<u32>> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await?;
    s.set_nodelay(true)?;
    let mut lat = Vec::new();
    let mut buf: Vec<u8> = Vec::with_capacity(64 * 1024);
    let mut chunk = vec![0u8; 64 * 1024];
    let numbered = request.windows(3).any(|w| w == b"{n}") || request.windows(6).any(|w| w == b"{from}");
    while Instant::now() < until {
        let t = Instant::now();
        if numbered {
            let n = WEB_REQUEST_NO.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            // `{from}`: one of 100 page offsets, so that concurrent clients ask for distinct pages.
            let text = String::from_utf8_lossy(&request)
                .replace("{n}", &n.to_string())
                .replace("{from}", &((n % 100) * 17).to_string());
            s.write_all(text.as_bytes()).await?;
        } else {
            s.write_all(&request).await?;
        }
        buf.clear();
        let (head_end, len) = loop {
            let n = s.read(&mut chunk).await?;
            anyhow::ensure!(n > 0, "server closed the connection");
            buf.extend_from_slice(&chunk[..n]);
            if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = std::str::from_utf8(&buf[..end])?;
                let status: u16 = head.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
                anyhow::ensure!(status == expect, "expected {expect}, got {status}");
                let len = head
                    .lines()
                    .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_owned()))
                    .and_then(|v| v.parse::<usize>().ok())
                    .unwrap_or(0);
                break (end + 4, len);
            }
        };
        while buf.len() < head_end + len {
            let n = s.read(&mut chunk).await?;
            anyhow::ensure!(n > 0, "server closed the connection");
            buf.extend_from_slice(&chunk[..n]);
        }
        lat.push(t.elapsed().as_micros().min(u128::from(u32::MAX)) as u32);
    }
    Ok(lat)
}

/// Requests per second and latency percentiles of `clients` clients sending `request`.
fn web_load(
    rt: &tokio::runtime::Runtime,
    addr: std::net::SocketAddr,
    request: String,
    expect: u16,
    clients: usize,
    seconds: f64,
) -> Result<serde_json::Value> {
    let request = std::sync::Arc::new(request.into_bytes());
    let start = Instant::now();
    let until = start + std::time::Duration::from_secs_f64(seconds);
    let mut all: Vec<u32> = rt.block_on(async {
        let tasks: Vec<_> =
            (0..clients).map(|_| tokio::spawn(web_client(addr, request.clone(), expect, until))).collect();
        let mut all = Vec::new();
        for t in tasks {
            all.extend(t.await??);
        }
        Ok::<_, anyhow::Error>(all)
    })?;
    let elapsed = start.elapsed().as_secs_f64();
    all.sort_unstable();
    let pct =
        |p: f64| all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1))).copied().unwrap_or(0);
    Ok(json!({
        "requests": all.len(),
        "req_per_s": (all.len() as f64 / elapsed).round(),
        "p50_ms": f64::from(pct(0.50)) / 1000.0,
        "p99_ms": f64::from(pct(0.99)) / 1000.0,
    }))
}

fn web(n_events: usize, clients: usize, seconds: f64) -> Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let mut out = serde_json::Map::new();
    for (name, size) in [("demo", None), ("large", Some(n_events))] {
        let mut node = Node::in_memory(meadow_core::identity::Identity::from_seed(4242))?;
        let festival = match size {
            None => {
                let today = jiff::Timestamp::now().to_zoned_datetime(jiff::tz::TimeZone::UTC).date();
                meadow_core::demo::create_demo(&mut node, today)?.0
            }
            Some(n) => {
                eprintln!("building a festival with {n} events...");
                let scenario = benchmark_festival(7, n * 4 / 3 + 100, (n / 10).max(10));
                for chunk in scenario.ops.chunks(2000) {
                    node.ingest(chunk.to_vec())?;
                }
                node.use_festival(&scenario.festival)?;
                scenario.festival
            }
        };
        let events = node.programme(&festival, &ProgrammeFilter::default())?.len();
        let busiest = node.days(&festival)?.into_iter().max_by_key(|d| d.events).map(|d| d.date).context("no days")?;
        let shared = std::sync::Arc::new(std::sync::Mutex::new(node));
        // Every client of the benchmark comes from one address.
        let cfg = meadow_web::WebConfig {
            max_per_client: clients.max(64),
            ..meadow_web::WebConfig::new(std::net::SocketAddr::from(([127, 0, 0, 1], 0)))
        };
        let web = rt.block_on(meadow_web::Web::start(shared.clone(), cfg.clone(), None))?;
        let addr = web.addr();
        // The same node served with no cache at all: every request renders, as after a change.
        let uncached_cfg = meadow_web::WebConfig { cache_entries: 0, ..cfg };
        let uncached = rt.block_on(meadow_web::Web::start(shared, uncached_cfg, None))?;
        let page = format!("GET /day/{busiest} HTTP/1.1\r\nHost: bench\r\n\r\n");
        let etag = {
            let (tx, rx) = std::sync::mpsc::channel();
            let probe = "GET /schedule.xml HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n";
            rt.block_on(async {
                use tokio::io::{AsyncReadExt, AsyncWriteExt};
                let mut s = tokio::net::TcpStream::connect(addr).await?;
                s.write_all(probe.as_bytes()).await?;
                let mut b = Vec::new();
                s.read_to_end(&mut b).await?;
                let text = String::from_utf8_lossy(&b).into_owned();
                let tag = text
                    .lines()
                    .find_map(|l| l.to_ascii_lowercase().starts_with("etag:").then(|| l[5..].trim().to_owned()))
                    .context("no etag")?;
                tx.send((tag, b.len()))?;
                Ok::<_, anyhow::Error>(())
            })?;
            rx.recv()?
        };
        let poll = format!("GET /schedule.xml HTTP/1.1\r\nHost: bench\r\nIf-None-Match: {}\r\n\r\n", etag.0);
        eprintln!("{name}: {events} events; page of {busiest}; 304 on schedule.xml ({} bytes)", etag.1);
        let page_load = web_load(&rt, addr, page.clone(), 200, clients, seconds)?;
        // Every request the page rendered from the store (all clients asking for the same page at
        // once, as after a change; misses of one page are rendered once for all who wait).
        let render_load = web_load(&rt, uncached.addr(), page, 200, clients, seconds)?;
        // Misses of distinct pages (100 offsets into the busiest day), none of which can share a
        // render: formatting runs outside the node's lock, so only the store reads queue on it.
        let distinct = format!("GET /day/{busiest}?from={{from}} HTTP/1.1\r\nHost: bench\r\n\r\n");
        let distinct_load = web_load(&rt, uncached.addr(), distinct, 200, clients, seconds)?;
        // Cache-busting: every request with a parameter of its own, which the page does not read.
        let busting = format!("GET /day/{busiest}?r={{n}} HTTP/1.1\r\nHost: bench\r\n\r\n");
        let busting_load = web_load(&rt, addr, busting, 200, clients, seconds)?;
        let poll_load = web_load(&rt, addr, poll, 304, clients, seconds)?;
        out.insert(
            name.into(),
            json!({ "events": events, "schedule_xml_bytes": etag.1, "programme_page": page_load,
                "programme_page_uncached": render_load, "distinct_pages_uncached": distinct_load,
                "programme_page_cache_busting": busting_load,
                "schedule_xml_304": poll_load }),
        );
        let _guard = rt.enter();
        drop(web);
        drop(uncached);
    }
    out.insert("clients".into(), json!(clients));
    out.insert("seconds".into(), json!(seconds));
    println!("{}", serde_json::to_string_pretty(&serde_json::Value::Object(out))?);
    Ok(())
}
