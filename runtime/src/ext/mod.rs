//! Cedar's extension types — `decimal`, `ipaddr`, `datetime`, `duration` — and their functions.
//!
//! Each type lives in its own module with Cedar's exact parsing and semantics. This module is the
//! one table of extension functions: their names, whether they are called as functions
//! (`ip("10.0.0.1")`) or as methods (`x.isIpv4()`), and how a call checks its arguments. Every
//! evaluation tier calls extension functions through [`ExtFn::call`].

pub mod datetime;
pub mod decimal;
pub mod duration;
pub mod ipaddr;

use std::cmp::Ordering;
use std::fmt;

use crate::error::EvalError;
use crate::value::{Value, ValueType};

pub use datetime::Datetime;
pub use decimal::Decimal;
pub use duration::Duration;
pub use ipaddr::IpAddr;

/// A value of an extension type.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub enum ExtValue {
    Decimal(Decimal),
    Ip(IpAddr),
    Datetime(Datetime),
    Duration(Duration),
}

impl ExtValue {
    /// The type's name as Cedar writes it in schemas and errors.
    pub fn type_name(&self) -> &'static str {
        match self {
            ExtValue::Decimal(_) => "decimal",
            ExtValue::Ip(_) => "ipaddr",
            ExtValue::Datetime(_) => "datetime",
            ExtValue::Duration(_) => "duration",
        }
    }

    /// Orders two values for `<`, `<=`, `>`, `>=`, which Cedar allows on `datetime` and
    /// `duration` (of the same type). `None` when the operators do not apply.
    pub fn compare(&self, other: &ExtValue) -> Option<Ordering> {
        match (self, other) {
            (ExtValue::Datetime(a), ExtValue::Datetime(b)) => Some(a.cmp(b)),
            (ExtValue::Duration(a), ExtValue::Duration(b)) => Some(a.cmp(b)),
            _ => None,
        }
    }

    /// Whether values of this type support the comparison operators.
    pub fn supports_ordering(&self) -> bool {
        matches!(self, ExtValue::Datetime(_) | ExtValue::Duration(_))
    }
}

/// Extension values print as the constructor call that makes them, e.g. `decimal("1.5000")`.
impl fmt::Display for ExtValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExtValue::Decimal(d) => write!(f, "decimal(\"{d}\")"),
            ExtValue::Ip(ip) => write!(f, "ip(\"{ip}\")"),
            ExtValue::Datetime(d) => match d.to_iso() {
                Some(iso) => write!(f, "datetime(\"{iso}\")"),
                None => write!(
                    f,
                    "datetime(\"1970-01-01\").offset(duration(\"{}ms\"))",
                    d.epoch_millis()
                ),
            },
            ExtValue::Duration(d) => write!(f, "duration(\"{d}\")"),
        }
    }
}

/// Every extension function Cedar defines.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum ExtFn {
    // constructors
    Decimal,
    Ip,
    Datetime,
    Duration,
    // decimal
    LessThan,
    LessThanOrEqual,
    GreaterThan,
    GreaterThanOrEqual,
    // ipaddr
    IsIpv4,
    IsIpv6,
    IsLoopback,
    IsMulticast,
    IsInRange,
    // datetime
    Offset,
    DurationSince,
    ToDate,
    ToTime,
    // duration
    ToMilliseconds,
    ToSeconds,
    ToMinutes,
    ToHours,
    ToDays,
}

const ALL: [ExtFn; 22] = [
    ExtFn::Decimal,
    ExtFn::Ip,
    ExtFn::Datetime,
    ExtFn::Duration,
    ExtFn::LessThan,
    ExtFn::LessThanOrEqual,
    ExtFn::GreaterThan,
    ExtFn::GreaterThanOrEqual,
    ExtFn::IsIpv4,
    ExtFn::IsIpv6,
    ExtFn::IsLoopback,
    ExtFn::IsMulticast,
    ExtFn::IsInRange,
    ExtFn::Offset,
    ExtFn::DurationSince,
    ExtFn::ToDate,
    ExtFn::ToTime,
    ExtFn::ToMilliseconds,
    ExtFn::ToSeconds,
    ExtFn::ToMinutes,
    ExtFn::ToHours,
    ExtFn::ToDays,
];

impl ExtFn {
    /// Finds a function by its Cedar name (`ip`, `isInRange`, ...).
    pub fn lookup(name: &str) -> Option<ExtFn> {
        ALL.into_iter().find(|f| f.name() == name)
    }

    /// All extension functions, for suggestions in error messages.
    pub fn all() -> impl Iterator<Item = ExtFn> {
        ALL.into_iter()
    }

    pub fn name(self) -> &'static str {
        match self {
            ExtFn::Decimal => "decimal",
            ExtFn::Ip => "ip",
            ExtFn::Datetime => "datetime",
            ExtFn::Duration => "duration",
            ExtFn::LessThan => "lessThan",
            ExtFn::LessThanOrEqual => "lessThanOrEqual",
            ExtFn::GreaterThan => "greaterThan",
            ExtFn::GreaterThanOrEqual => "greaterThanOrEqual",
            ExtFn::IsIpv4 => "isIpv4",
            ExtFn::IsIpv6 => "isIpv6",
            ExtFn::IsLoopback => "isLoopback",
            ExtFn::IsMulticast => "isMulticast",
            ExtFn::IsInRange => "isInRange",
            ExtFn::Offset => "offset",
            ExtFn::DurationSince => "durationSince",
            ExtFn::ToDate => "toDate",
            ExtFn::ToTime => "toTime",
            ExtFn::ToMilliseconds => "toMilliseconds",
            ExtFn::ToSeconds => "toSeconds",
            ExtFn::ToMinutes => "toMinutes",
            ExtFn::ToHours => "toHours",
            ExtFn::ToDays => "toDays",
        }
    }

    /// Constructors are called as functions (`decimal("1.0")`); everything else as a method
    /// whose receiver is the first argument (`d.lessThan(e)`).
    pub fn is_method(self) -> bool {
        !matches!(
            self,
            ExtFn::Decimal | ExtFn::Ip | ExtFn::Datetime | ExtFn::Duration
        )
    }

    /// Number of arguments, counting a method's receiver.
    pub fn arity(self) -> usize {
        match self {
            ExtFn::Decimal | ExtFn::Ip | ExtFn::Datetime | ExtFn::Duration => 1,
            ExtFn::LessThan
            | ExtFn::LessThanOrEqual
            | ExtFn::GreaterThan
            | ExtFn::GreaterThanOrEqual
            | ExtFn::IsInRange
            | ExtFn::Offset
            | ExtFn::DurationSince => 2,
            _ => 1,
        }
    }

    /// Applies the function to evaluated arguments (a method's receiver first), checking their
    /// number and types.
    pub fn call(self, args: &[Value]) -> Result<Value, EvalError> {
        if args.len() != self.arity() {
            return Err(EvalError::WrongArity {
                function: self.name(),
                expected: self.arity(),
                actual: args.len(),
            });
        }
        let ext_err = |message: String| EvalError::Extension {
            function: self.name(),
            message,
        };
        let value = match self {
            ExtFn::Decimal => {
                ExtValue::Decimal(Decimal::parse(string_arg(&args[0])?).map_err(ext_err)?).into()
            }
            ExtFn::Ip => {
                ExtValue::Ip(IpAddr::parse(string_arg(&args[0])?).map_err(ext_err)?).into()
            }
            ExtFn::Datetime => {
                ExtValue::Datetime(Datetime::parse(string_arg(&args[0])?).map_err(ext_err)?).into()
            }
            ExtFn::Duration => {
                ExtValue::Duration(Duration::parse(string_arg(&args[0])?).map_err(ext_err)?).into()
            }
            ExtFn::LessThan => (decimal_arg(&args[0])? < decimal_arg(&args[1])?).into(),
            ExtFn::LessThanOrEqual => (decimal_arg(&args[0])? <= decimal_arg(&args[1])?).into(),
            ExtFn::GreaterThan => (decimal_arg(&args[0])? > decimal_arg(&args[1])?).into(),
            ExtFn::GreaterThanOrEqual => (decimal_arg(&args[0])? >= decimal_arg(&args[1])?).into(),
            ExtFn::IsIpv4 => ip_arg(&args[0])?.is_ipv4().into(),
            ExtFn::IsIpv6 => ip_arg(&args[0])?.is_ipv6().into(),
            ExtFn::IsLoopback => ip_arg(&args[0])?.is_loopback().into(),
            ExtFn::IsMulticast => ip_arg(&args[0])?.is_multicast().into(),
            ExtFn::IsInRange => ip_arg(&args[0])?.is_in_range(ip_arg(&args[1])?).into(),
            ExtFn::Offset => {
                let d = datetime_arg(&args[0])?;
                let by = duration_arg(&args[1])?;
                ExtValue::Datetime(
                    d.offset(by)
                        .ok_or_else(|| ext_err(format!("overflow when offsetting {d} by {by}")))?,
                )
                .into()
            }
            ExtFn::DurationSince => {
                let a = datetime_arg(&args[0])?;
                let b = datetime_arg(&args[1])?;
                ExtValue::Duration(a.duration_since(b).ok_or_else(|| {
                    ext_err(format!(
                        "overflow when computing the duration from {b} to {a}"
                    ))
                })?)
                .into()
            }
            ExtFn::ToDate => {
                let d = datetime_arg(&args[0])?;
                ExtValue::Datetime(
                    d.to_date().ok_or_else(|| {
                        ext_err(format!("overflow when computing the date of {d}"))
                    })?,
                )
                .into()
            }
            ExtFn::ToTime => ExtValue::Duration(datetime_arg(&args[0])?.to_time()).into(),
            ExtFn::ToMilliseconds => duration_arg(&args[0])?.to_milliseconds().into(),
            ExtFn::ToSeconds => duration_arg(&args[0])?.to_seconds().into(),
            ExtFn::ToMinutes => duration_arg(&args[0])?.to_minutes().into(),
            ExtFn::ToHours => duration_arg(&args[0])?.to_hours().into(),
            ExtFn::ToDays => duration_arg(&args[0])?.to_days().into(),
        };
        Ok(value)
    }
}

fn string_arg(v: &Value) -> Result<&str, EvalError> {
    match v {
        Value::String(s) => Ok(s),
        other => Err(EvalError::type_error(ValueType::String, other.value_type())),
    }
}

macro_rules! ext_arg {
    ($fn_name:ident, $variant:ident, $ty:ty, $type_name:literal) => {
        fn $fn_name(v: &Value) -> Result<$ty, EvalError> {
            match v {
                Value::Ext(ExtValue::$variant(x)) => Ok(*x),
                other => Err(EvalError::type_error(
                    ValueType::Ext($type_name),
                    other.value_type(),
                )),
            }
        }
    };
}

ext_arg!(decimal_arg, Decimal, Decimal, "decimal");
ext_arg!(ip_arg, Ip, IpAddr, "ipaddr");
ext_arg!(datetime_arg, Datetime, Datetime, "datetime");
ext_arg!(duration_arg, Duration, Duration, "duration");
