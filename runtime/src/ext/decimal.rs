//! PLACEHOLDER — to be replaced by the real implementation.
use std::fmt;
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct Decimal(i64);
impl Decimal {
    pub fn parse(s: &str) -> Result<Decimal, String> { Err(format!("unimplemented: {s}")) }
}
impl fmt::Display for Decimal { fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { write!(f, "{}", self.0) } }
