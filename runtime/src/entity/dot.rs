//! The entity hierarchy as a Graphviz DOT graph, in the layout `cedar visualize` writes: one
//! cluster per entity type holding its entities (labelled by their ids), and an edge from each
//! entity to each of its parents.
//!
//! Cedar lists types and entities in hash-table order; here types come sorted by name, the
//! entities of a type sorted by id, and edges by entity then parent, so the output is the same
//! on every run. Names and labels are written as Cedar writes them: the uid's text
//! (`Type::"id"`, the id escaped as Rust's `escape_debug` does) escaped once more for DOT.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::Entities;
use crate::EntityUid;

/// A uid's text as Cedar displays it.
fn uid_text(uid: &EntityUid) -> String {
    format!("{}::\"{}\"", uid.entity_type(), uid.id().escape_debug())
}

/// A double-quoted DOT identifier for `text`.
fn dot_id(out: &mut String, text: &str) {
    let _ = write!(out, "\"{}\"", text.escape_debug());
}

/// The entities as a DOT graph.
pub fn entities_to_dot(entities: &Entities) -> String {
    let mut by_type: BTreeMap<String, Vec<&super::Entity>> = BTreeMap::new();
    for e in entities.iter() {
        by_type
            .entry(e.uid().entity_type().to_string())
            .or_default()
            .push(e);
    }
    let mut out = String::from("strict digraph {\n\tordering=\"out\"\n\tnode[shape=box]\n");
    for (ty, list) in &mut by_type {
        list.sort_by(|a, b| a.uid().id().cmp(b.uid().id()));
        let _ = write!(out, "\tsubgraph \"cluster_{ty}\" {{\n\t\tlabel=");
        dot_id(&mut out, ty);
        out.push('\n');
        for e in list.iter() {
            out.push_str("\t\t");
            dot_id(&mut out, &uid_text(e.uid()));
            out.push_str(" [label=");
            dot_id(&mut out, &e.uid().id().escape_debug().to_string());
            out.push_str("]\n");
        }
        out.push_str("\t}\n");
    }
    for list in by_type.values() {
        for e in list {
            for parent in e.parents() {
                out.push('\t');
                dot_id(&mut out, &uid_text(e.uid()));
                out.push_str(" -> ");
                dot_id(&mut out, &uid_text(parent));
                out.push('\n');
            }
        }
    }
    out.push_str("}\n");
    out
}
