//! Entity hierarchies that are deep, wide or shared: what loading one costs, Thuja beside
//! cedar-policy, and what re-parenting a folder near the root costs.
//!
//! `cargo run --release -p thuja-benches --example hierarchy -- SHAPE N ENGINE [--write FILE]`
//! makes an entities file of `N` `Folder` entities shaped as SHAPE, reads it with ENGINE
//! (`thuja` or `cedar`, one per process so that the peak resident set is the engine's) and
//! prints one JSON line: the time to read it, the live heap bytes the store holds (counted by
//! a global allocator), the peak resident set of the process (the generated text included),
//! and bytes per entity and per parent edge. For `thuja` it also times `in` on 200,000 random
//! (entity, folder) pairs, about half of them true, adds a folder under the last folder and a
//! file in that folder (two updates, timed), and re-parents the root's first child under its
//! second (`Entities::update`), reporting time and the bytes the new store adds. `--write FILE` writes the entities file and stops.
//!
//! Shapes: `chain` (each folder the parent of the next), `tree` (balanced, four children
//! each), `dag` (the tree, and each folder also in two random folders of its parent's
//! level: three parents), `window` (three parents chosen among the 50 folders before half the
//! folder's number: ancestors shared through many paths).

use std::alloc::System;
use std::collections::{BTreeMap, BTreeSet};
use std::hint::black_box;
use std::time::Instant;

use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// Live bytes added by building `f`'s result (kept alive until measured), and the time taken.
fn held<T>(f: impl FnOnce() -> T) -> (T, usize, f64) {
    let region = Region::new(GLOBAL);
    let started = Instant::now();
    let value = f();
    let ms = started.elapsed().as_secs_f64() * 1e3;
    let stats = region.change();
    let live = stats.bytes_allocated as i128 - stats.bytes_deallocated as i128
        + stats.bytes_reallocated as i128;
    (value, usize::try_from(live).unwrap_or(0), ms)
}

/// The process's peak resident set so far, in MiB.
fn peak_rss() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// A small deterministic generator.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) as usize) % n.max(1)
    }
}

/// Each folder's parents (folder numbers smaller than its own).
fn parents(shape: &str, n: usize) -> Vec<Vec<usize>> {
    let mut rng = Lcg(42);
    // The first folder of the level of tree folder `v` (levels of 1, 4, 16, ...).
    let level_start = |v: usize| {
        let (mut start, mut size) = (0usize, 1usize);
        while start + size <= v {
            start += size;
            size *= 4;
        }
        (start, size)
    };
    (0..n)
        .map(|i| match (shape, i) {
            (_, 0) => Vec::new(),
            ("chain", _) => vec![i - 1],
            ("tree", _) => vec![(i - 1) / 4],
            ("dag", _) => {
                let tree = (i - 1) / 4;
                let (start, size) = level_start(tree);
                let mut ps: BTreeSet<usize> = [tree].into();
                for _ in 0..2 {
                    ps.insert((start + rng.below(size)).min(i - 1));
                }
                ps.into_iter().collect()
            }
            ("window", _) => {
                let top = i / 2;
                let ps: BTreeSet<usize> = (0..3)
                    .map(|_| top.saturating_sub(1 + rng.below(50)).min(i - 1))
                    .collect();
                ps.into_iter().collect()
            }
            _ => {
                eprintln!("unknown shape {shape}: chain, tree, dag or window");
                std::process::exit(2);
            }
        })
        .collect()
}

fn entities_json(parents: &[Vec<usize>]) -> String {
    let mut out = String::with_capacity(parents.len() * 80);
    out.push('[');
    for (i, ps) in parents.iter().enumerate() {
        if i > 0 {
            out.push_str(",\n");
        }
        let ps: Vec<String> = ps
            .iter()
            .map(|p| format!("{{\"type\":\"Folder\",\"id\":\"f{p}\"}}"))
            .collect();
        out.push_str(&format!(
            "{{\"uid\":{{\"type\":\"Folder\",\"id\":\"f{i}\"}},\"attrs\":{{}},\"parents\":[{}]}}",
            ps.join(",")
        ));
    }
    out.push(']');
    out
}

fn folder(i: usize) -> thuja::EntityUid {
    thuja::uid("Folder", &format!("f{i}")).expect("uid")
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(shape), Some(n), Some(engine)) = (
        args.first(),
        args.get(1).and_then(|n| n.parse::<usize>().ok()),
        args.get(2),
    ) else {
        eprintln!("usage: hierarchy chain|tree|dag|window N thuja|cedar [--write FILE]");
        std::process::exit(2);
    };
    let parents = parents(shape, n);
    let edges: usize = parents.iter().map(Vec::len).sum();
    let text = entities_json(&parents);
    if let Some(at) = args.iter().position(|a| a == "--write") {
        let file = args.get(at + 1).expect("--write FILE");
        std::fs::write(file, &text).expect("write");
        return;
    }
    let per = |bytes: usize, count: usize| bytes as f64 / count.max(1) as f64;
    let mut line = format!(
        "{{\"shape\":\"{shape}\",\"entities\":{n},\"edges\":{edges},\"engine\":\"{engine}\",\"file_mb\":{:.1}",
        text.len() as f64 / 1e6
    );
    match engine.as_str() {
        "cedar" => {
            let (entities, bytes, ms) = held(|| {
                cedar_policy::Entities::from_json_str(&text, None).expect("cedar entities")
            });
            black_box(&entities);
            line += &format!(
                ",\"load_ms\":{ms:.0},\"held_mb\":{:.1},\"bytes_per_entity\":{:.0},\"bytes_per_edge\":{:.0}",
                bytes as f64 / 1e6,
                per(bytes, n),
                per(bytes, edges)
            );
        }
        _ => {
            let loaded = held(|| thuja::input::entities_from_str("e", &text, None));
            let (entities, bytes, ms) = match loaded {
                (Ok(entities), bytes, ms) => (entities, bytes, ms),
                (Err(e), _, ms) => {
                    println!("{line},\"load_ms\":{ms:.0},\"error\":{:?}}}", e.to_string());
                    return;
                }
            };
            line += &format!(
                ",\"load_ms\":{ms:.0},\"held_mb\":{:.1},\"bytes_per_entity\":{:.0},\"bytes_per_edge\":{:.0}",
                bytes as f64 / 1e6,
                per(bytes, n),
                per(bytes, edges)
            );
            line += &in_checks(&entities, &parents);
            line += &add_below(&entities, n);
            line += &reparent(&entities, &parents, shape);
        }
    }
    println!("{line},\"peak_rss_mb\":{:.0}}}", peak_rss());
}

/// Times `in` on random pairs: half (entity, one of its ancestors), half (entity, any folder).
fn in_checks(entities: &thuja::Entities, parents: &[Vec<usize>]) -> String {
    let n = parents.len();
    let mut rng = Lcg(7);
    let pairs: Vec<(&thuja::Entity, thuja::EntityUid)> = (0..200_000)
        .map(|k| {
            let e = rng.below(n);
            let other = match k % 2 {
                0 => {
                    // Up a random number of random parent steps.
                    let mut up = e;
                    for _ in 0..1 + rng.below(64) {
                        match parents[up].as_slice() {
                            [] => break,
                            ps => up = ps[rng.below(ps.len())],
                        }
                    }
                    up
                }
                _ => rng.below(n),
            };
            (entities.get(&folder(e)).expect("entity"), folder(other))
        })
        .collect();
    let started = Instant::now();
    let yes = pairs
        .iter()
        .filter(|(e, a)| black_box(e.is_descendant_of(a)))
        .count();
    let ns = started.elapsed().as_secs_f64() * 1e9 / pairs.len() as f64;
    format!(",\"in_ns\":{ns:.0},\"in_true\":{yes}")
}

/// Adds a folder under the last folder (the deepest of a chain), then a file in it, each an
/// update of the store before it, and reports the time of each.
fn add_below(entities: &thuja::Entities, n: usize) -> String {
    let new = |id: &str, parent: thuja::EntityUid| {
        thuja::Entity::new(
            thuja::uid("Folder", id).expect("uid"),
            BTreeMap::new(),
            [parent].into(),
            BTreeMap::new(),
        )
    };
    let started = Instant::now();
    let Ok(with_folder) = entities.update([new("new-folder", folder(n.saturating_sub(1)))], [])
    else {
        return String::new();
    };
    let folder_us = started.elapsed().as_secs_f64() * 1e6;
    let started = Instant::now();
    let parent = thuja::uid("Folder", "new-folder").expect("uid");
    let Ok(with_file) = with_folder.entities.update([new("new-file", parent)], []) else {
        return String::new();
    };
    let file_us = started.elapsed().as_secs_f64() * 1e6;
    format!(
        ",\"add_folder_us\":{folder_us:.0},\"add_file_us\":{file_us:.0},\"adds_layered\":{}",
        with_folder.changed.is_some() && with_file.changed.is_some()
    )
}

/// Re-parents the root's first child under its second (a quarter of a four-way tree; in a
/// chain, the fifth folder under the root), and reports what the update cost.
fn reparent(entities: &thuja::Entities, parents: &[Vec<usize>], shape: &str) -> String {
    let n = parents.len();
    let (moved, under) = match (n, shape) {
        (0..=8, _) => return String::new(),
        (_, "chain") => (5usize, 0usize),
        _ => (1, 2),
    };
    let descendants = {
        let mut children: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        for (c, ps) in parents.iter().enumerate() {
            for &p in ps {
                children.entry(p).or_default().push(c);
            }
        }
        let mut seen = BTreeSet::new();
        let mut stack = vec![moved];
        while let Some(v) = stack.pop() {
            for &c in children.get(&v).into_iter().flatten() {
                if seen.insert(c) {
                    stack.push(c);
                }
            }
        }
        seen.len()
    };
    let entity = thuja::Entity::new(
        folder(moved),
        BTreeMap::new(),
        [folder(under)].into(),
        BTreeMap::new(),
    );
    let (updated, bytes, ms) = held(|| entities.update([entity], []));
    match updated {
        Ok(updated) => {
            let moved_uid = folder(moved);
            let bottom = (0..n)
                .rev()
                .find(|&i| {
                    updated
                        .entities
                        .get(&folder(i))
                        .is_some_and(|e| e.is_descendant_of(&moved_uid))
                })
                .map(folder);
            let ok = bottom.is_some_and(|b| {
                updated
                    .entities
                    .get(&b)
                    .is_some_and(|e| e.is_descendant_of(&folder(under)))
            });
            format!(
                ",\"reparent_descendants\":{descendants},\"reparent_ms\":{ms:.0},\"reparent_held_mb\":{:.1},\"reparent_rebuilt\":{},\"reparent_checked\":{ok}",
                bytes as f64 / 1e6,
                updated.changed.is_none()
            )
        }
        Err(e) => format!(",\"reparent_error\":{:?}", e.to_string()),
    }
}
