//! Policy files, `@id` annotations, template links and entity uids given as text.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use thuja_compiler::Source;
use thuja_compiler::ast::{PolicySet, SlotId};
use thuja_runtime::EntityUid;

use super::{InputError, json_error, read_file};

/// Parses a policy file; policies get the ids `policy0`, `policy1`, ... in file order.
pub fn policies_from_str(name: &str, text: &str) -> Result<PolicySet, InputError> {
    Ok(thuja_compiler::parser::parse_policy_set(Source::new(
        name, text,
    ))?)
}

/// Reads a policy file: [`policies_from_str`] on the file's text.
pub fn policies_from_file(path: &Path) -> Result<PolicySet, InputError> {
    policies_from_str(&path.display().to_string(), &read_file(path)?)
}

/// The format of a policy file: Cedar's text, or Cedar's JSON policy format.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PolicyFormat {
    /// Cedar's policy text.
    #[default]
    Cedar,
    /// Cedar's JSON policy format: one policy or template, or a policy set
    /// (`{"templates", "staticPolicies", "templateLinks"}`).
    Json,
}

impl std::str::FromStr for PolicyFormat {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "cedar" => Ok(PolicyFormat::Cedar),
            "json" => Ok(PolicyFormat::Json),
            other => Err(format!(
                "unknown policy format `{other}`: expected `cedar` or `json`"
            )),
        }
    }
}

impl std::fmt::Display for PolicyFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            PolicyFormat::Cedar => "cedar",
            PolicyFormat::Json => "json",
        })
    }
}

/// Reads a policy file in Cedar's JSON policy format (a single policy or template, which gets
/// the id `JSON policy` as in Cedar, or a policy set with its links).
pub fn policies_from_json_str(name: &str, text: &str) -> Result<PolicySet, InputError> {
    thuja_compiler::est::policy_set_from_json_str(name, text).map_err(|e| est_error(name, text, e))
}

/// An error reading Cedar's JSON policy format, located where the JSON text gives a position.
pub(crate) fn est_error(name: &str, text: &str, e: thuja_compiler::est::EstError) -> InputError {
    use thuja_compiler::est::EstError;
    match e {
        EstError::Json(e) => super::data_error(&Source::new(name, text), &e),
        EstError::Parse(e) => InputError::Source(e),
        other => InputError::data(name, other),
    }
}

/// The policies of a file, as the `cedar` CLI reads them: in Cedar's text (where a policy
/// annotated `@id("...")` takes that id) or JSON format, then the template links of `links`.
pub fn policy_set_from_file(
    path: &Path,
    format: PolicyFormat,
    links: Option<&Path>,
) -> Result<PolicySet, InputError> {
    policy_set_from_str(
        &path.display().to_string(),
        &read_file(path)?,
        format,
        links,
    )
}

/// [`policy_set_from_file`] on `text`, named `name` in errors.
pub fn policy_set_from_str(
    name: &str,
    text: &str,
    format: PolicyFormat,
    links: Option<&Path>,
) -> Result<PolicySet, InputError> {
    let mut policies = match format {
        PolicyFormat::Cedar => {
            let mut set = policies_from_str(name, text)?;
            rename_from_id_annotations(&mut set)?;
            set
        }
        PolicyFormat::Json => policies_from_json_str(name, text)?,
    };
    if let Some(links) = links {
        links_from_file(links, &mut policies)?;
    }
    Ok(policies)
}

/// Which way `translate_policy` goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PolicyDirection {
    /// Cedar's policy text to its JSON policy format.
    CedarToJson,
    /// Cedar's JSON policy format to its policy text.
    JsonToCedar,
}

/// Translates a policy file between Cedar's text and its JSON policy format, as `cedar
/// translate-policy` does: text to a compact JSON policy set (ids `policy0`, ... or from `@id`
/// annotations); JSON (a policy or a set) to text byte for byte as `cedar-policy`'s
/// `PolicySet::to_cedar` prints it (static policies then templates, each sorted by id and
/// separated by a blank line; see [`thuja_compiler::est::to_cedar`]). A set with template links
/// has no text form.
pub fn translate_policy(
    name: &str,
    text: &str,
    direction: PolicyDirection,
) -> Result<String, InputError> {
    match direction {
        PolicyDirection::CedarToJson => {
            let policies =
                thuja_compiler::parser::parse_policies_as_written(Source::new(name, text))?;
            let mut set = PolicySet::new();
            for p in policies {
                // Generated ids are unique.
                let _ = set.add(p);
            }
            rename_from_id_annotations(&mut set)?;
            Ok(thuja_compiler::est::policy_set_to_json_string(&set))
        }
        PolicyDirection::JsonToCedar => {
            let set = policies_from_json_str(name, text)?;
            thuja_compiler::est::to_cedar::policy_set_to_cedar(&set)
                .map_err(|e| InputError::data(name, e))
        }
    }
}

/// Gives each policy with an `@id("...")` annotation that id, as the `cedar` CLI does.
pub fn rename_from_id_annotations(policies: &mut PolicySet) -> Result<(), InputError> {
    let mut taken: std::collections::HashSet<&str> = std::collections::HashSet::new();
    for p in policies.policies() {
        let id = p.annotation("id").unwrap_or(&p.id);
        if !taken.insert(id) {
            return Err(InputError::data(
                "policies",
                format!("two policies would have the id `{id}` (from @id annotations)"),
            ));
        }
    }
    policies.rename(|p| p.annotation("id").map(Into::into));
    Ok(())
}

/// Parses an entity uid written as in policies, e.g. `User::"alice"`.
pub fn entity_uid_from_str(what: &str, text: &str) -> Result<EntityUid, InputError> {
    Ok(thuja_compiler::parser::parse_entity_uid(Source::new(
        what, text,
    ))?)
}

/// One template link, in the `cedar` CLI's `--template-linked` format.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LinkJson {
    template_id: String,
    link_id: String,
    args: BTreeMap<String, String>,
}

/// Adds the template links in `text` to `policies`.
pub fn links_from_str(name: &str, text: &str, policies: &mut PolicySet) -> Result<(), InputError> {
    if text.trim().is_empty() {
        return Ok(());
    }
    let source = Source::new(name, text);
    let links: Vec<LinkJson> = serde_json::from_str(text).map_err(|e| json_error(&source, &e))?;
    for link in links {
        let mut values = BTreeMap::new();
        for (slot, uid_text) in &link.args {
            let slot_id = match slot.as_str() {
                "?principal" => SlotId::Principal,
                "?resource" => SlotId::Resource,
                other => {
                    return Err(InputError::data(
                        format!("{name}: link `{}`", link.link_id),
                        format!("`{other}` is not a slot; expected ?principal or ?resource"),
                    ));
                }
            };
            let uid =
                entity_uid_from_str(&format!("{name}: link `{}` {slot}", link.link_id), uid_text)?;
            values.insert(slot_id, uid);
        }
        thuja_compiler::template::link(policies, &link.template_id, &link.link_id, values)
            .map_err(|e| InputError::data(format!("{name}: link `{}`", link.link_id), e))?;
    }
    Ok(())
}

/// One link as the `cedar` CLI writes it to a `--template-linked` file.
#[derive(serde::Serialize)]
struct LinkOut<'a> {
    template_id: &'a str,
    link_id: &'a str,
    args: &'a BTreeMap<String, String>,
}

/// Appends a link to a template links file (created when missing), as `cedar link` does: the
/// file is rewritten as one compact JSON array.
pub fn append_link_to_file(
    path: &Path,
    template_id: &str,
    link_id: &str,
    args: &BTreeMap<String, String>,
) -> Result<(), InputError> {
    let name = path.display().to_string();
    let mut links: Vec<LinkJson> = match std::fs::read_to_string(path) {
        Ok(text) if text.trim().is_empty() => Vec::new(),
        Ok(text) => serde_json::from_str(&text)
            .map_err(|e| json_error(&Source::new(name.as_str(), text.as_str()), &e))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(InputError::io(path, e)),
    };
    links.push(LinkJson {
        template_id: template_id.to_string(),
        link_id: link_id.to_string(),
        args: args.clone(),
    });
    let out: Vec<LinkOut<'_>> = links
        .iter()
        .map(|l| LinkOut {
            template_id: &l.template_id,
            link_id: &l.link_id,
            args: &l.args,
        })
        .collect();
    let text = serde_json::to_string(&out)
        .map_err(|e| InputError::data(&name, format!("cannot write the links: {e}")))?;
    std::fs::write(path, text).map_err(|e| InputError::io(path, e))
}

/// Reads a template links file: [`links_from_str`] on the file's text.
pub fn links_from_file(path: &Path, policies: &mut PolicySet) -> Result<(), InputError> {
    links_from_str(&path.display().to_string(), &read_file(path)?, policies)
}
