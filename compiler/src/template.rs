//! Linking templates: filling a template's slots with entities to make a new policy.

use std::collections::BTreeMap;

use thuja_runtime::{EntityUid, PolicyId};

use crate::ast::{EntityRef, LinkedPolicy, Policy, PolicySet, ScopeConstraint, SlotId};

/// Why a link cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    #[error("no template with id `{0}`")]
    NoSuchTemplate(PolicyId),
    #[error("`{0}` is a static policy, not a template")]
    NotATemplate(PolicyId),
    #[error("the id `{0}` is already used by another policy, template or link")]
    DuplicateId(PolicyId),
    #[error("template `{template}` needs a value for the slot `{slot}`")]
    MissingSlot {
        template: PolicyId,
        slot: &'static str,
    },
    #[error("template `{template}` has no slot `{slot}`")]
    ExtraSlot {
        template: PolicyId,
        slot: &'static str,
    },
}

/// Links template `template_id` with `values` under the new id `link_id`.
pub fn link(
    set: &mut PolicySet,
    template_id: &str,
    link_id: &str,
    values: BTreeMap<SlotId, EntityUid>,
) -> Result<(), LinkError> {
    let template = set
        .get(template_id)
        .ok_or_else(|| LinkError::NoSuchTemplate(template_id.into()))?;
    let slots = template.slots();
    if slots.is_empty() {
        return Err(LinkError::NotATemplate(template_id.into()));
    }
    for slot in &slots {
        if !values.contains_key(slot) {
            return Err(LinkError::MissingSlot {
                template: template_id.into(),
                slot: slot.name(),
            });
        }
    }
    if let Some(extra) = values.keys().find(|s| !slots.contains(s)) {
        return Err(LinkError::ExtraSlot {
            template: template_id.into(),
            slot: extra.name(),
        });
    }
    if set.contains_id(link_id) {
        return Err(LinkError::DuplicateId(link_id.into()));
    }
    set.push_link(LinkedPolicy {
        id: link_id.into(),
        template_id: template_id.into(),
        values,
    });
    Ok(())
}

/// The policy a link stands for: the template under the link's id, its slots replaced by their
/// entities (for printing; the authorizer reads slots through the link's values).
pub fn instantiate(template: &Policy, link: &LinkedPolicy) -> Policy {
    let fill = |c: &ScopeConstraint| {
        let fill_ref = |r: &EntityRef| match r {
            EntityRef::Slot(s) => link
                .values
                .get(s)
                .map_or_else(|| r.clone(), |uid| EntityRef::Uid(uid.clone())),
            EntityRef::Uid(_) => r.clone(),
        };
        match c {
            ScopeConstraint::Eq(r) => ScopeConstraint::Eq(fill_ref(r)),
            ScopeConstraint::In(r) => ScopeConstraint::In(fill_ref(r)),
            ScopeConstraint::IsIn(t, r) => ScopeConstraint::IsIn(t.clone(), fill_ref(r)),
            other => other.clone(),
        }
    };
    let mut policy = template.clone();
    policy.id = link.id.clone();
    policy.principal = fill(&template.principal);
    policy.resource = fill(&template.resource);
    policy
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parser::parse_policy_set;
    use crate::source::Source;
    use thuja_runtime::EntityType;

    fn uid(s: &str) -> EntityUid {
        EntityUid::new(EntityType::parse("User").unwrap(), s)
    }

    #[test]
    fn links_fill_exactly_the_template_slots() {
        let mut set = parse_policy_set(Source::new(
            "t",
            "permit(principal == ?principal, action, resource);\npermit(principal, action, resource);",
        ))
        .unwrap();
        let ok = BTreeMap::from([(SlotId::Principal, uid("a"))]);
        link(&mut set, "policy0", "link1", ok.clone()).unwrap();
        assert_eq!(set.active().count(), 2, "the static policy and the link");
        assert_eq!(
            link(&mut set, "policy0", "link1", ok.clone()),
            Err(LinkError::DuplicateId("link1".into()))
        );
        assert_eq!(
            link(&mut set, "policy1", "x", ok.clone()),
            Err(LinkError::NotATemplate("policy1".into()))
        );
        assert_eq!(
            link(&mut set, "nope", "x", ok),
            Err(LinkError::NoSuchTemplate("nope".into()))
        );
        assert!(matches!(
            link(&mut set, "policy0", "x", BTreeMap::new()),
            Err(LinkError::MissingSlot { .. })
        ));
        let extra = BTreeMap::from([(SlotId::Principal, uid("a")), (SlotId::Resource, uid("b"))]);
        assert!(matches!(
            link(&mut set, "policy0", "x", extra),
            Err(LinkError::ExtraSlot { .. })
        ));
    }
}
