//! The index written out for people (`thuja compile --listing`).

use std::fmt;

use super::ScopeIndex;
use super::bits::Bits;
use super::side::{KeyName, Side};
use crate::ast::Effect;

/// A listing of the index, one key per line in a stable order, e.g.
///
/// ```text
/// 0: policy0 (permit)
/// principal in Role::"admin": {0}
/// action any: {0}
/// resource any: {0}
/// ```
impl fmt::Display for ScopeIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (n, p) in self.policies.iter().enumerate() {
            let effect = match p.effect {
                Effect::Permit => "permit",
                Effect::Forbid => "forbid",
            };
            writeln!(f, "{n}: {} ({effect})", p.id)?;
        }
        list_side(f, "principal", &self.principal)?;
        list_side(f, "action", &self.action)?;
        list_side(f, "resource", &self.resource)?;
        list_numbers(f, "unresolved", self.unresolved.iter())
    }
}

/// One line per key of `side` that has policies, e.g. `principal in Role::"admin": {0}`.
fn list_side(f: &mut fmt::Formatter<'_>, var: &str, side: &Side) -> fmt::Result {
    let mut result = Ok(());
    side.each_key(&mut |name, bits| {
        if result.is_ok() {
            result = list_key(f, var, &name, bits);
        }
    });
    result
}

fn list_key(f: &mut fmt::Formatter<'_>, var: &str, name: &KeyName<'_>, bits: &Bits) -> fmt::Result {
    let what = match name {
        KeyName::Any => format!("{var} any"),
        KeyName::Eq(uid) => format!("{var} == {uid}"),
        KeyName::In(uid) => format!("{var} in {uid}"),
        KeyName::Is(ty) => format!("{var} is {ty}"),
        KeyName::IsIn(ty, uid) => format!("{var} is {ty} in {uid}"),
    };
    let mut numbers = Vec::new();
    bits.each(&mut |n| numbers.push(n));
    list_numbers(f, &what, numbers.into_iter())
}

/// `what: {n, m, ...}`, or nothing when there are no numbers.
fn list_numbers(
    f: &mut fmt::Formatter<'_>,
    what: &str,
    mut numbers: impl Iterator<Item = u32>,
) -> fmt::Result {
    let Some(first) = numbers.next() else {
        return Ok(());
    };
    write!(f, "{what}: {{{first}")?;
    for n in numbers {
        write!(f, ", {n}")?;
    }
    writeln!(f, "}}")
}
