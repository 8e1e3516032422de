//! Billing periods: one calendar month, identified by its first day.

use std::fmt;
use std::str::FromStr;

/// A billing period: the month starting on its first day (UTC), `[start, next month)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Period {
    year: u16,
    month: u8,
}

/// `--start` must not be after `--end`: a typo in a cron line would otherwise import nothing,
/// every night, with exit 0.
pub fn check_range(start: Option<Period>, end: Option<Period>) -> crate::Result<()> {
    match (start, end) {
        (Some(s), Some(e)) if s > e => Err(crate::Error::InvalidArguments {
            message: format!("--start {s} is after --end {e}"),
            help: "give the first billing period with --start and the last with --end (both YYYY-MM, inclusive)".into(),
        }),
        _ => Ok(()),
    }
}

impl Period {
    /// The period of `year`-`month`; `None` unless 1 ≤ month ≤ 12 and 1970 ≤ year ≤ 9999.
    pub fn new(year: u16, month: u8) -> Option<Self> {
        ((1..=12).contains(&month) && (1970..=9999).contains(&year)).then_some(Self { year, month })
    }

    /// Parses the compact `YYYYMMDD` form AWS uses (day must be 01).
    pub fn from_yyyymmdd(s: &str) -> Option<Self> {
        if s.len() != 8 || !s.bytes().all(|b| b.is_ascii_digit()) || &s[6..8] != "01" {
            return None;
        }
        Self::new(s[0..4].parse().ok()?, s[4..6].parse().ok()?)
    }

    /// The next month.
    #[must_use]
    pub fn next(self) -> Self {
        if self.month == 12 {
            Self {
                year: self.year + 1,
                month: 1,
            }
        } else {
            Self {
                year: self.year,
                month: self.month + 1,
            }
        }
    }

    /// The previous month.
    #[must_use]
    pub fn prev(self) -> Self {
        if self.month == 1 {
            Self {
                year: self.year - 1,
                month: 12,
            }
        } else {
            Self {
                year: self.year,
                month: self.month - 1,
            }
        }
    }

    /// The current month, UTC.
    pub fn current() -> Self {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        Self::of_unix_days(i64::try_from(secs / 86_400).unwrap_or(0))
    }

    /// The month of a day counted from 1970-01-01 (H. Hinnant's civil-from-days).
    fn of_unix_days(days: i64) -> Self {
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + i64::from(month <= 2);
        Self {
            year: u16::try_from(year).unwrap_or(1970),
            month: u8::try_from(month).unwrap_or(1),
        }
    }

    /// The first day as `YYYY-MM-DD`, for SQL `DATE` literals and state rows.
    pub fn first_day(self) -> String {
        format!("{:04}-{:02}-01", self.year, self.month)
    }

    /// The compact `YYYYMMDD` form of the first day.
    pub fn yyyymmdd(self) -> String {
        format!("{:04}{:02}01", self.year, self.month)
    }
}

/// `YYYY-MM`.
impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

/// Serialises as `YYYY-MM`.
impl serde::Serialize for Period {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Parses `YYYY-MM` (or `YYYY-MM-01`).
impl FromStr for Period {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        let bad = || format!("`{s}` is not a billing period; expected YYYY-MM");
        let ym = s.strip_suffix("-01").filter(|r| r.len() == 7).unwrap_or(s);
        let (y, m) = ym.split_once('-').ok_or_else(bad)?;
        if y.len() != 4 || m.len() != 2 {
            return Err(bad());
        }
        Self::new(y.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?).ok_or_else(bad)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_from_days() {
        assert_eq!(Period::of_unix_days(0).to_string(), "1970-01");
        assert_eq!(Period::of_unix_days(19_723).to_string(), "2024-01"); // 2024-01-01
        assert_eq!(Period::of_unix_days(19_782).to_string(), "2024-02"); // 2024-02-29
        assert_eq!(Period::of_unix_days(19_783).to_string(), "2024-03");
        assert_eq!(Period::new(2024, 1).unwrap().prev().to_string(), "2023-12");
    }

    #[test]
    fn parses_and_prints() {
        let p: Period = "2023-11".parse().unwrap();
        assert_eq!(p.to_string(), "2023-11");
        assert_eq!(p.first_day(), "2023-11-01");
        assert_eq!(p.next().to_string(), "2023-12");
        assert_eq!(
            "2023-12".parse::<Period>().unwrap().next().to_string(),
            "2024-01"
        );
        assert_eq!(Period::from_yyyymmdd("20231101"), Some(p));
        assert_eq!(Period::from_yyyymmdd("20231102"), None);
        assert!("2023-13".parse::<Period>().is_err());
        assert!("23-11".parse::<Period>().is_err());
        assert_eq!("2023-11-01".parse::<Period>().unwrap(), p);
    }
}
