//! The two kinds of number a policy file and `tug run`'s flags give: sizes with a unit, and durations in
//! seconds. Each is refused with a message naming it when it means nothing as a limit (a bare number of
//! bytes, a negative, infinite, NaN or absurdly long time) — never a panic further on.

use std::{fmt, str::FromStr, time::Duration};

use serde::{Deserialize, Serialize};

/// The longest duration tug accepts anywhere: a year.
pub const MAX_SECONDS: f64 = 365.0 * 24.0 * 3600.0;

/// A byte size above 0, always with its unit: `512MiB`, `2GiB`, `100MB`, `4096B`. A bare number is refused:
/// `memory = 5` reads as five bytes to the parser and as five megabytes (or gigabytes) to a person.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bytes(pub u64);

impl FromStr for Bytes {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
        let (num, unit) = s.split_at(split);
        let n: u64 = num
            .parse()
            .map_err(|_| format!("{s:?} is not a size like \"512MiB\""))?;
        let mult: u64 = match unit.trim() {
            "" => return Err(format!("{s:?} has no unit: write \"{s}MiB\", \"{s}B\", …")),
            "B" => 1,
            "KiB" | "k" | "K" => 1 << 10,
            "MiB" | "m" | "M" => 1 << 20,
            "GiB" | "g" | "G" => 1 << 30,
            "KB" => 1_000,
            "MB" => 1_000_000,
            "GB" => 1_000_000_000,
            u => {
                return Err(format!(
                    "{s:?}: unknown unit {u:?} (B, KiB, MiB, GiB, KB, MB, GB)"
                ))
            }
        };
        if n == 0 {
            // The daemon reads a memory, disk or log-size ceiling of 0 as none at all.
            return Err(format!(
                "{s:?}: a size of 0 is no limit to the engine; give one above 0"
            ));
        }
        n.checked_mul(mult)
            .map(Bytes)
            .ok_or_else(|| format!("{s:?} is too large"))
    }
}

impl<'de> Deserialize<'de> for Bytes {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            N(i64),
            S(String),
        }
        match Raw::deserialize(d)? {
            Raw::N(n) => Err(serde::de::Error::custom(format!(
                "{n} has no unit: write \"{n}MiB\", \"{n}B\", … (a size is a string with its unit)"
            ))),
            Raw::S(s) => s.parse().map_err(serde::de::Error::custom),
        }
    }
}

impl fmt::Display for Bytes {
    /// As a policy file writes it, in the largest unit that divides it: `512MiB`, `100MB`, `5B`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0;
        let units: [(u64, &str); 6] = [
            (1 << 30, "GiB"),
            (1_000_000_000, "GB"),
            (1 << 20, "MiB"),
            (1_000_000, "MB"),
            (1 << 10, "KiB"),
            (1_000, "KB"),
        ];
        match units.iter().find(|(m, _)| n >= *m && n % m == 0) {
            Some((m, unit)) => write!(f, "{}{unit}", n / m),
            None => write!(f, "{n}B"),
        }
    }
}

impl Serialize for Bytes {
    /// A string a policy file reads back to the same size.
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A finite duration in seconds, from a millisecond to [`MAX_SECONDS`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Seconds(pub Duration);

impl Seconds {
    /// Checks a number of seconds.
    pub fn new(secs: f64) -> Result<Self, String> {
        if secs.is_nan() {
            return Err("NaN is not a number of seconds".into());
        }
        if secs <= 0.0 {
            return Err(format!("{secs} is not a positive number of seconds"));
        }
        if secs < 0.001 {
            return Err(format!("{secs} seconds is less than a millisecond"));
        }
        if secs > MAX_SECONDS {
            return Err(format!(
                "{secs} seconds is more than a year, the longest tug takes"
            ));
        }
        Duration::try_from_secs_f64(secs)
            .map(Seconds)
            .map_err(|e| format!("{secs} seconds: {e}"))
    }
}

impl FromStr for Seconds {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let secs: f64 = s
            .trim()
            .parse()
            .map_err(|_| format!("{s:?} is not a number of seconds"))?;
        Seconds::new(secs)
    }
}

impl fmt::Display for Seconds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

impl<'de> Deserialize<'de> for Seconds {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            I(i64),
            F(f64),
        }
        let secs = match Raw::deserialize(d)? {
            Raw::I(i) => i as f64,
            Raw::F(f) => f,
        };
        Seconds::new(secs).map_err(serde::de::Error::custom)
    }
}

impl Serialize for Seconds {
    /// The number of seconds, as a policy file writes it.
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(self.0.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds() {
        assert_eq!("2.5".parse::<Seconds>().unwrap().0, Duration::from_millis(2500));
        for bad in [
            "abc",
            "",
            "-1",
            "0",
            "nan",
            "inf",
            "-inf",
            "1e20",
            "18446744073709551616",
            "31536001",
        ] {
            let e = bad.parse::<Seconds>().unwrap_err();
            assert!(!e.is_empty(), "{bad}");
        }
        assert!(Seconds::new(MAX_SECONDS).is_ok());
        assert!(Seconds::new(1e-12).unwrap_err().contains("millisecond"));
    }

    #[test]
    fn sizes_need_units() {
        assert_eq!("5B".parse::<Bytes>().unwrap(), Bytes(5));
        assert_eq!("1KiB".parse::<Bytes>().unwrap(), Bytes(1024));
        assert!("5".parse::<Bytes>().unwrap_err().contains("no unit"));
        assert!("99999999999999GiB"
            .parse::<Bytes>()
            .unwrap_err()
            .contains("too large"));
        assert!("-5MiB".parse::<Bytes>().is_err());
        assert!("0B".parse::<Bytes>().unwrap_err().contains("above 0"));
        assert!("0GiB".parse::<Bytes>().is_err());
        // Written back as a policy file writes them, and read back to the same size.
        for (text, shown) in [
            ("512MiB", "512MiB"),
            ("1024MiB", "1GiB"),
            ("100MB", "100MB"),
            ("5B", "5B"),
        ] {
            let b: Bytes = text.parse().unwrap();
            assert_eq!(b.to_string(), shown);
            assert_eq!(shown.parse::<Bytes>().unwrap(), b);
        }
    }
}
