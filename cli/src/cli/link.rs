//! `thuja link`: link a template with entities for its slots, as `cedar link` does. The new
//! link is checked against the policies (and the links already in `-k FILE`), printed, and
//! appended to the `-k` file when one is given.

use std::collections::BTreeMap;
use std::path::PathBuf;

use clap::Args;
use thuja::input::{self, InputError};
use thuja_compiler::ast::SlotId;

use super::exit;

#[derive(Args, Debug)]
pub struct LinkArgs {
    /// Policies file holding the template
    #[arg(short, long, value_name = "FILE")]
    pub policies: PathBuf,
    /// Format of the policies file: `cedar` (policy text) or `json` (Cedar's JSON policy format)
    #[arg(long, value_name = "FORMAT", default_value_t = input::PolicyFormat::Cedar)]
    pub policy_format: input::PolicyFormat,
    /// Template links JSON file: read first, and the new link appended to it
    #[arg(short = 'k', long = "template-linked", value_name = "FILE")]
    pub template_linked: Option<PathBuf>,
    /// Id of the template to link
    #[arg(long, value_name = "ID")]
    pub template_id: String,
    /// Id of the new template-linked policy
    #[arg(short, long, value_name = "ID")]
    pub new_id: String,
    /// Entities for the slots, as JSON: '{"?principal": "User::\"alice\""}'
    #[arg(short, long, value_name = "JSON")]
    pub arguments: String,
}

pub fn run(args: &LinkArgs) -> i32 {
    match link(args) {
        Ok(text) => {
            outln!("Template-linked policy added: {text}");
            exit::SUCCESS
        }
        Err(e) => {
            super::report(&e);
            exit::FAILURE
        }
    }
}

fn link(args: &LinkArgs) -> Result<String, InputError> {
    let links = args.template_linked.as_deref().filter(|path| path.exists());
    let mut policies = input::policy_set_from_file(&args.policies, args.policy_format, links)?;
    let raw: BTreeMap<String, String> = serde_json::from_str(&args.arguments).map_err(|e| {
        InputError::Usage(format!(
            "--arguments is not a JSON object from slots to entity uids ({e}); write it as '{{\"?principal\": \"User::\\\"alice\\\"\"}}'"
        ))
    })?;
    let mut values = BTreeMap::new();
    for (slot, uid) in &raw {
        let slot_id = match slot.as_str() {
            "?principal" => SlotId::Principal,
            "?resource" => SlotId::Resource,
            other => {
                return Err(InputError::Usage(format!(
                    "`{other}` is not a slot; expected ?principal or ?resource"
                )));
            }
        };
        values.insert(
            slot_id,
            input::entity_uid_from_str(&format!("--arguments {slot}"), uid)?,
        );
    }
    thuja_compiler::template::link(&mut policies, &args.template_id, &args.new_id, values)
        .map_err(|e| InputError::Usage(e.to_string()))?;
    let text = policies
        .links()
        .iter()
        .find(|l| l.id.as_str() == args.new_id)
        .and_then(|l| {
            policies
                .get(&l.template_id)
                .map(|t| thuja_compiler::template::instantiate(t, l).to_string())
        })
        .unwrap_or_else(|| args.new_id.clone());
    if let Some(path) = &args.template_linked {
        input::append_link_to_file(path, &args.template_id, &args.new_id, &raw)?;
    }
    Ok(text)
}
