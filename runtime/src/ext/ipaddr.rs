//! PLACEHOLDER — to be replaced by the real implementation.
use std::fmt;
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct IpAddr(u8);
impl IpAddr {
    pub fn parse(s: &str) -> Result<IpAddr, String> { Err(format!("unimplemented: {s}")) }
    pub fn is_ipv4(&self) -> bool { false }
    pub fn is_ipv6(&self) -> bool { false }
    pub fn is_loopback(&self) -> bool { false }
    pub fn is_multicast(&self) -> bool { false }
    pub fn is_in_range(&self, _other: IpAddr) -> bool { false }
}
impl fmt::Display for IpAddr { fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { write!(f, "{}", self.0) } }
