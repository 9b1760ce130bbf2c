//! Cedar's JSON policy format (the "EST"): policies, templates and template links as JSON, read
//! and written as `cedar-policy`'s `Policy::to_json`/`from_json` and `PolicySet::to_json`/
//! `from_json_value` do.
//!
//! - [`write`](mod@write): a policy read as written (see [`crate::parser::parse_policies_as_written`]) to
//!   its JSON tree; a policy set to `{"templates", "staticPolicies", "templateLinks"}`.
//! - [`read`]: a JSON tree back to Cedar text that parses to that tree, with errors naming the
//!   path in the JSON.
//! - [`to_cedar`]: policies read from JSON printed as Cedar text exactly as `cedar-policy`'s
//!   `PolicySet::to_cedar` prints them (`cedar translate-policy --direction json-to-cedar`).
//!
//! The JSON describes the policy as written, not as Cedar evaluates it: `true && false` stays
//! an `&&`, and a bare `@key` has the value `null`. (The scope is written as Cedar's AST holds it:
//! `action in [A]` as `action in A`.)
//! Policies read from JSON are parsed from the text [`read`] makes; their spans point into that
//! text, whose name says which policy of which file it is.

pub mod read;
pub mod to_cedar;
pub mod write;

use std::fmt;

use thuja_runtime::EntityUid;
use thuja_runtime::json::{Duplicates, Json, JsonError, parse_tree};

use crate::ast::{PolicySet, SlotId};
use crate::diagnostic::SourceErrors;
use crate::parser::{parse_entity_uid, parse_policy_as_written};
use crate::source::Source;
use crate::template::{self, LinkError};

pub use read::ShapeError;
pub use write::{expr_json, policy_json, policy_set_json};

/// Why a JSON policy document could not be read.
#[derive(Debug)]
pub enum EstError {
    /// Not JSON (with the line and column `serde_json` reports), or nested too deeply.
    Json(JsonError),
    /// JSON of the wrong shape, at a path in the document.
    Shape(ShapeError),
    /// A policy the JSON describes is not a valid policy (located in its text, see [`read`]).
    Parse(SourceErrors),
    /// A template link that cannot be made.
    Link { link: String, error: LinkError },
}

impl fmt::Display for EstError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EstError::Json(e) => write!(f, "{e}"),
            EstError::Shape(e) => write!(f, "{e}"),
            EstError::Parse(e) => write!(f, "{e}"),
            EstError::Link { link, error } => write!(f, "template link `{link}`: {error}"),
        }
    }
}

impl std::error::Error for EstError {}

impl From<ShapeError> for EstError {
    fn from(e: ShapeError) -> Self {
        EstError::Shape(e)
    }
}

/// The id Cedar gives a single policy read from JSON.
pub const SINGLE_POLICY_ID: &str = "JSON policy";

/// Reads a JSON policy document, as the `cedar` CLI does with `--policy-format json`: either a
/// single policy or template (`{"effect", "principal", ...}`, with the id `JSON policy`) or a
/// policy set (`{"templates", "staticPolicies", "templateLinks"}`). `name` names the file in
/// error messages and in the names of the policies' texts.
pub fn policy_set_from_json_str(name: &str, text: &str) -> Result<PolicySet, EstError> {
    let json = parse_tree(text, Duplicates::Reject).map_err(EstError::Json)?;
    let set_keys = ["staticPolicies", "templates", "templateLinks"];
    let policy_keys = ["action", "effect", "principal", "resource", "conditions"];
    let has = |keys: &[&str]| keys.iter().any(|k| json.get(k).is_some());
    match (has(&set_keys), has(&policy_keys)) {
        (true, false) => policy_set_from_json(name, &json),
        (false, true) => {
            let mut set = PolicySet::new();
            let policy = policy_from_json(name, &json, SINGLE_POLICY_ID, "")?;
            // The set is empty: the id is free.
            let _ = set.add(policy);
            Ok(set)
        }
        (false, false) => Err(ShapeError {
            path: String::new(),
            message: "cannot tell whether this is a policy or a policy set: it has none of the fields of either".into(),
        }
        .into()),
        (true, true) => Err(ShapeError {
            path: String::new(),
            message: "cannot tell whether this is a policy or a policy set: it has fields of both".into(),
        }
        .into()),
    }
}

/// One policy or template from its JSON tree, parsed from the text [`read`] makes of it.
pub fn policy_from_json(
    name: &str,
    json: &Json,
    id: &str,
    path: &str,
) -> Result<crate::ast::Policy, EstError> {
    let text = read::policy_text(json, path)?;
    let source = Source::new(format!("{name} (policy `{id}` as Cedar text)"), text);
    parse_policy_as_written(source, id).map_err(EstError::Parse)
}

/// A policy set from its JSON tree: `templates` and `staticPolicies` (objects from id to
/// policy) and `templateLinks` (`[{"templateId", "newId", "values": {"?principal": uid}}]`).
pub fn policy_set_from_json(name: &str, json: &Json) -> Result<PolicySet, EstError> {
    let entries = match json {
        Json::Object(entries) => entries,
        other => {
            return Err(ShapeError {
                path: String::new(),
                message: format!("expected a policy set (an object), found {}", other.kind()),
            }
            .into());
        }
    };
    let mut templates = None;
    let mut statics = None;
    let mut links = None;
    for (k, v) in entries {
        match k.as_str() {
            "templates" => templates = Some(v),
            "staticPolicies" => statics = Some(v),
            "templateLinks" => links = Some(v),
            other => {
                return Err(ShapeError {
                    path: String::new(),
                    message: format!("unknown field `{other}` in a policy set; expected `templates`, `staticPolicies`, `templateLinks`"),
                }
                .into());
            }
        }
    }
    let missing = |field: &str| -> EstError {
        ShapeError {
            path: String::new(),
            message: format!("missing field `{field}`"),
        }
        .into()
    };
    let templates = templates.ok_or_else(|| missing("templates"))?;
    let statics = statics.ok_or_else(|| missing("staticPolicies"))?;
    let links = links.ok_or_else(|| missing("templateLinks"))?;
    let mut set = PolicySet::new();
    for (field, group, want_template) in [
        ("staticPolicies", statics, false),
        ("templates", templates, true),
    ] {
        let Json::Object(policies) = group else {
            return Err(ShapeError {
                path: field.into(),
                message: format!(
                    "expected an object from ids to policies, found {}",
                    group.kind()
                ),
            }
            .into());
        };
        for (id, pjson) in policies {
            let path = format!("{field}.{id}");
            let policy = policy_from_json(name, pjson, id, &path)?;
            if policy.is_template() != want_template {
                return Err(ShapeError {
                    path,
                    message: if want_template {
                        "a template must have a slot in its scope".into()
                    } else {
                        "a static policy cannot have slots (it belongs in `templates`)".into()
                    },
                }
                .into());
            }
            if set.add(policy).is_err() {
                return Err(ShapeError {
                    path,
                    message: format!("the id `{id}` is used twice"),
                }
                .into());
            }
        }
    }
    let Json::Array(links) = links else {
        return Err(ShapeError {
            path: "templateLinks".into(),
            message: format!("expected an array, found {}", links.kind()),
        }
        .into());
    };
    for (i, link) in links.iter().enumerate() {
        let path = format!("templateLinks[{i}]");
        let (template_id, link_id, values) = link_from_json(name, link, &path)?;
        template::link(&mut set, &template_id, &link_id, values).map_err(|error| {
            EstError::Link {
                link: link_id.clone(),
                error,
            }
        })?;
    }
    Ok(set)
}

fn link_from_json(
    name: &str,
    link: &Json,
    path: &str,
) -> Result<
    (
        String,
        String,
        std::collections::BTreeMap<SlotId, EntityUid>,
    ),
    EstError,
> {
    let shape = |p: &str, m: String| -> EstError {
        ShapeError {
            path: p.to_string(),
            message: m,
        }
        .into()
    };
    let Json::Object(entries) = link else {
        return Err(shape(
            path,
            format!(
                "expected a template link (an object), found {}",
                link.kind()
            ),
        ));
    };
    let (mut template_id, mut new_id, mut values) = (None, None, None);
    for (k, v) in entries {
        match k.as_str() {
            "templateId" => template_id = Some(v),
            "newId" => new_id = Some(v),
            "values" => values = Some(v),
            other => {
                return Err(shape(
                    path,
                    format!("unknown field `{other}` in a template link"),
                ));
            }
        }
    }
    let string = |v: Option<&Json>, field: &str| -> Result<String, EstError> {
        match v {
            Some(Json::String(s)) => Ok(s.to_string()),
            Some(other) => Err(shape(
                &format!("{path}.{field}"),
                format!("expected a string, found {}", other.kind()),
            )),
            None => Err(shape(path, format!("missing field `{field}`"))),
        }
    };
    let template_id = string(template_id, "templateId")?;
    let new_id = string(new_id, "newId")?;
    let Some(Json::Object(slots)) = values else {
        return Err(shape(
            path,
            "`values` must be an object from slots to entities".into(),
        ));
    };
    let mut out = std::collections::BTreeMap::new();
    for (slot, uid) in slots {
        let spath = format!("{path}.values.{slot}");
        let slot_id = match slot.as_str() {
            "?principal" => SlotId::Principal,
            "?resource" => SlotId::Resource,
            other => {
                return Err(shape(
                    &spath,
                    format!("`{other}` is not a slot; expected ?principal or ?resource"),
                ));
            }
        };
        let text = read::uid_text(uid, &spath)?;
        let uid = parse_entity_uid(Source::new(format!("{name}: {spath}"), text))
            .map_err(EstError::Parse)?;
        out.insert(slot_id, uid);
    }
    Ok((template_id, new_id, out))
}

/// A policy set as Cedar's JSON policy format, compact, as `cedar translate-policy` prints it.
/// The policies should have been read as written ([`crate::parser::parse_policies_as_written`]).
pub fn policy_set_to_json_string(set: &PolicySet) -> String {
    policy_set_json(set).to_compact_string()
}
