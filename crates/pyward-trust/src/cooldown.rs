//! The release cooldown (`--min-age`): releases uploaded after a cutoff are
//! ignored, so a freshly published (possibly malicious) release is not
//! installed before anyone had time to look at it. The cutoff is an age
//! (`7d`, `12h`, `2w`) before `now`, or a date (`2026-11-01`, midnight UTC)
//! or timestamp.

use std::str::FromStr;

use jiff::{civil::Date, tz::TimeZone, Span, SpanRelativeTo, Timestamp};

/// Why a `--min-age` value was not understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CooldownError {
    #[error(
        "`{0}` is not an age or a date: use an age like `7d`, `12h`, `2w` or a date like `2026-11-01`"
    )]
    Invalid(String),
    #[error("`{0}`: the age must not be negative")]
    Negative(String),
    #[error("`{0}`: months and years have no fixed length; use days or weeks (`30d`, `52w`)")]
    CalendarUnit(String),
}

/// Releases uploaded after `cutoff` are too young.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cooldown {
    cutoff: Timestamp,
}

impl Cooldown {
    /// Parse `--min-age`: an age counted back from `now`, or a date/timestamp.
    pub fn parse(spec: &str, now: Timestamp) -> Result<Cooldown, CooldownError> {
        let spec = spec.trim();
        if let Ok(t) = Timestamp::from_str(spec) {
            return Ok(Cooldown { cutoff: t });
        }
        if let Ok(date) = Date::from_str(spec) {
            let cutoff = date
                .to_zoned(TimeZone::UTC)
                .map_err(|_| CooldownError::Invalid(spec.to_string()))?
                .timestamp();
            return Ok(Cooldown { cutoff });
        }
        let span = Span::from_str(spec).map_err(|_| CooldownError::Invalid(spec.to_string()))?;
        if span.is_negative() {
            return Err(CooldownError::Negative(spec.to_string()));
        }
        if span.get_years() != 0 || span.get_months() != 0 {
            return Err(CooldownError::CalendarUnit(spec.to_string()));
        }
        let age = span
            .to_duration(SpanRelativeTo::days_are_24_hours())
            .map_err(|_| CooldownError::Invalid(spec.to_string()))?;
        let cutoff = now
            .checked_sub(age)
            .map_err(|_| CooldownError::Invalid(spec.to_string()))?;
        Ok(Cooldown { cutoff })
    }

    /// A cooldown ending at a given instant.
    pub fn until(cutoff: Timestamp) -> Cooldown {
        Cooldown { cutoff }
    }

    /// Releases uploaded after this instant are ignored.
    pub fn cutoff(&self) -> Timestamp {
        self.cutoff
    }

    /// Is a file uploaded at `uploaded` too young to install?
    pub fn is_too_young(&self, uploaded: Timestamp) -> bool {
        uploaded > self.cutoff
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Timestamp {
        "2026-11-21T12:00:00Z".parse().unwrap()
    }

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn ages_count_back_from_now() {
        let c = Cooldown::parse("7d", now()).unwrap();
        assert_eq!(c.cutoff(), ts("2026-11-14T12:00:00Z"));
        assert!(c.is_too_young(ts("2026-11-20T00:00:00Z")));
        assert!(!c.is_too_young(ts("2026-11-14T12:00:00Z")));
        assert!(!c.is_too_young(ts("2025-01-01T00:00:00Z")));
        assert_eq!(
            Cooldown::parse("12h", now()).unwrap().cutoff(),
            ts("2026-11-21T00:00:00Z")
        );
        assert_eq!(
            Cooldown::parse("2w", now()).unwrap().cutoff(),
            ts("2026-11-07T12:00:00Z")
        );
        assert_eq!(Cooldown::parse("0d", now()).unwrap().cutoff(), now(),);
    }

    #[test]
    fn dates_mean_midnight_utc() {
        let c = Cooldown::parse("2026-11-01", now()).unwrap();
        assert_eq!(c.cutoff(), ts("2026-11-01T00:00:00Z"));
        assert!(c.is_too_young(ts("2026-11-01T00:00:01Z")));
        assert!(!c.is_too_young(ts("2026-10-31T23:59:59Z")));
        let exact = Cooldown::parse("2026-11-01T08:30:00Z", now()).unwrap();
        assert_eq!(exact.cutoff(), ts("2026-11-01T08:30:00Z"));
    }

    #[test]
    fn nonsense_is_an_error_not_a_guess() {
        for bad in ["", "seven days ago", "7x", "2026-13-01", "d7", "-"] {
            assert!(
                matches!(Cooldown::parse(bad, now()), Err(CooldownError::Invalid(_))),
                "{bad:?}"
            );
        }
        assert!(matches!(
            Cooldown::parse("-7d", now()),
            Err(CooldownError::Negative(_))
        ));
        assert!(matches!(
            Cooldown::parse("1mo", now()),
            Err(CooldownError::CalendarUnit(_))
        ));
        assert!(matches!(
            Cooldown::parse("1y", now()),
            Err(CooldownError::CalendarUnit(_))
        ));
    }

    proptest::proptest! {
        #[test]
        fn never_panics(spec in "\\PC{0,24}") {
            let _ = Cooldown::parse(&spec, now());
        }

        #[test]
        fn days_move_the_cutoff_back(days in 0i64..5000) {
            let c = Cooldown::parse(&format!("{days}d"), now()).unwrap();
            proptest::prop_assert_eq!(now().duration_since(c.cutoff()).as_hours(), days * 24);
        }
    }
}
