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

/// Reads a template links file: [`links_from_str`] on the file's text.
pub fn links_from_file(path: &Path, policies: &mut PolicySet) -> Result<(), InputError> {
    links_from_str(&path.display().to_string(), &read_file(path)?, policies)
}
