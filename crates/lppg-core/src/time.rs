//! Time, one way for the whole program: RFC 3339 parsing (with `Z` or a numeric offset, fractional seconds),
//! formatting in UTC to seconds or milliseconds, durations (`30m`, `2h`, `1d`), the `--since` forms (one grammar
//! for every command's time flags), and the clock.
//!
//! Times are [`SystemTime`]s; the log APIs count milliseconds since the epoch, so `_ms` variants convert.
//! Parsing is deliberately lenient in the ways CloudTrail and people write times (a space for `T`, a lower-case
//! `z`, no zone meaning UTC) and strict in the rest (a real calendar date, offsets up to 23:59).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Parses an RFC 3339 time: `2024-03-02T09:05:00Z`, `2024-03-02T11:05:00+02:00`, `2024-03-02T09:05:00.250Z`.
/// A space may stand for the `T`; a time without a zone is taken as UTC. `None` when it is not such a time.
pub fn parse_rfc3339(text: &str) -> Option<SystemTime> {
    let text = text.trim();
    let (base, offset_secs) = split_zone(text)?;
    let local = humantime::parse_rfc3339_weak(base).ok()?;
    let shift = Duration::from_secs(offset_secs.unsigned_abs());
    if offset_secs >= 0 {
        local.checked_sub(shift)
    } else {
        local.checked_add(shift)
    }
}

/// [`parse_rfc3339`] in milliseconds since the epoch.
pub fn parse_rfc3339_ms(text: &str) -> Option<i64> {
    parse_rfc3339(text).map(to_ms)
}

/// Splits the zone off a time: the rest and the offset east of UTC in seconds (`Z`, `z` or none: 0).
fn split_zone(text: &str) -> Option<(&str, i64)> {
    if let Some(base) = text.strip_suffix(['Z', 'z']) {
        return (!base.ends_with(['Z', 'z'])).then_some((base, 0));
    }
    let Some(at) = text.len().checked_sub(6) else {
        return Some((text, 0));
    };
    let (base, zone) = text.split_at_checked(at)?;
    let sign = match zone.as_bytes()[0] {
        b'+' => 1,
        b'-' => -1,
        _ => return Some((text, 0)),
    };
    // Past the date (`2024-03-02` ends with `-02`): only then can a sign start an offset.
    if !base.contains(['T', ' ']) {
        return Some((text, 0));
    }
    let (hours, minutes) = zone[1..].split_once(':')?;
    let two_digits = |s: &str| s.len() == 2 && s.bytes().all(|b| b.is_ascii_digit());
    if !two_digits(hours) || !two_digits(minutes) {
        return None;
    }
    let (hours, minutes): (i64, i64) = (hours.parse().ok()?, minutes.parse().ok()?);
    if hours > 23 || minutes > 59 {
        return None;
    }
    Some((base, sign * (hours * 3600 + minutes * 60)))
}

/// A calendar date `YYYY-MM-DD` as midnight UTC.
pub fn parse_date(text: &str) -> Option<SystemTime> {
    let text = text.trim();
    let shaped = text.len() == 10 && text.as_bytes()[4] == b'-' && text.as_bytes()[7] == b'-';
    if !shaped {
        return None;
    }
    humantime::parse_rfc3339(&format!("{text}T00:00:00Z")).ok()
}

/// A duration: `30m`, `2h`, `1d`, `90s`, `1h 30m` (humantime's units).
pub fn parse_duration(text: &str) -> Option<Duration> {
    humantime::parse_duration(text.trim()).ok()
}

/// A `--since`/`--until` value: an age back from `now` (`30m`, `7d`), an RFC 3339 time, or a date (midnight UTC).
pub fn parse_since(text: &str, now: SystemTime) -> Option<SystemTime> {
    if let Some(age) = parse_duration(text) {
        return now.checked_sub(age);
    }
    parse_date(text).or_else(|| parse_rfc3339(text))
}

/// The forms [`parse_since`] reads, as the help and error messages of every time flag name them.
pub const SINCE_FORMS: &str =
    "an age (30m, 7d), an RFC 3339 time (2024-03-01T12:00:00Z) or a date (2024-03-01, midnight UTC)";

/// A time flag's value (`--since`, `--until` of any command) by [`parse_since`], or an error that names the flag
/// and the forms it takes.
pub fn parse_since_flag(flag: &str, text: &str, now: SystemTime) -> anyhow::Result<SystemTime> {
    parse_since(text, now)
        .ok_or_else(|| anyhow::anyhow!("cannot read {flag} {:?}: use {SINCE_FORMS}", text.trim()))
}

/// RFC 3339 in UTC, whole seconds (truncated): `2024-03-02T09:05:00Z`. Times before the epoch show the epoch.
pub fn format_secs(time: SystemTime) -> String {
    humantime::format_rfc3339_seconds(time.max(UNIX_EPOCH)).to_string()
}

/// RFC 3339 in UTC with milliseconds (truncated): `2024-03-02T09:05:00.250Z`. Times before the epoch show the
/// epoch.
pub fn format_millis(time: SystemTime) -> String {
    humantime::format_rfc3339_millis(time.max(UNIX_EPOCH)).to_string()
}

/// [`format_secs`] of milliseconds since the epoch (negative: the epoch).
pub fn format_secs_ms(ms: i64) -> String {
    format_secs(from_ms(ms))
}

/// [`format_millis`] of milliseconds since the epoch (negative: the epoch).
pub fn format_millis_ms(ms: i64) -> String {
    format_millis(from_ms(ms))
}

/// Milliseconds since the epoch as a time (negative: the epoch).
pub fn from_ms(ms: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(ms.max(0).unsigned_abs())
}

/// A time as milliseconds since the epoch (before the epoch: 0).
pub fn to_ms(time: SystemTime) -> i64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// The current time in milliseconds since the epoch.
pub fn now_ms() -> i64 {
    to_ms(SystemTime::now())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2024-03-02T09:05:00Z.
    const T: u64 = 1_709_370_300;

    fn at(secs: u64, millis: u64) -> Option<SystemTime> {
        Some(UNIX_EPOCH + Duration::from_secs(secs) + Duration::from_millis(millis))
    }

    #[test]
    fn parses_utc_forms() {
        assert_eq!(parse_rfc3339("2024-03-02T09:05:00Z"), at(T, 0));
        assert_eq!(parse_rfc3339("2024-03-02T09:05:00z"), at(T, 0));
        assert_eq!(parse_rfc3339("2024-03-02 09:05:00Z"), at(T, 0));
        assert_eq!(parse_rfc3339("  2024-03-02T09:05:00Z\n"), at(T, 0));
        assert_eq!(
            parse_rfc3339("2024-03-02T09:05:00"),
            at(T, 0),
            "no zone: UTC"
        );
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), at(0, 0));
    }

    #[test]
    fn parses_fractional_seconds() {
        assert_eq!(parse_rfc3339("2024-03-02T09:05:00.250Z"), at(T, 250));
        assert_eq!(parse_rfc3339("2024-03-02T09:05:00.5Z"), at(T, 500));
        let nanos = parse_rfc3339("2024-03-02T09:05:00.123456789Z").unwrap();
        assert_eq!(
            nanos.duration_since(UNIX_EPOCH).unwrap().subsec_nanos(),
            123_456_789
        );
        assert_eq!(parse_rfc3339("2024-03-02T11:05:00.250+02:00"), at(T, 250));
    }

    #[test]
    fn parses_offsets() {
        assert_eq!(parse_rfc3339("2024-03-02T11:05:00+02:00"), at(T, 0));
        assert_eq!(parse_rfc3339("2024-03-02T08:35:00-00:30"), at(T, 0));
        assert_eq!(parse_rfc3339("2024-03-02T09:05:00+00:00"), at(T, 0));
        assert_eq!(parse_rfc3339("2024-03-02T09:05:00-00:00"), at(T, 0));
        // Across midnight and the year.
        assert_eq!(
            parse_rfc3339("2024-01-01T01:00:00+02:00"),
            parse_rfc3339("2023-12-31T23:00:00Z")
        );
        assert_eq!(
            parse_rfc3339("2023-12-31T23:30:00-01:00"),
            parse_rfc3339("2024-01-01T00:30:00Z")
        );
    }

    #[test]
    fn refuses_what_is_not_a_time() {
        for bad in [
            "",
            "yesterday",
            "2024-03-02",
            "2024-03-02T09:05",
            "2024-13-02T09:05:00Z",
            "2024-02-30T09:05:00Z",
            "2024-03-02T24:05:00Z",
            "2024-03-02T09:05:00+2:00",
            "2024-03-02T09:05:00+24:00",
            "2024-03-02T09:05:00+02:60",
            "2024-03-02T09:05:00+0200",
            "2024-03-02T09:05:00ZZ",
            "2024-03-02T09:05:00 +02:00",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn milliseconds_round_trip() {
        let ms = parse_rfc3339_ms("2024-03-02T09:05:00.250Z").unwrap();
        assert_eq!(ms, T as i64 * 1000 + 250);
        assert_eq!(format_millis_ms(ms), "2024-03-02T09:05:00.250Z");
        assert_eq!(
            format_secs_ms(ms),
            "2024-03-02T09:05:00Z",
            "truncated, not rounded"
        );
        assert_eq!(to_ms(from_ms(ms)), ms);
        assert_eq!(from_ms(-5), UNIX_EPOCH);
        assert_eq!(to_ms(UNIX_EPOCH - Duration::from_secs(1)), 0);
        assert_eq!(parse_rfc3339_ms("nope"), None);
    }

    #[test]
    fn formats_in_utc() {
        let t = parse_rfc3339("2024-03-02T11:05:00.999+02:00").unwrap();
        assert_eq!(format_secs(t), "2024-03-02T09:05:00Z");
        assert_eq!(format_millis(t), "2024-03-02T09:05:00.999Z");
        let before = parse_rfc3339("1970-01-01T00:30:00+01:00").unwrap();
        assert_eq!(format_secs(before), "1970-01-01T00:00:00Z");
        assert_eq!(format_millis(before), "1970-01-01T00:00:00.000Z");
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30m"), Some(Duration::from_secs(1800)));
        assert_eq!(parse_duration("2h"), Some(Duration::from_secs(7200)));
        assert_eq!(parse_duration("1d"), Some(Duration::from_secs(86_400)));
        assert_eq!(
            parse_duration(" 7d "),
            Some(Duration::from_secs(7 * 86_400))
        );
        assert_eq!(parse_duration("1h 30m"), Some(Duration::from_secs(5400)));
        assert_eq!(parse_duration("90s"), Some(Duration::from_secs(90)));
        assert_eq!(parse_duration("soon"), None);
        assert_eq!(parse_duration("2024-03-02T09:05:00Z"), None);
    }

    #[test]
    fn dates() {
        assert_eq!(parse_date("2024-03-02"), at(T - 9 * 3600 - 5 * 60, 0));
        assert_eq!(parse_date("2024-02-30"), None);
        assert_eq!(parse_date("2024-3-2"), None);
        assert_eq!(parse_date("2024-03-02T09:05:00Z"), None);
    }

    #[test]
    fn since_takes_an_age_a_time_or_a_date() {
        let now = at(T, 0).unwrap();
        assert_eq!(parse_since("30m", now), at(T - 1800, 0));
        assert_eq!(parse_since("1d", now), at(T - 86_400, 0));
        assert_eq!(parse_since("2024-03-02T11:05:00+02:00", now), at(T, 0));
        assert_eq!(parse_since("2024-03-02", now), parse_date("2024-03-02"));
        assert_eq!(parse_since("yesterday-ish", now), None);
    }

    #[test]
    fn a_time_flag_reads_every_form_or_names_itself() {
        let now = at(T, 0).unwrap();
        for (text, want) in [
            ("30m", at(T - 1800, 0)),
            ("2024-03-02", parse_date("2024-03-02")),
            (" 2024-03-01 ", at(T - 86_400 - 9 * 3600 - 5 * 60, 0)),
            ("2024-03-02T11:05:00+02:00", at(T, 0)),
        ] {
            assert_eq!(
                parse_since_flag("--since", text, now).ok(),
                want,
                "{text:?}"
            );
        }
        let err = parse_since_flag("--until", "yesterday", now)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("cannot read --until \"yesterday\": use an age"),
            "{err}"
        );
        assert!(err.contains("a date (2024-03-01"), "{err}");
    }

    #[test]
    fn now_is_after_2024() {
        assert!(now_ms() > T as i64 * 1000);
    }
}
