//! Which records count: the mode, the principals and the time window of a scan.
use super::*;

/// Which records count.
pub(super) struct Filter {
    pub(super) mode: Mode,
    pub(super) principals: Vec<String>,
    pub(super) since: Option<String>,
    pub(super) until: Option<String>,
    pub(super) catalogue: &'static Catalogue,
    /// The selected principals' ARNs as literals: a record made by one of them holds its ARN verbatim (a role's
    /// in `sessionIssuer.arn`, a session's or user's in `userIdentity.arn`) unless the record holds a JSON escape.
    /// `None`: every record is parsed.
    pub(super) needles: Option<regex::bytes::Regex>,
}

impl Filter {
    pub(super) fn new(options: &ScanOptions, prefilter: bool) -> Self {
        // An ARN with a character JSON must escape could never appear verbatim: no prefilter then.
        let plain =
            |p: &String| !p.is_empty() && !p.bytes().any(|b| b == b'"' || b == b'\\' || b < 0x20);
        let needles =
            (prefilter && !options.principals.is_empty() && options.principals.iter().all(plain))
                .then(|| {
                    let alternatives: Vec<String> = options
                        .principals
                        .iter()
                        .map(|p| regex::escape(p))
                        .collect();
                    regex::bytes::Regex::new(&alternatives.join("|")).ok()
                })
                .flatten();
        Filter {
            mode: options.mode,
            principals: options.principals.clone(),
            since: options.since.clone(),
            until: options.until.clone(),
            catalogue: options.catalogue,
            needles,
        }
    }

    pub(super) fn in_window(&self, record: &Record) -> bool {
        if self.since.is_none() && self.until.is_none() {
            return true;
        }
        let Some(t) = record.event_time.as_deref().and_then(normalise_time) else {
            return false;
        };
        self.since.as_deref().is_none_or(|s| t.as_str() >= s)
            && self.until.as_deref().is_none_or(|u| t.as_str() < u)
    }
}

/// `eventTime` as `YYYY-MM-DDTHH:MM:SSZ` (CloudTrail's own format is already this; others are converted).
pub fn normalise_time(t: &str) -> Option<String> {
    let b = t.as_bytes();
    if b.len() == 20 && b[4] == b'-' && b[10] == b'T' && b[19] == b'Z' {
        return Some(t.to_owned());
    }
    crate::time::parse_rfc3339(t).map(crate::time::format_secs)
}
