//! The `ipaddr` extension type: an IPv4 or IPv6 address with a CIDR prefix length.
//!
//! `ip("a")` accepts the standard textual forms of an address, optionally followed by `/n`
//! (0–32 for IPv4, 0–128 for IPv6; no sign, no leading zeros). A bare address has the full prefix.
//! As in Cedar, strings mixing IPv6 colons and IPv4 dots (`::ffff:1.2.3.4`) are rejected, the
//! address is kept as written (so `ip("10.0.0.1/24") != ip("10.0.0.0/24")`), and an IPv4 value
//! is never in an IPv6 range or vice versa.

use std::fmt;
use std::net;

/// Longest accepted input: a full IPv6 address with a three-digit prefix.
const MAX_TEXT_LEN: usize = 43;

/// An address and its prefix length.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct IpAddr {
    addr: net::IpAddr,
    prefix: u8,
}

impl IpAddr {
    /// Parses an address or CIDR range with Cedar's rules.
    pub fn parse(s: &str) -> Result<IpAddr, String> {
        if s.len() > MAX_TEXT_LEN {
            return Err(format!("`{s}` is too long to be an IP address"));
        }
        if s.matches(':').nth(1).is_some() && s.matches('.').nth(1).is_some() {
            return Err(format!(
                "`{s}` is an IPv4 address embedded in IPv6, which is not accepted"
            ));
        }
        let (addr_text, prefix_text) = match s.split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix)),
            None => (s, None),
        };
        let addr: net::IpAddr = addr_text
            .parse()
            .map_err(|_| format!("`{s}` is not a valid IP address"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix_text {
            None => max,
            Some(p) => {
                parse_prefix(p, max).map_err(|why| format!("invalid prefix in `{s}`: {why}"))?
            }
        };
        Ok(IpAddr { addr, prefix })
    }

    pub fn is_ipv4(&self) -> bool {
        self.addr.is_ipv4()
    }

    pub fn is_ipv6(&self) -> bool {
        self.addr.is_ipv6()
    }

    /// In 127.0.0.0/8 or ::1, with a prefix at least as narrow as that range.
    pub fn is_loopback(&self) -> bool {
        let min_prefix = if self.is_ipv4() { 8 } else { 128 };
        self.addr.is_loopback() && self.prefix >= min_prefix
    }

    /// In 224.0.0.0/4 or ff00::/8, with a prefix at least as narrow as that range.
    pub fn is_multicast(&self) -> bool {
        let min_prefix = if self.is_ipv4() { 4 } else { 8 };
        self.addr.is_multicast() && self.prefix >= min_prefix
    }

    /// Whether every address of this range lies in `other`'s range (same IP version only).
    pub fn is_in_range(&self, other: IpAddr) -> bool {
        match (self.bounds(), other.bounds()) {
            (Some((lo, hi)), Some((other_lo, other_hi))) if self.is_ipv4() == other.is_ipv4() => {
                other_lo <= lo && hi <= other_hi
            }
            _ => false,
        }
    }

    /// The first and last address of the range, as integers of the address's width.
    fn bounds(&self) -> Option<(u128, u128)> {
        let (bits, width): (u128, u32) = match self.addr {
            net::IpAddr::V4(a) => (u128::from(u32::from(a)), 32),
            net::IpAddr::V6(a) => (u128::from(a), 128),
        };
        let host_bits = width.checked_sub(u32::from(self.prefix))?;
        let all = if width == 128 {
            u128::MAX
        } else {
            (1u128 << width) - 1
        };
        let host_mask = if host_bits == 128 {
            u128::MAX
        } else {
            (1u128 << host_bits) - 1
        };
        let net_mask = all & !host_mask;
        Some((bits & net_mask, bits | host_mask))
    }
}

fn parse_prefix(text: &str, max: u8) -> Result<u8, String> {
    let max_len = if max == 32 { 2 } else { 3 };
    if text.is_empty() || text.len() > max_len || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("`{text}` is not a prefix length"));
    }
    if text.len() > 1 && text.starts_with('0') {
        return Err(format!("`{text}` has leading zeros"));
    }
    match text.parse::<u8>() {
        Ok(n) if n <= max => Ok(n),
        _ => Err(format!("{text} is larger than {max}")),
    }
}

/// Prints address and prefix: `ip("10.0.0.1")` displays as `10.0.0.1/32`.
impl fmt::Display for IpAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        IpAddr::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn parses_addresses_and_ranges() {
        assert_eq!(ip("10.0.0.1").to_string(), "10.0.0.1/32");
        assert_eq!(ip("10.0.0.0/8").to_string(), "10.0.0.0/8");
        assert_eq!(ip("::1").to_string(), "::1/128");
        assert_eq!(ip("ffee::/64").to_string(), "ffee::/64");
        assert_eq!(ip("0.0.0.0/0").to_string(), "0.0.0.0/0");
        assert!(ip("::ffff:ff00:1").is_ipv6());
    }

    #[test]
    fn rejects_malformed() {
        for bad in [
            "",
            "10.0.0",
            "10.0.0.256",
            "10.0.0.1/33",
            "10.0.0.1/",
            "10.0.0.1/08",
            "10.0.0.1/+8",
            "::1/129",
            "::1/0128",
            "::ffff:127.0.0.1",
            "::127.0.0.1",
            "010.0.0.1",
            "1.2.3.4 ",
            "1:2:3:4:5:6:7:8:9",
            "10.0.0.1/8/8",
        ] {
            assert!(IpAddr::parse(bad).is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn keeps_host_bits_for_equality() {
        assert_ne!(ip("10.0.0.1/24"), ip("10.0.0.0/24"));
    }

    #[test]
    fn classifies() {
        assert!(ip("127.0.0.1").is_loopback());
        assert!(ip("127.0.0.0/8").is_loopback());
        assert!(!ip("127.0.0.0/7").is_loopback());
        assert!(ip("::1").is_loopback());
        assert!(!ip("::1/127").is_loopback());
        assert!(!ip("::ffff:7f00:1").is_loopback());
        assert!(ip("224.0.0.1").is_multicast());
        assert!(!ip("224.0.0.0/3").is_multicast());
        assert!(ip("ff02::1").is_multicast());
        assert!(!ip("ff00::/7").is_multicast());
    }

    #[test]
    fn ranges() {
        assert!(ip("10.1.2.3").is_in_range(ip("10.0.0.0/8")));
        assert!(ip("10.0.0.0/16").is_in_range(ip("10.0.0.0/8")));
        assert!(!ip("10.0.0.0/8").is_in_range(ip("10.0.0.0/16")));
        assert!(ip("10.0.0.5/24").is_in_range(ip("10.0.0.0/24")));
        assert!(ip("1.2.3.4").is_in_range(ip("0.0.0.0/0")));
        assert!(!ip("::1").is_in_range(ip("0.0.0.0/0")));
        assert!(!ip("1.2.3.4").is_in_range(ip("::/0")));
        assert!(ip("ffee::1").is_in_range(ip("ffee::/64")));
        assert!(ip("::1").is_in_range(ip("::/0")));
    }
}
