//! Thuja's partial evaluation and queries against `cedar-policy`'s experimental type-aware
//! partial evaluation (`tpe`) on a generated case with a schema whose policies validate (Cedar's
//! `tpe` needs them to): for every request, the decision with the resource unknown and with
//! the principal unknown, and the resources (principals) of the request's types its principal
//! (resource) may reach.
//!
//! Both partial evaluators are sound, so where both decide they must agree; one may decide
//! where the other does not (Cedar's uses types to decide more; README, "Partial
//! evaluation"). Queries must list the same entities.

use std::collections::BTreeSet;

/// What partial evaluation and queries say of one request; `None` where an engine has no
/// answer (Cedar refuses the partial request, say).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct View {
    /// The decision with the resource unknown (its type known): `Some(None)` undecided,
    /// `Some(Some(allow))` decided.
    pub resource_unknown: Option<Option<bool>>,
    /// The decision with the principal unknown.
    pub principal_unknown: Option<Option<bool>>,
    /// The entities of the resource's type the principal may reach, as (type, id).
    pub resources: Option<BTreeSet<(String, String)>>,
    /// The entities of the principal's type that may reach the resource.
    pub principals: Option<BTreeSet<(String, String)>>,
}

/// How tall a policy's condition may be for the comparison: cedar-policy 4.14's `tpe` takes
/// minutes, and gigabytes, on conditions nested a few hundred levels deep (a chain of
/// `if true then ...`, DRT seed 273), so deeper cases are not compared.
pub const MAX_HEIGHT: usize = 32;

/// Whether every condition of `policies` is at most [`MAX_HEIGHT`] tall.
pub fn shallow(policies: &thuja::PolicySet) -> bool {
    policies
        .policies()
        .iter()
        .flat_map(|p| &p.conditions)
        .all(|c| c.body.height() <= MAX_HEIGHT)
}

/// Thuja's views of `requests` (each `None` that is `None`).
pub fn thuja_views(
    schema: &thuja::Schema,
    policies: &thuja::PolicySet,
    entities: &thuja::Entities,
    requests: &[Option<thuja::Request>],
) -> Vec<Option<View>> {
    use thuja::partial::{PartialRequest, PartialUid};
    let Ok(engine) = thuja::Engine::builder()
        .policies(policies.clone())
        .schema(schema.clone())
        .entities(entities.clone())
        .evaluator(thuja::Evaluator::Interp)
        .build()
    else {
        return requests.iter().map(|_| None).collect();
    };
    let pairs = |uids: &[thuja::EntityUid]| -> BTreeSet<(String, String)> {
        uids.iter()
            .map(|u| (u.entity_type().to_string(), u.id().to_string()))
            .collect()
    };
    let allow = |d: thuja::Decision| d == thuja::Decision::Allow;
    requests
        .iter()
        .map(|request| {
            let request = request.as_ref()?;
            let (principal, action, resource) =
                (request.principal(), request.action(), request.resource());
            let context = request.context();
            let decide = |p: PartialUid, r: PartialUid| {
                let partial = PartialRequest::new(p, action.clone(), r, Some(context.clone()));
                engine
                    .partially_authorize(&partial)
                    .ok()
                    .map(|a| a.decision().map(allow))
            };
            Some(View {
                resource_unknown: decide(
                    PartialUid::Known(principal.clone()),
                    PartialUid::Unknown(resource.entity_type().clone()),
                ),
                principal_unknown: decide(
                    PartialUid::Unknown(principal.entity_type().clone()),
                    PartialUid::Known(resource.clone()),
                ),
                resources: engine
                    .query_resources(principal, action, resource.entity_type(), context.clone())
                    .ok()
                    .map(|a| pairs(&a.uids)),
                principals: engine
                    .query_principals(action, resource, principal.entity_type(), context.clone())
                    .ok()
                    .map(|a| pairs(&a.uids)),
            })
        })
        .collect()
}

/// `cedar-policy`'s views of `requests`.
pub fn cedar_views(
    schema: &cedar_policy::Schema,
    policies: &cedar_policy::PolicySet,
    entities: &cedar_policy::Entities,
    requests: &[Option<cedar_policy::Request>],
) -> Vec<Option<View>> {
    use cedar_policy::{
        Decision, PartialEntities, PartialEntityUid, PartialRequest, PrincipalQueryRequest,
        ResourceQueryRequest,
    };
    let Ok(partial_entities) = PartialEntities::from_concrete(entities.clone(), schema) else {
        return requests.iter().map(|_| None).collect();
    };
    let pairs = |uids: &mut dyn Iterator<Item = cedar_policy::EntityUid>| {
        uids.map(|u| (u.type_name().to_string(), u.id().unescaped().to_string()))
            .collect::<BTreeSet<_>>()
    };
    requests
        .iter()
        .map(|request| {
            let request = request.as_ref()?;
            let (principal, action, resource) =
                (request.principal()?, request.action()?, request.resource()?);
            let context = request.context()?;
            let decide = |p: PartialEntityUid, r: PartialEntityUid| {
                let partial =
                    PartialRequest::new(p, action.clone(), r, Some(context.clone()), schema)
                        .ok()?;
                let answer = policies.tpe(&partial, &partial_entities, schema).ok()?;
                Some(answer.decision().map(|d| d == Decision::Allow))
            };
            let resources = ResourceQueryRequest::new(
                principal.clone(),
                action.clone(),
                resource.type_name().clone(),
                context.clone(),
                schema,
            )
            .ok()
            .and_then(|q| policies.query_resource(&q, entities, schema).ok())
            .map(|mut uids| pairs(&mut uids));
            let principals = PrincipalQueryRequest::new(
                principal.type_name().clone(),
                action.clone(),
                resource.clone(),
                context.clone(),
                schema,
            )
            .ok()
            .and_then(|q| policies.query_principal(&q, entities, schema).ok())
            .map(|mut uids| pairs(&mut uids));
            Some(View {
                resource_unknown: decide(
                    PartialEntityUid::from_concrete(principal.clone()),
                    PartialEntityUid::new(resource.type_name().clone(), None),
                ),
                principal_unknown: decide(
                    PartialEntityUid::new(principal.type_name().clone(), None),
                    PartialEntityUid::from_concrete(resource.clone()),
                ),
                resources,
                principals,
            })
        })
        .collect()
}

/// Where the two engines' views disagree, described.
pub fn disagreements(ours: &[Option<View>], theirs: &[Option<View>]) -> Vec<String> {
    let mut out = Vec::new();
    for (i, (a, b)) in ours.iter().zip(theirs).enumerate() {
        let (Some(a), Some(b)) = (a, b) else {
            continue;
        };
        let decisions = [
            ("resource", a.resource_unknown, b.resource_unknown),
            ("principal", a.principal_unknown, b.principal_unknown),
        ];
        for (what, ours, theirs) in decisions {
            if let (Some(Some(x)), Some(Some(y))) = (ours, theirs)
                && x != y
            {
                out.push(format!(
                    "request {i}, {what} unknown: thuja allows: {x}, cedar's tpe allows: {y}"
                ));
            }
        }
        let lists = [
            ("resources", &a.resources, &b.resources),
            ("principals", &a.principals, &b.principals),
        ];
        for (what, ours, theirs) in lists {
            if let (Some(x), Some(y)) = (ours, theirs)
                && x != y
            {
                out.push(format!(
                    "request {i}: {what} queried: thuja {x:?}, cedar's tpe {y:?}"
                ));
            }
        }
    }
    out
}
