//! The `duration` extension type: a signed span of time in milliseconds.
//!
//! `duration("…")` accepts an optional `-` followed by quantity–unit pairs in the order `d`, `h`,
//! `m`, `s`, `ms`, each at most once and at least one in all (e.g. `1d2h`, `-3m4s5ms`); the
//! total must fit in an `i64` of milliseconds. Durations compare with `<`, `<=`, `>`, `>=`, and
//! their `to…` methods truncate toward zero.

use std::fmt;

const UNITS: [(&str, i128); 5] = [
    ("d", 86_400_000),
    ("h", 3_600_000),
    ("m", 60_000),
    ("s", 1_000),
    ("ms", 1),
];

/// A duration in milliseconds.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct Duration(i64);

impl Duration {
    pub fn from_millis(ms: i64) -> Duration {
        Duration(ms)
    }

    /// Parses Cedar's duration syntax.
    pub fn parse(s: &str) -> Result<Duration, String> {
        let malformed = || {
            format!(
                "`{s}` is not a well-formed duration: expected quantity-unit pairs such as `1d2h3m4s5ms`"
            )
        };
        let (negative, mut rest) = match s.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, s),
        };
        if rest.is_empty() {
            return Err(malformed());
        }
        let mut total: i128 = 0;
        let mut next_unit = 0;
        while !rest.is_empty() {
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            if digits == 0 {
                return Err(malformed());
            }
            let (number, after) = rest.split_at(digits);
            // `ms` must be tried before `m`.
            let (index, unit_len) = UNITS
                .iter()
                .enumerate()
                .skip(next_unit)
                .filter(|(_, (unit, _))| after.starts_with(unit))
                .map(|(i, (unit, _))| (i, unit.len()))
                .max_by_key(|&(_, len)| len)
                .ok_or_else(malformed)?;
            // A quantity beyond u64 is an overflow, as in Cedar.
            let quantity: u64 = number.parse().map_err(|_| overflow(s))?;
            total += i128::from(quantity) * UNITS[index].1;
            next_unit = index + 1;
            rest = &after[unit_len..];
        }
        let total = if negative { -total } else { total };
        i64::try_from(total).map(Duration).map_err(|_| overflow(s))
    }

    pub fn to_milliseconds(&self) -> i64 {
        self.0
    }

    pub fn to_seconds(&self) -> i64 {
        self.0 / 1_000
    }

    pub fn to_minutes(&self) -> i64 {
        self.0 / 60_000
    }

    pub fn to_hours(&self) -> i64 {
        self.0 / 3_600_000
    }

    pub fn to_days(&self) -> i64 {
        self.0 / 86_400_000
    }
}

fn overflow(s: &str) -> String {
    format!("overflow when converting `{s}` to a duration")
}

/// Prints milliseconds, as Cedar does: `duration("1s")` displays as `1000ms`.
impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}ms", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(s: &str) -> i64 {
        Duration::parse(s)
            .unwrap_or_else(|e| panic!("{s}: {e}"))
            .to_milliseconds()
    }

    #[test]
    fn parses_units_in_order() {
        assert_eq!(ms("1d2h3m4s5ms"), 93_784_005);
        assert_eq!(ms("-1d2h3m4s5ms"), -93_784_005);
        assert_eq!(ms("5ms"), 5);
        assert_eq!(ms("2m"), 120_000);
        assert_eq!(ms("2m5ms"), 120_005);
        assert_eq!(ms("0s"), 0);
        assert_eq!(ms("-9223372036854775808ms"), i64::MIN);
        assert_eq!(ms("9223372036854775807ms"), i64::MAX);
        assert_eq!(ms("36h"), 129_600_000);
    }

    #[test]
    fn rejects_malformed_and_overflow() {
        for bad in [
            "",
            "-",
            "1",
            "d",
            "1h1d",
            "1s1s",
            "1x",
            "1 s",
            "+1s",
            "1.5s",
            "1ms1s",
            "--1s",
            "9223372036854775808ms",
            "-9223372036854775809ms",
            "106751991168d",
            "99999999999999999999ms",
            "1d-1h",
        ] {
            assert!(Duration::parse(bad).is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn conversions_truncate_toward_zero() {
        let d = Duration::parse("-1d23h59m").unwrap_or(Duration(0));
        assert_eq!(d.to_days(), -1);
        assert_eq!(d.to_hours(), -47);
        assert_eq!(Duration(1999).to_seconds(), 1);
        assert_eq!(Duration(-1999).to_seconds(), -1);
        assert_eq!(Duration(1500).to_string(), "1500ms");
    }
}
