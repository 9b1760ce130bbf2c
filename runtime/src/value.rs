//! Cedar values: booleans, longs, strings, entity references, sets, records and extension values.
//!
//! Sets and records are immutable and shared (`Arc`), so copying a value is cheap. Sets are kept
//! ordered and deduplicated, which makes set equality structural and independent of the order
//! elements were written in.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;

use crate::error::EvalError;
use crate::ext::{ExtFn, ExtValue};
use crate::uid::{EntityUid, write_escaped};

/// A Cedar runtime value.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub enum Value {
    Bool(bool),
    Long(i64),
    String(Arc<str>),
    Entity(EntityUid),
    Set(Set),
    Record(Record),
    Ext(ExtValue),
}

/// An immutable set of values.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Default)]
pub struct Set(Arc<BTreeSet<Value>>);

/// An immutable record: attribute names to values, kept in name order.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Default)]
pub struct Record(Arc<BTreeMap<Arc<str>, Value>>);

/// The dynamic type of a value, as named in type errors.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub enum ValueType {
    Bool,
    Long,
    String,
    Entity,
    Set,
    Record,
    /// An extension type, by its Cedar name (`decimal`, `ipaddr`, `datetime`, `duration`).
    Ext(&'static str),
}

impl fmt::Display for ValueType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ValueType::Bool => f.write_str("bool"),
            ValueType::Long => f.write_str("long"),
            ValueType::String => f.write_str("string"),
            ValueType::Entity => f.write_str("(entity of any type)"),
            ValueType::Set => f.write_str("set"),
            ValueType::Record => f.write_str("record"),
            ValueType::Ext(name) => write!(f, "{name}"),
        }
    }
}

impl Value {
    pub fn string(s: impl Into<Arc<str>>) -> Value {
        Value::String(s.into())
    }

    /// A set of `values` (repeats kept once).
    pub fn set(values: impl IntoIterator<Item = Value>) -> Value {
        Value::Set(values.into_iter().collect())
    }

    /// A record of `(name, value)` attributes (of a repeated name, the last kept).
    pub fn record<K: Into<Arc<str>>>(attrs: impl IntoIterator<Item = (K, Value)>) -> Value {
        Value::Record(attrs.into_iter().collect())
    }

    /// A `decimal` value, parsed as Cedar's `decimal("...")` parses its argument.
    pub fn decimal(text: &str) -> Result<Value, EvalError> {
        ExtFn::Decimal.call(&[Value::string(text)])
    }

    /// An `ipaddr` value, parsed as Cedar's `ip("...")` parses its argument.
    pub fn ipaddr(text: &str) -> Result<Value, EvalError> {
        ExtFn::Ip.call(&[Value::string(text)])
    }

    /// A `datetime` value, parsed as Cedar's `datetime("...")` parses its argument.
    pub fn datetime(text: &str) -> Result<Value, EvalError> {
        ExtFn::Datetime.call(&[Value::string(text)])
    }

    /// A `duration` value, parsed as Cedar's `duration("...")` parses its argument.
    pub fn duration(text: &str) -> Result<Value, EvalError> {
        ExtFn::Duration.call(&[Value::string(text)])
    }

    pub fn value_type(&self) -> ValueType {
        match self {
            Value::Bool(_) => ValueType::Bool,
            Value::Long(_) => ValueType::Long,
            Value::String(_) => ValueType::String,
            Value::Entity(_) => ValueType::Entity,
            Value::Set(_) => ValueType::Set,
            Value::Record(_) => ValueType::Record,
            Value::Ext(e) => ValueType::Ext(e.type_name()),
        }
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::Long(i)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::String(s.into())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(s.into())
    }
}

impl From<Set> for Value {
    fn from(set: Set) -> Self {
        Value::Set(set)
    }
}

impl From<Record> for Value {
    fn from(record: Record) -> Self {
        Value::Record(record)
    }
}

impl From<EntityUid> for Value {
    fn from(uid: EntityUid) -> Self {
        Value::Entity(uid)
    }
}

impl From<ExtValue> for Value {
    fn from(e: ExtValue) -> Self {
        Value::Ext(e)
    }
}

impl Set {
    pub fn iter(&self) -> impl Iterator<Item = &Value> {
        self.0.iter()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn contains(&self, v: &Value) -> bool {
        self.0.contains(v)
    }

    /// Whether every element of `self` is in `other`.
    pub fn is_subset(&self, other: &Set) -> bool {
        self.0.is_subset(&other.0)
    }

    /// Whether `self` and `other` share no element.
    pub fn is_disjoint(&self, other: &Set) -> bool {
        self.0.is_disjoint(&other.0)
    }
}

impl FromIterator<Value> for Set {
    fn from_iter<I: IntoIterator<Item = Value>>(iter: I) -> Self {
        Set(Arc::new(iter.into_iter().collect()))
    }
}

impl Record {
    pub fn get(&self, attr: &str) -> Option<&Value> {
        self.0.get(attr)
    }

    pub fn contains_key(&self, attr: &str) -> bool {
        self.0.contains_key(attr)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&Arc<str>, &Value)> {
        self.0.iter()
    }

    pub fn keys(&self) -> impl Iterator<Item = &Arc<str>> {
        self.0.keys()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<BTreeMap<Arc<str>, Value>> for Record {
    fn from(map: BTreeMap<Arc<str>, Value>) -> Self {
        Record(Arc::new(map))
    }
}

/// A record from `(name, value)` pairs, the name an `Arc<str>`, `&str` or `String`.
impl<K: Into<Arc<str>>> FromIterator<(K, Value)> for Record {
    fn from_iter<I: IntoIterator<Item = (K, Value)>>(iter: I) -> Self {
        Record(Arc::new(
            iter.into_iter().map(|(k, v)| (k.into(), v)).collect(),
        ))
    }
}

/// Values print in Cedar expression syntax: `"s"`, `User::"a"`, `[1, 2]`, `{"k": true}`,
/// `decimal("1.5")`.
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Bool(b) => write!(f, "{b}"),
            Value::Long(i) => write!(f, "{i}"),
            Value::String(s) => {
                f.write_str("\"")?;
                write_escaped(f, s)?;
                f.write_str("\"")
            }
            Value::Entity(uid) => write!(f, "{uid}"),
            Value::Set(set) => {
                f.write_str("[")?;
                for (i, v) in set.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{v}")?;
                }
                f.write_str("]")
            }
            Value::Record(rec) => {
                f.write_str("{")?;
                for (i, (k, v)) in rec.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    f.write_str("\"")?;
                    write_escaped(f, k)?;
                    write!(f, "\": {v}")?;
                }
                f.write_str("}")
            }
            Value::Ext(e) => write!(f, "{e}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_are_deduplicated_and_order_independent() {
        let a: Set = [Value::Long(2), Value::Long(1), Value::Long(2)]
            .into_iter()
            .collect();
        let b: Set = [Value::Long(1), Value::Long(2)].into_iter().collect();
        assert_eq!(a, b);
        assert_eq!(a.len(), 2);
        assert!(b.is_subset(&a));
        assert!(!a.is_disjoint(&b));
    }

    #[test]
    fn values_display_in_cedar_syntax() {
        let rec: Record = [
            (Arc::from("b"), Value::Bool(true)),
            (Arc::from("a"), Value::string("x\"")),
        ]
        .into_iter()
        .collect();
        let set: Set = [Value::Long(-1), Value::Record(rec)].into_iter().collect();
        assert_eq!(
            Value::Set(set).to_string(),
            r#"[-1, {"a": "x\"", "b": true}]"#
        );
    }

    #[test]
    fn values_of_different_types_are_unequal() {
        assert_ne!(Value::Long(1), Value::Bool(true));
        assert_ne!(Value::string("1"), Value::Long(1));
    }
}
