//! PLACEHOLDER — to be replaced by the real implementation.
use std::fmt;
use super::Duration;
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct Datetime(i64);
impl Datetime {
    pub fn parse(s: &str) -> Result<Datetime, String> { Err(format!("unimplemented: {s}")) }
    pub fn offset(&self, _d: Duration) -> Option<Datetime> { None }
    pub fn duration_since(&self, _o: Datetime) -> Option<Duration> { None }
    pub fn to_date(&self) -> Option<Datetime> { None }
    pub fn to_time(&self) -> Duration { Duration::from_millis(0) }
}
impl fmt::Display for Datetime { fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { write!(f, "{}", self.0) } }
