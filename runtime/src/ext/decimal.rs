//! The `decimal` extension type: a fixed-point number with four fractional digits.
//!
//! `decimal("d.f")` accepts an optional `-`, at least one integer digit, a `.` and one to four
//! fractional digits; the value (scaled by 10⁴) must fit in an `i64`. Decimals have no
//! arithmetic, only the comparison methods `lessThan`, `lessThanOrEqual`, `greaterThan` and
//! `greaterThanOrEqual`, which use the derived (numeric) order.

use std::fmt;

/// Digits after the point.
const FRACTION_DIGITS: u32 = 4;
const SCALE: i64 = 10_i64.pow(FRACTION_DIGITS);

/// A decimal number: the wrapped value divided by 10⁴.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct Decimal(i64);

impl Decimal {
    /// Parses Cedar's decimal syntax, e.g. `"1.5"`, `"-0.0001"`, `"922337203685477.5807"`.
    pub fn parse(s: &str) -> Result<Decimal, String> {
        let malformed = || format!("`{s}` is not a well-formed decimal value");
        let (int_part, frac_part) = s.split_once('.').ok_or_else(malformed)?;
        let digits = int_part.strip_prefix('-').unwrap_or(int_part);
        let all_digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
        if !all_digits(digits) || !all_digits(frac_part) {
            return Err(malformed());
        }
        if frac_part.len() > FRACTION_DIGITS as usize {
            return Err(format!(
                "too many digits after the decimal point in `{s}`: at most {FRACTION_DIGITS} are supported"
            ));
        }
        let overflow = || format!("overflow when converting `{s}` to a decimal");
        let int: i64 = int_part.parse().map_err(|_| overflow())?;
        let frac: i64 = frac_part.parse().map_err(|_| overflow())?;
        // `frac_part` has at most four digits, so this power is small.
        let frac = frac * 10_i64.pow(FRACTION_DIGITS - frac_part.len() as u32);
        let scaled = int.checked_mul(SCALE).ok_or_else(overflow)?;
        let value = if int_part.starts_with('-') {
            scaled.checked_sub(frac)
        } else {
            scaled.checked_add(frac)
        };
        value.map(Decimal).ok_or_else(overflow)
    }
}

/// Prints all four fractional digits: `decimal("1.5")` displays as `1.5000`.
impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let abs = i128::from(self.0).abs();
        let sign = if self.0 < 0 { "-" } else { "" };
        let scale = i128::from(SCALE);
        write!(f, "{sign}{}.{:04}", abs / scale, abs % scale)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        Decimal::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn parses_and_prints() {
        assert_eq!(d("1.5").to_string(), "1.5000");
        assert_eq!(d("-0.0001").to_string(), "-0.0001");
        assert_eq!(d("-0.5"), Decimal(-5000));
        assert_eq!(d("007.25").to_string(), "7.2500");
        assert_eq!(d("922337203685477.5807"), Decimal(i64::MAX));
        assert_eq!(d("-922337203685477.5808"), Decimal(i64::MIN));
    }

    #[test]
    fn rejects_malformed() {
        for bad in [
            "1",
            "1.",
            ".5",
            "1.23456",
            "+1.0",
            "1.0.0",
            "1e3",
            "",
            "-",
            "-.1",
            " 1.0",
            "1,0",
            "١.٠",
            "922337203685477.5808",
            "-922337203685477.5809",
            "99999999999999999999.0",
        ] {
            assert!(Decimal::parse(bad).is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn orders_numerically() {
        assert!(d("-1.0") < d("-0.9999"));
        assert!(d("1.1") > d("1.09"));
        assert_eq!(d("1.10"), d("1.1000"));
    }
}
