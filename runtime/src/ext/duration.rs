//! PLACEHOLDER — to be replaced by the real implementation.
use std::fmt;
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct Duration(i64);
impl Duration {
    pub fn from_millis(ms: i64) -> Duration { Duration(ms) }
    pub fn parse(s: &str) -> Result<Duration, String> { Err(format!("unimplemented: {s}")) }
    pub fn to_milliseconds(&self) -> i64 { self.0 }
    pub fn to_seconds(&self) -> i64 { self.0 / 1000 }
    pub fn to_minutes(&self) -> i64 { self.0 / 60000 }
    pub fn to_hours(&self) -> i64 { self.0 / 3600000 }
    pub fn to_days(&self) -> i64 { self.0 / 86400000 }
}
impl fmt::Display for Duration { fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { write!(f, "{}", self.0) } }
