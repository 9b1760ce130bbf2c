//! What changing one entity of a large engine costs: time and heap bytes, against building the
//! engine. A multi-tenant store of 1,000,000 entities (by default): tenants, groups in
//! tenants, users in groups, documents in tenants, and RBAC policies per group.
//!
//! `cargo run --release --example upsert_cost -- [ENTITIES]`
//!
//! Prints the build time, the first upsert (which makes the store's child index), the median,
//! p99 and max time of 2,000 upserts each moving one user to another group (each one made from
//! the engine the previous one made, as a server applying a stream of changes does), their
//! heap bytes allocated and still held, a group moved under another tenant (its users'
//! ancestors change too), and the upsert that merges the layer of changes into a new base.

use std::alloc::System;
use std::sync::Arc;
use std::time::{Duration, Instant};

use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};
use thuja::{Engine, Entities, Entity, EntityUid, Evaluator, Record, Request, Value, input};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

fn uid(ty: &str, id: String) -> EntityUid {
    thuja::uid(ty, &id).expect("a valid type")
}

fn entity(ty: &str, id: String, parents: &[EntityUid], attrs: &[(&str, Value)]) -> Entity {
    Entity::new(
        uid(ty, id),
        attrs
            .iter()
            .map(|(k, v)| (Arc::from(*k), v.clone()))
            .collect(),
        parents.iter().cloned().collect(),
        Default::default(),
    )
}

struct Shape {
    tenants: usize,
    groups_per_tenant: usize,
    users: usize,
    docs: usize,
}

impl Shape {
    fn of(total: usize) -> Self {
        let tenants = (total / 1000).max(1);
        Shape {
            tenants,
            groups_per_tenant: 10,
            users: total * 8 / 10,
            docs: total - total * 8 / 10 - tenants * 11,
        }
    }

    fn groups(&self) -> usize {
        self.tenants * self.groups_per_tenant
    }

    fn user(&self, u: usize, group: usize) -> Entity {
        entity(
            "User",
            format!("u{u}"),
            &[uid("Group", format!("g{group}"))],
            &[("level", Value::from((u % 7) as i64))],
        )
    }

    fn entities(&self) -> Vec<Entity> {
        let mut out = Vec::new();
        for t in 0..self.tenants {
            out.push(entity("Tenant", format!("t{t}"), &[], &[]));
        }
        for g in 0..self.groups() {
            let tenant = uid("Tenant", format!("t{}", g / self.groups_per_tenant));
            out.push(entity("Group", format!("g{g}"), &[tenant], &[]));
        }
        for u in 0..self.users {
            out.push(self.user(u, u % self.groups()));
        }
        for d in 0..self.docs {
            let tenant = uid("Tenant", format!("t{}", d % self.tenants));
            out.push(entity(
                "Doc",
                format!("d{d}"),
                &[tenant],
                &[("level", Value::from((d % 5) as i64))],
            ));
        }
        out
    }

    /// Per group: its members may read their tenant's documents at or below their level.
    fn policies(&self) -> String {
        (0..self.groups())
            .map(|g| {
                format!(
                    "permit(principal in Group::\"g{g}\", action == Action::\"read\", resource in Tenant::\"t{}\") when {{ resource.level <= principal.level }};\n",
                    g / self.groups_per_tenant
                )
            })
            .collect()
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn main() {
    let total: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let shape = Shape::of(total);

    let started = Instant::now();
    let entities = Entities::from_entities(shape.entities()).expect("entities");
    let policies = input::policies_from_str("rbac.cedar", &shape.policies()).expect("policies");
    let engine = Engine::builder()
        .policies(policies)
        .entities(entities)
        .evaluator(Evaluator::Vm)
        .build()
        .expect("engine");
    println!(
        "built: {} entities, {} policies in {:.0} ms",
        engine.entities().len(),
        engine.policies().len(),
        started.elapsed().as_secs_f64() * 1e3
    );
    let ask = |engine: &Engine, u: usize| {
        let request = Request::new(
            uid("User", format!("u{u}")),
            uid("Action", "read".into()),
            uid("Doc", format!("d{}", u % shape.docs)),
            Record::default(),
        );
        engine.decide(&request).expect("valid").decision
    };

    // The first change makes the child index of the store's base.
    let started = Instant::now();
    let mut current = engine.upsert_entities([shape.user(0, 1)]).expect("upsert");
    println!(
        "first upsert (makes the child index): {:.1} ms",
        started.elapsed().as_secs_f64() * 1e3
    );

    let rounds = 2000;
    let mut times = Vec::with_capacity(rounds);
    let mut allocated = Vec::with_capacity(rounds);
    let mut held = Vec::with_capacity(rounds);
    for i in 0..rounds {
        let u = (i * 7919) % shape.users;
        let group = (u + i + 1) % shape.groups();
        let user = shape.user(u, group);
        let region = Region::new(GLOBAL);
        let started = Instant::now();
        let next = current.upsert_entities([user]).expect("upsert");
        times.push(started.elapsed());
        let stats = region.change();
        allocated.push(stats.bytes_allocated);
        // What the new engine holds that the old one does not (the old one is dropped after).
        held.push(stats.bytes_allocated as i64 - stats.bytes_deallocated as i64);
        current = next;
    }
    times.sort_unstable();
    allocated.sort_unstable();
    held.sort_unstable();
    println!(
        "{rounds} upserts of one user (each from the previous engine): median {:.1} µs, p99 {:.1} µs, max {:.1} µs",
        percentile(&times, 0.5).as_secs_f64() * 1e6,
        percentile(&times, 0.99).as_secs_f64() * 1e6,
        times.last().map_or(0.0, |t| t.as_secs_f64() * 1e6),
    );
    println!(
        "  heap allocated per upsert: median {} bytes, max {}; held by the new engine beyond the old: median {} bytes (the store itself: {} entities shared)",
        allocated[rounds / 2],
        allocated[rounds - 1],
        held[rounds / 2],
        current.entities().len() - current.entities().changed_count(),
    );
    println!(
        "  changed entities in the layer now: {}",
        current.entities().changed_count()
    );

    // A group moves to another tenant: its members' ancestors change too.
    let members = shape.users / shape.groups();
    let started = Instant::now();
    let moved = current
        .upsert_entities([entity(
            "Group",
            "g3".into(),
            &[uid("Tenant", format!("t{}", shape.tenants - 1))],
            &[],
        )])
        .expect("upsert");
    println!(
        "a group of ~{members} users moved to another tenant: {:.1} µs",
        started.elapsed().as_secs_f64() * 1e6
    );
    assert_eq!(ask(&moved, 3), ask(&moved, 3));

    // Keep changing until the layer is merged into a new base.
    let mut merge = None;
    let mut i = rounds;
    // The layer is merged past a quarter of the base (or 8,192 entities, if more).
    let bound = rounds + 400_000;
    while merge.is_none() && i < bound {
        let u = (i * 104_729) % shape.users;
        let started = Instant::now();
        let next = current
            .upsert_entities([shape.user(u, (u + 2) % shape.groups())])
            .expect("upsert");
        let took = started.elapsed();
        if next.entities().changed_count() < current.entities().changed_count() {
            merge = Some(took);
        }
        current = next;
        i += 1;
    }
    if let Some(took) = merge {
        println!(
            "the upsert that merged the layer of changes into a new base (after {} changed entities): {:.0} ms",
            i - 1,
            took.as_secs_f64() * 1e3
        );
    } else {
        println!(
            "no merge within {} upserts ({} changed entities in the layer)",
            bound - rounds,
            current.entities().changed_count()
        );
    }
}
