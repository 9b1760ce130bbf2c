//! Cedar's policy validator, strict mode, with the verdicts of `cedar-policy` 4.14.
//!
//! [`validate`] checks every static policy and template of a set against a schema:
//!
//! 1. names (`scope`): entity types and actions the policy mentions must be declared, and an
//!    entity of an enumerated type must use one of its ids;
//! 2. types (`typecheck`): the policy's whole condition (scope constraints and clauses) is
//!    typechecked in every request environment (`env`) — each action with each principal and
//!    resource type it applies to, template slots linked to each entity type they could hold.
//!
//! Template links are checked for slot values of undeclared entity types.
//!
//! Warnings do not make a policy set invalid: a scope no allowed request satisfies
//! (`invalid-action-application`; an error before Cedar 4, and still counted as one by the
//! integration tests' `shouldValidate`) and a policy that is false in every environment
//! (`impossible-policy`). Cedar's warnings about confusable or mixed-script text are not given.
//!
//! With a `level`, entity dereferences are also limited to that many steps from the request
//! variables (`level`), as Cedar's `validate_with_level` does.
//!
//! [`expression_types`] gives the compiler the type of every expression of every policy that
//! validates (`expr_types`), joined over all request environments.

mod env;
mod error;
mod expr_types;
mod level;
mod scope;
#[cfg(test)]
mod tests;
mod type_key;
mod typecheck;
pub mod types;

use std::collections::HashSet;
use std::sync::Arc;

use thuja_runtime::EntityType;
use thuja_runtime::schema::Schema;

/// Hash maps with foldhash (still seeded per process), several times cheaper than the
/// default SipHash on the policy set's shapes and ids.
type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;

pub use error::{ErrorKind, ValidationError, ValidationResult, ValidationWarning, WarningKind};
pub use expr_types::{NodeTypes, PolicySetTypes, PolicyTypes};

use crate::ast::{EntityRef, Policy, PolicySet, ScopeConstraint, SlotId};
use env::{RequestEnv, SchemaInfo};
use expr_types::PolicyTypesBuilder;
use typecheck::{Caps, Checker, TypeTable};
use types::{BoolType, Type};

/// How to validate.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ValidationOptions {
    /// Limit entity dereferences to this many levels (Cedar's level validation).
    pub level: Option<u32>,
}

/// Validates every static policy and template in `policies`, and the slot values of every
/// template link, against `schema` in strict mode.
pub fn validate(
    schema: &Schema,
    policies: &PolicySet,
    options: ValidationOptions,
) -> ValidationResult {
    let info = SchemaInfo::new(schema);
    let mut result = ValidationResult::default();
    for policy in policies.policies() {
        validate_policy(&info, policy, options, &mut result, None);
    }
    for link in policies.links() {
        let template = policies.get(&link.template_id);
        for uid in link.values.values() {
            if !info.is_known_entity_type(uid.entity_type()) {
                result.errors.push(ValidationError {
                    policy_id: link.id.clone(),
                    kind: ErrorKind::UnrecognizedEntityType,
                    span: template.map(|t| t.span).unwrap_or_default(),
                    message: format!("unrecognized entity type `{}`", uid.entity_type()),
                });
            }
        }
        if let Some(template) = template
            && let Some(w) = scope::check_link_application(&info, template, &link.values, &link.id)
        {
            result.warnings.push(w);
        }
    }
    result
}

/// The type of every expression of every policy in `policies` that validates against `schema`
/// (see [`PolicySetTypes`]): template links share their template's types, unless a slot
/// value's entity type is undeclared.
///
/// Policies that differ only by a renaming of their entity literals (the same shape for another
/// tenant, user or folder; actions and enumerated entities excepted: see `type_key`) are
/// validated once and share the types.
pub fn expression_types(schema: &Schema, policies: &PolicySet) -> PolicySetTypes {
    let info = SchemaInfo::new(schema);
    let mut out = PolicySetTypes::with_capacity(policies.policies().len() + policies.links().len());
    let mut templates = HashMap::default();
    // A policy shape's types, or `None` when it has errors.
    let mut by_shape: HashMap<Vec<u8>, Option<Arc<PolicyTypes>>> = HashMap::default();
    let enumerated: HashSet<&EntityType> = schema
        .entity_types
        .iter()
        .filter(|(_, def)| def.enum_ids.is_some())
        .map(|(name, _)| name)
        .collect();
    let enumerated = |t: &EntityType| !enumerated.is_empty() && enumerated.contains(t);
    let mut keys = type_key::TypeKeys::new(&enumerated);
    for policy in policies.policies() {
        let shape = keys.key(policy);
        let types = match by_shape.get(shape) {
            Some(types) => types.clone(),
            None => {
                let mut result = ValidationResult::default();
                let mut types = PolicyTypesBuilder::new(policy);
                validate_policy(
                    &info,
                    policy,
                    ValidationOptions::default(),
                    &mut result,
                    Some(&mut types),
                );
                let types = result.errors.is_empty().then(|| Arc::new(types.finish()));
                by_shape.insert(shape.to_vec(), types.clone());
                types
            }
        };
        if policy.is_template() {
            if let Some(types) = types {
                templates.insert(policy.id.clone(), types);
            }
        } else {
            out.push(policy.id.clone(), types);
        }
    }
    // As `PolicySet::active` lists them: links to a template the set has.
    for link in policies.links() {
        if policies.get(&link.template_id).is_none() {
            continue;
        }
        let declared = link
            .values
            .values()
            .all(|uid| info.is_known_entity_type(uid.entity_type()));
        let types = templates.get(&link.template_id).filter(|_| declared);
        out.push(link.id.clone(), types.cloned());
    }
    out
}

/// Validates one policy or template into `result`; with `types`, also merges the type of
/// every node of its conditions in every environment into it.
fn validate_policy(
    info: &SchemaInfo<'_>,
    policy: &Policy,
    options: ValidationOptions,
    result: &mut ValidationResult,
    mut types: Option<&mut PolicyTypesBuilder>,
) {
    let id = &policy.id;
    result.errors.extend(scope::check_names(info, policy, id));
    if let Some(w) = scope::check_action_application(info, policy, id) {
        result.warnings.push(w);
    }
    let cond = scope::condition(policy);
    let mut errors: Vec<ValidationError> = Vec::new();
    let mut all_false = true;
    for env in linked_envs(info, policy) {
        let table = TypeTable::default();
        let checker = Checker {
            info,
            env: &env,
            policy_id: id,
            types: (options.level.is_some() || types.is_some()).then_some(&table),
            shapes: Default::default(),
        };
        let mut env_errors = Vec::new();
        let ans = checker.expect(&Caps::new(), &cond, Type::bool_any(), &mut env_errors);
        let is_false = ans.ty == Some(Type::Bool(BoolType::False));
        if !is_false {
            all_false = false;
        }
        if let Some(level) = options.level
            && (ans.ok || is_false)
        {
            env_errors.extend(level::check(&checker, &table, &cond, level));
        }
        errors.extend(env_errors);
        if let Some(types) = types.as_deref_mut() {
            let recorded = table.borrow();
            types.absorb(&scope::condition_bodies(&cond, policy), |node| {
                recorded.get(&(typecheck::node_key(node), false)).cloned()
            });
        }
    }
    if all_false {
        result.warnings.push(ValidationWarning {
            policy_id: id.clone(),
            kind: WarningKind::ImpossiblePolicy,
            span: policy.span,
            message: "policy is impossible: the policy expression evaluates to false for all valid requests".into(),
        });
    }
    let mut seen = HashSet::new();
    for e in errors {
        if seen.insert((e.kind, e.span, e.message.clone())) {
            result.errors.push(e);
        }
    }
}

/// Every request environment, with the template's slots linked to each entity type they could
/// hold there.
fn linked_envs(info: &SchemaInfo<'_>, policy: &Policy) -> Vec<RequestEnv> {
    let slots = policy.slots();
    let mut out = Vec::new();
    for env in &info.envs {
        let principal_links = slot_links(
            info,
            &slots,
            SlotId::Principal,
            &env.principal,
            &policy.principal,
        );
        let resource_links = slot_links(
            info,
            &slots,
            SlotId::Resource,
            &env.resource,
            &policy.resource,
        );
        for p in &principal_links {
            for r in &resource_links {
                let mut linked = env.clone();
                linked.principal_slot = p.clone();
                linked.resource_slot = r.clone();
                out.push(linked);
            }
        }
    }
    out
}

fn slot_links(
    info: &SchemaInfo<'_>,
    slots: &[SlotId],
    slot: SlotId,
    var: &thuja_runtime::EntityType,
    constraint: &ScopeConstraint,
) -> Vec<Option<thuja_runtime::EntityType>> {
    if !slots.contains(&slot) {
        return vec![None];
    }
    match constraint {
        ScopeConstraint::Eq(EntityRef::Slot(_)) | ScopeConstraint::Eq(EntityRef::Uid(_)) => {
            vec![Some(var.clone())]
        }
        ScopeConstraint::In(_) | ScopeConstraint::IsIn(..) => info
            .schema
            .entity_types
            .keys()
            .filter(|t| info.descendant_types(t).is_some_and(|d| d.contains(var)))
            .map(|t| Some(t.clone()))
            .chain(std::iter::once(Some(var.clone())))
            .collect(),
        ScopeConstraint::Is(_) | ScopeConstraint::Any => info
            .schema
            .entity_types
            .keys()
            .map(|t| Some(t.clone()))
            .collect(),
    }
}
