//! The `datetime` extension type: an instant, in milliseconds since the Unix epoch (UTC).
//!
//! `datetime("…")` accepts exactly these forms (proleptic Gregorian calendar, years 0000–9999):
//! `YYYY-MM-DD`, `YYYY-MM-DDThh:mm:ssZ`, `YYYY-MM-DDThh:mm:ss.SSSZ`,
//! `YYYY-MM-DDThh:mm:ss(+|-)hhmm` and `YYYY-MM-DDThh:mm:ss.SSS(+|-)hhmm`. Hours are below 24,
//! minutes and seconds below 60 (no leap seconds), offsets below 24h and 60m. An offset is
//! subtracted to get UTC. Methods: `offset(duration)`, `durationSince(datetime)`, `toDate()`
//! (midnight UTC of the same day) and `toTime()` (the duration since that midnight); overflow of
//! the `i64` millisecond count is an error.

use std::fmt;

use super::Duration;

const DAY_MS: i64 = 86_400_000;

/// An instant as milliseconds since 1970-01-01T00:00:00Z.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct Datetime(i64);

impl Datetime {
    /// Parses one of the accepted datetime forms.
    pub fn parse(s: &str) -> Result<Datetime, String> {
        let bad = |what: &str| format!("`{s}` is not a valid datetime: {what}");
        let b = s.as_bytes();
        let digits = |range: std::ops::Range<usize>| -> Option<i64> {
            let part = b.get(range)?;
            part.iter().all(u8::is_ascii_digit).then(|| {
                part.iter()
                    .fold(0i64, |acc, d| acc * 10 + i64::from(d - b'0'))
            })
        };
        let date = (|| {
            let year = digits(0..4)?;
            (b.get(4) == Some(&b'-')).then_some(())?;
            let month = digits(5..7)?;
            (b.get(7) == Some(&b'-')).then_some(())?;
            let day = digits(8..10)?;
            Some((year, month, day))
        })()
        .ok_or_else(|| bad("it should start with `YYYY-MM-DD`"))?;
        let mut rest = &b[10.min(b.len())..];
        let mut time_ms = 0;
        let mut offset_ms = 0;
        if !rest.is_empty() {
            let hms = (|| {
                (rest.first() == Some(&b'T')
                    && rest.get(3) == Some(&b':')
                    && rest.get(6) == Some(&b':'))
                .then_some(())?;
                Some((digits(11..13)?, digits(14..16)?, digits(17..19)?))
            })()
            .ok_or_else(|| bad("the date should be followed by `Thh:mm:ss`"))?;
            rest = &rest[9..];
            let mut millis = 0;
            if rest.first() == Some(&b'.') {
                millis = (|| {
                    let part = rest.get(1..4)?;
                    part.iter().all(u8::is_ascii_digit).then(|| {
                        part.iter()
                            .fold(0i64, |acc, d| acc * 10 + i64::from(d - b'0'))
                    })
                })()
                .ok_or_else(|| bad("milliseconds should have three digits"))?;
                rest = &rest[4..];
            }
            let offset = match rest {
                [b'Z'] => Some((1, 0, 0)),
                [sign @ (b'+' | b'-'), hh @ ..]
                    if hh.len() == 4 && hh.iter().all(u8::is_ascii_digit) =>
                {
                    let num = |i: usize| i64::from(hh[i] - b'0') * 10 + i64::from(hh[i + 1] - b'0');
                    Some((if *sign == b'+' { 1 } else { -1 }, num(0), num(2)))
                }
                _ => None,
            }
            .ok_or_else(|| {
                bad("the time should end with `Z`, `.SSSZ` or an offset like `+0700`")
            })?;
            let (h, m, sec) = hms;
            if h >= 24 || m >= 60 || sec >= 60 {
                return Err(bad("hour, minute or second out of range"));
            }
            let (sign, oh, om) = offset;
            if oh >= 24 || om >= 60 {
                return Err(bad("offset out of range"));
            }
            time_ms = ((h * 60 + m) * 60 + sec) * 1000 + millis;
            offset_ms = sign * (oh * 60 + om) * 60_000;
        }
        let (year, month, day) = date;
        if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
            return Err(bad("no such date"));
        }
        // Years are at most 9999, so this cannot overflow.
        Ok(Datetime(
            days_from_civil(year, month, day) * DAY_MS + time_ms - offset_ms,
        ))
    }

    pub fn offset(&self, by: Duration) -> Option<Datetime> {
        self.0.checked_add(by.to_milliseconds()).map(Datetime)
    }

    /// `self - other`.
    pub fn duration_since(&self, other: Datetime) -> Option<Duration> {
        self.0.checked_sub(other.0).map(Duration::from_millis)
    }

    /// Midnight (UTC) of this instant's day.
    pub fn to_date(&self) -> Option<Datetime> {
        self.0.checked_sub(self.0.rem_euclid(DAY_MS)).map(Datetime)
    }

    /// Time elapsed since midnight (UTC) of this instant's day.
    pub fn to_time(&self) -> Duration {
        Duration::from_millis(self.0.rem_euclid(DAY_MS))
    }

    pub fn epoch_millis(&self) -> i64 {
        self.0
    }

    /// The calendar form `YYYY-MM-DDThh:mm:ss.SSSZ`, if the year is within 0000–9999.
    pub fn to_iso(&self) -> Option<String> {
        let days = self.0.div_euclid(DAY_MS);
        let ms = self.0.rem_euclid(DAY_MS);
        let (y, mo, d) = civil_from_days(days);
        (0..=9999).contains(&y).then(|| {
            format!(
                "{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
                ms / 3_600_000,
                ms / 60_000 % 60,
                ms / 1000 % 60,
                ms % 1000
            )
        })
    }
}

fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The inverse of [`days_from_civil`].
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Prints the ISO form when it exists, else the millisecond count since the epoch; the
/// extension-value printer turns either into a Cedar expression that rebuilds the value.
impl fmt::Display for Datetime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.to_iso() {
            Some(iso) => f.write_str(&iso),
            None => write!(f, "{}ms since the epoch", self.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(s: &str) -> i64 {
        Datetime::parse(s)
            .unwrap_or_else(|e| panic!("{s}: {e}"))
            .epoch_millis()
    }

    #[test]
    fn parses_every_form() {
        assert_eq!(ms("1970-01-01"), 0);
        assert_eq!(ms("1970-01-02"), DAY_MS);
        assert_eq!(ms("1969-12-31"), -DAY_MS);
        assert_eq!(ms("2024-02-29T01:02:03Z"), 1_709_168_523_000);
        assert_eq!(ms("2024-02-29T01:02:03.456Z"), 1_709_168_523_456);
        assert_eq!(ms("1970-01-01T00:00:00+0100"), -3_600_000);
        assert_eq!(ms("1970-01-01T00:00:00.001-0030"), 1_800_001);
        assert_eq!(ms("0000-01-01"), -62_167_219_200_000);
        assert_eq!(ms("9999-12-31T23:59:59.999Z"), 253_402_300_799_999);
    }

    #[test]
    fn rejects_malformed() {
        for bad in [
            "",
            "1970",
            "1970-1-01",
            "1970-01-01T",
            "1970-01-01 00:00:00Z",
            "1970-01-01T00:00:00",
            "1970-01-01T00:00Z",
            "1970-01-01T24:00:00Z",
            "1970-01-01T00:60:00Z",
            "1970-01-01T00:00:60Z",
            "1970-01-01T00:00:00.1Z",
            "1970-01-01T00:00:00+2400",
            "1970-01-01T00:00:00+0060",
            "1970-01-01T00:00:00+01",
            "2023-02-29",
            "1970-13-01",
            "1970-00-01",
            "1970-01-00",
            "1970-01-32",
            "+1970-01-01",
            "1970-01-01Z",
            "1970-01-01T00:00:00.000Z ",
            "١٩٧٠-01-01",
        ] {
            assert!(Datetime::parse(bad).is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn methods() {
        let dt = Datetime(ms("2024-10-15T11:38:02.123Z"));
        assert_eq!(dt.to_date(), Some(Datetime(ms("2024-10-15"))));
        assert_eq!(
            dt.to_time().to_milliseconds(),
            ((11 * 60 + 38) * 60 + 2) * 1000 + 123
        );
        let before = Datetime(ms("1969-12-31T23:00:00Z"));
        assert_eq!(before.to_date(), Some(Datetime(-DAY_MS)));
        assert_eq!(before.to_time().to_milliseconds(), 23 * 3_600_000);
        assert_eq!(Datetime(i64::MIN).to_date(), None);
        assert_eq!(dt.offset(Duration::from_millis(i64::MAX)), None);
        assert_eq!(
            Datetime(10).duration_since(Datetime(3)),
            Some(Duration::from_millis(7))
        );
    }

    #[test]
    fn prints_iso_round_trip() {
        for s in [
            "2024-02-29T01:02:03.456Z",
            "0000-01-01T00:00:00.000Z",
            "1969-12-31T23:59:59.999Z",
        ] {
            assert_eq!(Datetime(ms(s)).to_string(), s);
        }
    }
}
