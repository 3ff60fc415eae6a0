//! A token's requested expiry (`--expires` on the CLI, `expires_at` in the API): a date
//! means invalid from its midnight UTC (so today or earlier is refused); an RFC 3339
//! timestamp must carry an offset and lie in the future. One parser for both.

use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, OffsetDateTime};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExpiryError {
    #[error(
        "{field} {given:?}: expected a date (2027-01-31) or an RFC 3339 timestamp with offset (2027-01-31T12:00:00Z)"
    )]
    Format { field: &'static str, given: String },
    #[error("{field} {given:?} is not in the future")]
    Past { field: &'static str, given: String },
}

/// Parses `--expires` relative to `now` (Unix seconds) into Unix seconds.
pub fn parse(given: &str, now: i64) -> Result<i64, ExpiryError> {
    parse_field("--expires", given, now)
}

/// Parses a requested expiry given as `field` (named in errors) relative to `now`.
pub fn parse_field(field: &'static str, given: &str, now: i64) -> Result<i64, ExpiryError> {
    let format_error = || ExpiryError::Format {
        field,
        given: given.to_owned(),
    };
    let at = if let Ok(date) = Date::parse(given, format_description!("[year]-[month]-[day]")) {
        date.midnight().assume_utc().unix_timestamp()
    } else if given.contains('T') || given.contains('t') {
        OffsetDateTime::parse(given, &Rfc3339)
            .map_err(|_| format_error())?
            .unix_timestamp()
    } else {
        return Err(format_error());
    };
    if at <= now {
        return Err(ExpiryError::Past {
            field,
            given: given.to_owned(),
        });
    }
    Ok(at)
}

/// Formats Unix seconds as RFC 3339 UTC (for listings).
pub fn format(at: i64) -> String {
    OffsetDateTime::from_unix_timestamp(at)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| at.to_string())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    // 2027-01-30T12:00:00Z
    const NOW: i64 = 1_801_310_400;

    #[test]
    fn dates_mean_midnight_utc_and_must_be_after_today() {
        assert_eq!(parse("2027-01-31", NOW).unwrap(), 1_801_353_600);
        assert!(matches!(
            parse("2027-01-30", NOW),
            Err(ExpiryError::Past { .. })
        ));
        assert!(matches!(
            parse("2026-12-01", NOW),
            Err(ExpiryError::Past { .. })
        ));
    }

    #[test]
    fn timestamps_need_an_offset_and_the_future() {
        assert_eq!(parse("2027-01-30T12:00:01Z", NOW).unwrap(), NOW + 1);
        assert_eq!(parse("2027-01-30T14:00:01+02:00", NOW).unwrap(), NOW + 1);
        assert!(matches!(
            parse("2027-01-30T12:00:00Z", NOW),
            Err(ExpiryError::Past { .. })
        ));
        for bad in [
            "2027-01-31T00:00:00",
            "tomorrow",
            "2027-1-31",
            "31.01.2027",
            "",
        ] {
            assert!(
                matches!(parse(bad, NOW), Err(ExpiryError::Format { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn format_is_rfc3339() {
        assert_eq!(format(NOW), "2027-01-30T12:00:00Z");
    }
}
