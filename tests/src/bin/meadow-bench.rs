//! `meadow-bench`: reproducible speed figures for Meadow, as JSON on stdout.
//!
//! `meadow-bench ingest --ops 50000 --authors 1000` and `meadow-bench query --events 10000`.

use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use meadow_core::demo::Rng;
use meadow_core::node::{Imported, Node};
use meadow_core::op::{Body, Op};
use meadow_core::store::{ProgrammeFilter, Store};
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
    /// Import of a generated frab schedule, then a re-import of the same file.
    Import {
        /// Number of events in the schedule.
        #[arg(long, default_value_t = 2_000)]
        events: usize,
    },
    /// Programme queries, search and app launch over a festival of this many events.
    Query {
        /// Number of events.
        #[arg(long, default_value_t = 10_000)]
        events: usize,
        /// Samples per query kind.
        #[arg(long, default_value_t = 300)]
        samples: usize,
    },
}

fn main() -> Result<()> {
    match Cli::parse().command {
        Cmd::Ingest { ops, authors, batch } => ingest(ops, authors, batch),
        Cmd::Query { events, samples } => query(events, samples),
        Cmd::Import { events } => import(events),
    }
}

fn import(events: usize) -> Result<()> {
    let xml = meadow_tests::frab_schedule_xml(events, 1);
    let dir = tempfile::tempdir()?;
    let mut node = Node::open(dir.path())?;
    let t = Instant::now();
    let outcome = node.import(xml.as_bytes(), None, None, false, &mut |_, _| {})?;
    let import_s = t.elapsed().as_secs_f64();
    let Imported::Schedule { festival, summary, .. } = outcome else { anyhow::bail!("not a schedule") };
    anyhow::ensure!(summary.added == events, "imported {} of {events}", summary.added);
    let ops = node.store().op_count()?;
    let t = Instant::now();
    let again = node.import(xml.as_bytes(), None, None, false, &mut |_, _| {})?;
    let reimport_ms = t.elapsed().as_secs_f64() * 1e3;
    let Imported::Schedule { summary: again, .. } = again else { anyhow::bail!("not a schedule") };
    anyhow::ensure!(again.is_noop() && node.store().op_count()? == ops, "re-import changed something");
    let v2 = meadow_tests::frab_schedule_xml(events, 2);
    let t = Instant::now();
    let update = node.import(v2.as_bytes(), None, Some(festival), false, &mut |_, _| {})?;
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

fn ingest(n: usize, authors: usize, batch: usize) -> Result<()> {
    eprintln!("generating {n} ops by {authors} authors...");
    let scenario = benchmark_festival(42, n, authors);
    let wire: Vec<Vec<u8>> = scenario.ops.iter().map(|o| o.bytes().to_vec()).collect();
    let wire_bytes: usize = wire.iter().map(Vec::len).sum();

    // Ceiling: plain single-threaded strict ed25519 verification of the same ops.
    let decoded: Vec<Op> = wire.iter().map(|b| Op::decode(b)).collect::<Result<_, _>>()?;
    let t = Instant::now();
    for op in &decoded {
        op.verify_signature()?;
    }
    let verify_s = t.elapsed().as_secs_f64();

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
        "reingest_duplicates_ops_per_s": n as f64 / reingest_s,
        "store_bytes_per_op": store_bytes(dir.path()) as f64 / n as f64,
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

fn query(n_events: usize, samples: usize) -> Result<()> {
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
    if let Some(keep) = std::env::var_os("MEADOW_BENCH_KEEP") {
        std::fs::copy(&path, &keep)?;
    }
    let store = Store::open(&path)?;
    let days: Vec<String> = store.days(&f)?.into_iter().map(|(d, _)| d).collect();
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
    drop(store);
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
        "query_day_p95_us": p95(day_us),
        "query_search_p50_us": p50(search_us.clone()),
        "query_search_p95_us": p95(search_us),
        "open_ms": p50(open_ms),
        "store_bytes_per_op": store_bytes(dir.path()) as f64 / ops as f64,
    });
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(())
}
