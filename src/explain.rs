//! Why a request was decided as it was: [`Engine::explain`](crate::Engine::explain), and
//! `thuja authorize --explain`.
//!
//! For every policy an [`Explanation`] says why it did or did not apply: it applied; a scope
//! constraint did not hold (the constraint, and the request's entity it did not hold for); a
//! condition came out the wrong way (which one, where, and inside it the subexpression that
//! decided it, with the values of its operands); or it raised an error (located). When the
//! request is denied and no permit applied, it names the permits that came closest (the most
//! scope parts, then conditions, then terms of the failing condition that held).
//!
//! It is found by the reference interpreter ([`thuja_interp::explain`]), whatever evaluator
//! the engine decides with; its decision, reasons and errors are those of
//! [`Engine::decide`](crate::Engine::decide) (the differential tests check it).

use std::fmt;

use thuja_compiler::ast::{
    ActionConstraint, ActivePolicy, ConditionKind, EntityRef, PolicySet, ScopeConstraint,
};
use thuja_interp::explain::{self as trace, Outcome};
use thuja_runtime::{
    Decision, Entities, EntityUid, Location, PolicyError, PolicyId, PolicyIds, Request, Span, Value,
};

use crate::locate::Locator;

pub use thuja_compiler::ast::Effect;
pub use thuja_interp::explain::{Progress, ScopePart};

/// At most this many permits are named as the closest to applying.
pub const CLOSEST: usize = 3;

/// Text of an expression or value longer than this many characters is cut short (`…`).
const MAX_SHOWN: usize = 160;

/// At most this many ids of policies for other actions are listed by name.
const MAX_OTHER_ACTIONS_SHOWN: usize = 10;

/// Why a request was decided as it was.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Explanation {
    /// The decision: allow exactly when some permit applied and no forbid did.
    pub decision: Decision,
    /// Every policy and template link, in the policy set's order.
    pub policies: Vec<PolicyExplanation>,
    /// When the request is denied and no permit applied: the permits that came closest to
    /// applying, closest first (at most [`CLOSEST`]), as indices into `policies`.
    pub closest: Vec<usize>,
}

/// Why one policy did or did not apply.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct PolicyExplanation {
    /// The policy's id (a template link's for a link).
    pub id: PolicyId,
    /// Permit or forbid.
    pub effect: Effect,
    /// Where the policy starts.
    pub location: Option<Location>,
    /// Why it did or did not apply.
    pub reason: Reason,
    /// How far it got (for ranking the permits that came closest).
    pub progress: Progress,
}

/// Why a policy did or did not apply.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Reason {
    /// Its scope held and every condition came out as it must.
    Applied,
    /// These scope constraints did not hold (its conditions were not evaluated).
    Scope(Vec<ScopeMiss>),
    /// A condition did not come out as it must.
    Condition(ConditionMiss),
    /// Its evaluation raised this error (located); the policy does not apply.
    Error(PolicyError),
}

/// A scope constraint that did not hold.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ScopeMiss {
    /// The principal, action or resource constraint.
    pub part: ScopePart,
    /// The constraint as Cedar text (a template's slot shown with its linked entity).
    pub constraint: String,
    /// The request's entity it did not hold for.
    pub entity: EntityUid,
}

/// A condition that did not come out as it must: a `when` that was false, or an `unless`
/// that was true.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ConditionMiss {
    /// A `when` (it was false) or an `unless` (it was true).
    pub kind: ConditionKind,
    /// Its number among the policy's conditions, from 0 (the ones before it held).
    pub index: usize,
    /// Where the condition is.
    pub location: Option<Location>,
    /// The subexpression that decided the condition's value.
    pub deciding: Shown,
    /// What that subexpression evaluated to.
    pub value: bool,
    /// Its operands and their values (none for a literal or a variable).
    pub operands: Vec<(Shown, Value)>,
}

/// A piece of a policy: its text (whitespace runs made one space, cut short past a limit) and
/// where it is.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Shown {
    /// The text as written, whitespace runs made one space.
    pub text: String,
    /// Where it starts.
    pub location: Option<Location>,
}

impl Explanation {
    /// Explains `request` against `policies` and `entities` (a request already validated, if
    /// it is to be); `locator` places the spans of `policies`.
    pub(crate) fn new(
        policies: &PolicySet,
        request: &Request,
        entities: &Entities,
        locator: &Locator,
    ) -> Self {
        let explained: Vec<PolicyExplanation> = policies
            .active()
            .map(|active| {
                let trace = trace::explain_policy(&active, request, entities);
                explain_one(&active, trace, locator)
            })
            .collect();
        let applied = |effect: Effect| {
            explained
                .iter()
                .any(|p| p.effect == effect && matches!(p.reason, Reason::Applied))
        };
        let permitted = applied(Effect::Permit);
        let decision = if permitted && !applied(Effect::Forbid) {
            Decision::Allow
        } else {
            Decision::Deny
        };
        let mut closest = Vec::new();
        if !permitted {
            closest = (0..explained.len())
                .filter(|&i| explained.get(i).is_some_and(|p| p.effect == Effect::Permit))
                .collect();
            // Closest first; among equals, the first written.
            closest.sort_by(|&a, &b| {
                let progress = |i: usize| explained.get(i).map(|p| p.progress).unwrap_or_default();
                progress(b).closeness_cmp(&progress(a)).then(a.cmp(&b))
            });
            closest.truncate(CLOSEST);
        }
        Explanation {
            decision,
            policies: explained,
            closest,
        }
    }

    /// The policies that determined the decision, as a [`Response`](crate::Response) names
    /// them: the applied permits when allowed, else the applied forbids.
    pub fn reasons(&self) -> PolicyIds {
        let effect = match self.decision {
            Decision::Allow => Effect::Permit,
            Decision::Deny => Effect::Forbid,
        };
        self.policies
            .iter()
            .filter(|p| p.effect == effect && matches!(p.reason, Reason::Applied))
            .map(|p| p.id.clone())
            .collect()
    }

    /// The errors policies raised, in the policy set's order.
    pub fn errors(&self) -> impl Iterator<Item = &PolicyError> {
        self.policies.iter().filter_map(|p| match &p.reason {
            Reason::Error(e) => Some(e),
            _ => None,
        })
    }
}

fn explain_one(
    active: &ActivePolicy<'_>,
    trace: trace::PolicyTrace,
    locator: &Locator,
) -> PolicyExplanation {
    let policy = active.policy;
    let at = |span: Span| locator.location(active.id, span.start);
    let shown = |span: Span| Shown {
        text: shorten(policy.source.snippet(span).unwrap_or("")),
        location: at(span),
    };
    let reason = match trace.outcome {
        Outcome::Satisfied => Reason::Applied,
        Outcome::Scope(misses) => Reason::Scope(
            misses
                .into_iter()
                .map(|(part, entity)| ScopeMiss {
                    part,
                    constraint: scope_text(active, part),
                    entity,
                })
                .collect(),
        ),
        Outcome::Condition {
            index,
            kind,
            deciding,
        } => Reason::Condition(ConditionMiss {
            kind,
            index,
            location: policy.conditions.get(index).and_then(|c| at(c.span)),
            deciding: shown(deciding.span),
            value: deciding.value,
            operands: deciding
                .operands
                .into_iter()
                .map(|(span, value)| (shown(span), value))
                .collect(),
        }),
        Outcome::Error(failure) => {
            let mut error = PolicyError::new(active.id.clone(), failure);
            error.location = error.span.and_then(at);
            Reason::Error(error)
        }
    };
    PolicyExplanation {
        id: active.id.clone(),
        effect: policy.effect,
        location: at(policy.span),
        reason,
        progress: trace.progress,
    }
}

/// A scope constraint as Cedar text, a slot shown with the entity it was linked to.
fn scope_text(active: &ActivePolicy<'_>, part: ScopePart) -> String {
    let var = part.name();
    let entity = |r: &EntityRef| match r {
        EntityRef::Uid(uid) => uid.to_string(),
        EntityRef::Slot(slot) => match active.slots.and_then(|s| s.get(slot)) {
            Some(uid) => uid.to_string(),
            None => format!("?{var}"),
        },
    };
    let scope = |c: &ScopeConstraint| match c {
        ScopeConstraint::Any => var.to_string(),
        ScopeConstraint::Eq(r) => format!("{var} == {}", entity(r)),
        ScopeConstraint::In(r) => format!("{var} in {}", entity(r)),
        ScopeConstraint::Is(ty) => format!("{var} is {ty}"),
        ScopeConstraint::IsIn(ty, r) => format!("{var} is {ty} in {}", entity(r)),
    };
    let policy = active.policy;
    match part {
        ScopePart::Principal => scope(&policy.principal),
        ScopePart::Resource => scope(&policy.resource),
        ScopePart::Action => match &policy.action {
            ActionConstraint::Any => var.to_string(),
            ActionConstraint::Eq(uid) => format!("{var} == {uid}"),
            ActionConstraint::In(groups) => {
                let groups: Vec<String> = groups.iter().map(ToString::to_string).collect();
                shorten(&format!("{var} in [{}]", groups.join(", ")))
            }
        },
    }
}

/// `text` with each run of whitespace made one space, cut short past [`MAX_SHOWN`] characters.
fn shorten(text: &str) -> String {
    let mut out = String::new();
    for (i, word) in text.split_whitespace().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(word);
        if out.len() > MAX_SHOWN * 4 {
            break;
        }
    }
    cut(out)
}

fn cut(text: String) -> String {
    match text.char_indices().nth(MAX_SHOWN) {
        Some((at, _)) => format!("{}…", text.get(..at).unwrap_or("")),
        None => text,
    }
}

fn effect_name(effect: Effect) -> &'static str {
    match effect {
        Effect::Permit => "permit",
        Effect::Forbid => "forbid",
    }
}

fn kind_name(kind: ConditionKind) -> &'static str {
    match kind {
        ConditionKind::When => "when",
        ConditionKind::Unless => "unless",
    }
}

/// ` (file:line:col)`, or nothing.
struct At<'a>(&'a Option<Location>);

impl fmt::Display for At<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(location) => write!(f, " ({location})"),
            None => Ok(()),
        }
    }
}

/// Whether `p` did not apply only because the request's action is not one it is for.
fn for_other_actions(p: &PolicyExplanation) -> bool {
    matches!(&p.reason, Reason::Scope(misses)
        if misses.iter().any(|m| m.part == ScopePart::Action))
}

impl fmt::Display for ScopeMiss {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} scope `{}` does not hold for {}",
            self.part.name(),
            self.constraint,
            self.entity
        )
    }
}

impl ConditionMiss {
    /// One line: which condition, and the expression that decided it.
    fn summary(&self) -> String {
        format!(
            "`{}` condition{} is {}: `{}`{} is {}",
            kind_name(self.kind),
            At(&self.location),
            self.kind == ConditionKind::Unless,
            self.deciding.text,
            At(&self.deciding.location),
            self.value
        )
    }
}

/// The text of `explain`: each policy that applied, raised an error, or is for the request's
/// action and did not apply (with why), then the policies for other actions by id, then the
/// permits that came closest. One line per reason; a condition's deciding expression and its
/// operands' values on the lines below it.
impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut others: Vec<&PolicyId> = Vec::new();
        for p in &self.policies {
            if for_other_actions(p) {
                others.push(&p.id);
                continue;
            }
            write!(
                f,
                "  {} {}{}: ",
                effect_name(p.effect),
                p.id,
                At(&p.location)
            )?;
            match &p.reason {
                Reason::Applied => writeln!(f, "applied")?,
                Reason::Scope(misses) => {
                    let misses: Vec<String> = misses.iter().map(ToString::to_string).collect();
                    writeln!(f, "not applied: {}", misses.join("; "))?;
                }
                Reason::Condition(miss) => {
                    writeln!(f, "not applied: {}", miss.summary())?;
                    for (operand, value) in &miss.operands {
                        writeln!(f, "      `{}` = {}", operand.text, cut(value.to_string()))?;
                    }
                }
                Reason::Error(error) => {
                    write!(f, "error: {}", error.error)?;
                    writeln!(f, "{}", At(&error.location))?;
                }
            }
        }
        if !others.is_empty() {
            let shown: Vec<String> = others
                .iter()
                .take(MAX_OTHER_ACTIONS_SHOWN)
                .map(ToString::to_string)
                .collect();
            let more = others.len().saturating_sub(MAX_OTHER_ACTIONS_SHOWN);
            write!(
                f,
                "  not for this action ({}): {}",
                others.len(),
                shown.join(", ")
            )?;
            if more > 0 {
                write!(f, " and {more} more")?;
            }
            writeln!(f)?;
        }
        if !self.closest.is_empty() {
            writeln!(f, "  no permit applied; the closest:")?;
            for p in self.closest.iter().filter_map(|&i| self.policies.get(i)) {
                let lacked = match &p.reason {
                    Reason::Applied => "nothing".to_string(),
                    Reason::Scope(misses) => {
                        let misses: Vec<String> = misses.iter().map(ToString::to_string).collect();
                        misses.join("; ")
                    }
                    Reason::Condition(miss) => miss.summary(),
                    Reason::Error(error) => format!("it raised an error: {}", error.error),
                };
                writeln!(
                    f,
                    "    {}: {} of 3 scope parts held; lacked: {lacked}",
                    p.id, p.progress.scope
                )?;
            }
        } else if self.decision == Decision::Deny
            && self.policies.iter().all(|p| p.effect != Effect::Permit)
        {
            writeln!(f, "  no permit policy: Cedar denies by default")?;
        }
        Ok(())
    }
}
