//! Durations as Istio's YAML writes them: `10s`, `1.5s`, `100ms`, `1m`, `1h30m`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer, de};

/// A non-negative duration, parsed from and printed as a Go-style duration string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Duration(std::time::Duration);

impl Duration {
    pub fn from_std(d: std::time::Duration) -> Self {
        Self(d)
    }

    pub fn as_std(&self) -> std::time::Duration {
        self.0
    }
}

/// Why a duration string could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid duration {input:?}: expected a number with a unit (ns, us, ms, s, m, h), such as 100ms, 1.5s or 1m30s"
)]
pub struct DurationError {
    input: String,
}

impl FromStr for Duration {
    type Err = DurationError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || DurationError { input: s.into() };
        let mut rest = s.trim();
        if rest.is_empty() {
            return Err(err());
        }
        let mut total_nanos: u128 = 0;
        while !rest.is_empty() {
            let num_len = rest
                .find(|c: char| !(c.is_ascii_digit() || c == '.'))
                .ok_or_else(err)?;
            let (num, tail) = rest.split_at(num_len);
            if num.is_empty() || num == "." {
                return Err(err());
            }
            let unit_len = tail
                .find(|c: char| c.is_ascii_digit() || c == '.')
                .unwrap_or(tail.len());
            let (unit, tail) = tail.split_at(unit_len);
            let scale: u128 = match unit {
                "ns" => 1,
                "us" | "µs" | "μs" => 1_000,
                "ms" => 1_000_000,
                "s" => 1_000_000_000,
                "m" => 60_000_000_000,
                "h" => 3_600_000_000_000,
                _ => return Err(err()),
            };
            let (int, frac) = num.split_once('.').unwrap_or((num, ""));
            if frac.contains('.') {
                return Err(err());
            }
            let int: u128 = if int.is_empty() {
                0
            } else {
                int.parse().map_err(|_| err())?
            };
            let mut frac_nanos: u128 = 0;
            let mut div: u128 = 1;
            for c in frac.chars().take(18) {
                frac_nanos = frac_nanos * 10 + u128::from(c.to_digit(10).ok_or_else(err)?);
                div *= 10;
            }
            total_nanos = total_nanos
                .checked_add(int.checked_mul(scale).ok_or_else(err)?)
                .and_then(|t| t.checked_add(frac_nanos * scale / div))
                .ok_or_else(err)?;
            rest = tail;
        }
        let secs = u64::try_from(total_nanos / 1_000_000_000).map_err(|_| err())?;
        let nanos = u32::try_from(total_nanos % 1_000_000_000).map_err(|_| err())?;
        Ok(Self(std::time::Duration::new(secs, nanos)))
    }
}

impl fmt::Display for Duration {
    /// Go's `time.Duration.String()`: `1h30m0s` is shortened to `1h30m`, so that what
    /// users wrote reads back the same.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let total = self.0.as_nanos();
        if total == 0 {
            return f.write_str("0s");
        }
        if total < 1_000_000_000 {
            let (unit, scale) = if total < 1_000 {
                ("ns", 1)
            } else if total < 1_000_000 {
                ("us", 1_000)
            } else {
                ("ms", 1_000_000)
            };
            return write!(f, "{}{unit}", decimal(total, scale));
        }
        let h = total / 3_600_000_000_000;
        let m = (total / 60_000_000_000) % 60;
        let s_nanos = total % 60_000_000_000;
        if h > 0 {
            write!(f, "{h}h")?;
        }
        if m > 0 {
            write!(f, "{m}m")?;
        }
        if s_nanos > 0 || (h == 0 && m == 0) {
            write!(f, "{}s", decimal(s_nanos, 1_000_000_000))?;
        }
        Ok(())
    }
}

fn decimal(value: u128, scale: u128) -> String {
    let int = value / scale;
    let frac = value % scale;
    if frac == 0 {
        return int.to_string();
    }
    let width = scale.ilog10() as usize;
    let frac = format!("{frac:0width$}");
    format!("{int}.{}", frac.trim_end_matches('0'))
}

impl Serialize for Duration {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> std::time::Duration {
        s.parse::<Duration>().expect(s).as_std()
    }

    #[test]
    fn parses_go_and_proto_styles() {
        assert_eq!(d("10s"), std::time::Duration::from_secs(10));
        assert_eq!(d("1.5s"), std::time::Duration::from_millis(1500));
        assert_eq!(d("100ms"), std::time::Duration::from_millis(100));
        assert_eq!(d("1m30s"), std::time::Duration::from_secs(90));
        assert_eq!(d("1h"), std::time::Duration::from_secs(3600));
        assert_eq!(d("250us"), std::time::Duration::from_micros(250));
        assert_eq!(d("0.000340012s"), std::time::Duration::from_nanos(340_012));
        for bad in ["", "10", "s", "1x", "-1s", "1.2.3s", "abc"] {
            assert!(bad.parse::<Duration>().is_err(), "{bad}");
        }
    }

    #[test]
    fn prints_what_it_parses() {
        for s in [
            "10s", "1.5s", "100ms", "1m30s", "1h", "1h0m5s", "250us", "0s",
        ] {
            let printed = s.parse::<Duration>().expect(s).to_string();
            assert_eq!(d(&printed), d(s), "{s} -> {printed}");
        }
        assert_eq!(
            "1h30m".parse::<Duration>().expect("ok").to_string(),
            "1h30m"
        );
        assert_eq!("0.5s".parse::<Duration>().expect("ok").to_string(), "500ms");
    }
}
