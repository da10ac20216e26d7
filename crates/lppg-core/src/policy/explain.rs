//! `--explain`: one row per action, to help a reviewer prune the policy.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use serde_json::{json, Value};

use super::actions::{Action, ActionSet};
use super::catalogue::{AccessLevel, Catalogue};
use super::derivation::Derivation;
use super::resources::ResourceChoice;
use super::risks::{risks_of, Risk};

/// How close together (inclusive) denied calls must be to count as a burst.
pub const BURST_WINDOW: Duration = Duration::from_secs(2);

/// How many distinct read-only actions make a burst.
pub const BURST_MIN_ACTIONS: usize = 3;

/// What the caller knows about one action, from the function's decision log and the steps.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ActionMeta {
    /// Event time of the first denied call that led to the action.
    pub first_denied: Option<SystemTime>,
    /// Label of the marked step the action belongs to; `None` outside every step.
    pub step: Option<String>,
    pub derived_from: Option<Derivation>,
    /// The resources seen and the ones chosen (`--resources`); `None` when nothing was chosen.
    pub resources: Option<ResourceChoice>,
}

/// One row of the explain table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExplainRow {
    /// The action, spelled as the catalogue spells it when known.
    pub action: String,
    /// The service prefix.
    pub service: String,
    /// From the catalogue; `None` when the catalogue does not know the action.
    pub access_level: Option<AccessLevel>,
    pub first_denied: Option<SystemTime>,
    pub step: Option<String>,
    pub derived_from: Option<Derivation>,
    /// Looks like a console background call: see [`background_flags`].
    pub background: bool,
    /// The resources seen, the ones chosen and why.
    pub resources: Option<ResourceChoice>,
    /// The risk categories of the action ([`risks_of`]).
    pub risks: Vec<Risk>,
}

/// One row per action of `set`, in the set's order, with what `meta` knows about it
/// (keys match ignoring case; actions missing from `meta` get empty fields) and its
/// access level from `catalogue`. The `background` marks come from [`background_flags`].
pub fn explain_rows(
    set: &ActionSet,
    meta: &BTreeMap<Action, ActionMeta>,
    catalogue: &Catalogue,
) -> Vec<ExplainRow> {
    let mut rows: Vec<ExplainRow> = set
        .iter()
        .map(|action| {
            let known = meta.get(action).cloned().unwrap_or_default();
            let found = catalogue.lookup(action.prefix(), action.name());
            ExplainRow {
                action: action.canonical(catalogue).to_string(),
                service: action.prefix().to_string(),
                access_level: found.map(|(_, level)| level),
                first_denied: known.first_denied,
                step: known.step,
                derived_from: known.derived_from,
                background: false,
                resources: known.resources,
                risks: risks_of(action),
            }
        })
        .collect();
    let flags = background_flags(&rows);
    for (row, background) in rows.iter_mut().zip(flags) {
        row.background = background;
    }
    rows
}

/// Which rows look like console background calls (the rows' own `background` is ignored).
///
/// A row is marked when all of these hold:
/// - its access level is List or Read (unknown levels are not marked);
/// - it is outside every marked step (`step` is `None`, as when no steps exist);
/// - its first-denied time is known and falls in a burst: at least
///   [`BURST_MIN_ACTIONS`] such rows (distinct actions) whose times all lie
///   within [`BURST_WINDOW`] of each other, as when a console page opens.
pub fn background_flags(rows: &[ExplainRow]) -> Vec<bool> {
    let mut candidates: Vec<(SystemTime, usize)> = rows
        .iter()
        .enumerate()
        .filter(|(_, row)| {
            row.step.is_none() && row.access_level.is_some_and(AccessLevel::is_read_only)
        })
        .filter_map(|(i, row)| row.first_denied.map(|time| (time, i)))
        .collect();
    candidates.sort();
    let mut flags = vec![false; rows.len()];
    let mut end = 0;
    for start in 0..candidates.len() {
        end = end.max(start);
        while end < candidates.len()
            && candidates[end]
                .0
                .duration_since(candidates[start].0)
                .is_ok_and(|gap| gap <= BURST_WINDOW)
        {
            end += 1;
        }
        if end - start >= BURST_MIN_ACTIONS {
            for &(_, i) in &candidates[start..end] {
                flags[i] = true;
            }
        }
    }
    flags
}

fn time_text(time: Option<SystemTime>) -> Option<String> {
    time.map(crate::time::format_secs)
}

const HEADERS: [&str; 11] = [
    "ACTION",
    "SERVICE",
    "ACCESS LEVEL",
    "FIRST DENIED",
    "STEP",
    "DERIVED FROM",
    "BACKGROUND",
    "RISKS",
    "RESOURCES SEEN",
    "RESOURCE",
    "WHY",
];

/// The risk names of a row, comma-separated.
fn risk_names(risks: &[Risk]) -> Vec<&'static str> {
    risks.iter().map(|r| r.name()).collect()
}

/// A plain text table, columns aligned with two spaces, `-` for unknown values,
/// `yes` in BACKGROUND for marked rows, no trailing spaces, one line per row.
pub fn explain_table(rows: &[ExplainRow]) -> String {
    let cells: Vec<[String; 11]> = rows
        .iter()
        .map(|row| {
            let dash = |value: Option<String>| value.unwrap_or_else(|| "-".to_string());
            [
                row.action.clone(),
                row.service.clone(),
                dash(row.access_level.map(|l| l.name().to_string())),
                dash(time_text(row.first_denied)),
                dash(row.step.as_deref().map(printable)),
                dash(row.derived_from.map(|d| d.as_str().to_string())),
                if row.background { "yes" } else { "" }.to_string(),
                dash(Some(risk_names(&row.risks).join(",")).filter(|t| !t.is_empty())),
                dash(
                    row.resources
                        .as_ref()
                        .map(|c| printable(&c.seen.join(" ")))
                        .filter(|t| !t.is_empty()),
                ),
                dash(
                    row.resources
                        .as_ref()
                        .map(|c| printable(&c.resources.join(" "))),
                ),
                dash(row.resources.as_ref().map(|c| printable(&c.why))),
            ]
        })
        .collect();
    aligned(HEADERS, &cells)
}

/// The one plain-text table of lppg's reviews (`--explain`'s actions and the calls it did not grant): a header
/// line, then one line per row, columns aligned with two spaces, control characters shown as spaces, no trailing
/// spaces.
pub(super) fn aligned<const N: usize>(headers: [&str; N], cells: &[[String; N]]) -> String {
    let mut widths = headers.map(|h| h.chars().count());
    for line in cells {
        for (width, cell) in widths.iter_mut().zip(line) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut text = String::new();
    let header = headers.map(str::to_string);
    for line in std::iter::once(&header).chain(cells) {
        let mut out = String::new();
        for (i, (cell, width)) in line.iter().zip(widths).enumerate() {
            if i > 0 {
                out.push_str("  ");
            }
            out.extend(cell.chars().map(|c| if c.is_control() { ' ' } else { c }));
            out.extend(std::iter::repeat_n(' ', width - cell.chars().count()));
        }
        text.push_str(out.trim_end());
        text.push('\n');
    }
    text
}

/// A label with control characters (newlines, tabs) shown as spaces, to keep rows whole.
fn printable(label: &str) -> String {
    label
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// The rows as a JSON list of objects with the keys `action`, `service`,
/// `access_level`, `first_denied` (RFC 3339, seconds), `step`, `derived_from`,
/// `background`, `risks` (a list of risk names), `resources_seen` (a list), `resource` (the chosen list, `null`
/// when nothing was chosen) and `resource_why`; unknown values are `null`.
pub fn explain_json(rows: &[ExplainRow]) -> Value {
    Value::Array(
        rows.iter()
            .map(|row| {
                json!({
                    "action": row.action,
                    "service": row.service,
                    "access_level": row.access_level.map(AccessLevel::name),
                    "first_denied": time_text(row.first_denied),
                    "step": row.step,
                    "derived_from": row.derived_from.map(Derivation::as_str),
                    "background": row.background,
                    "risks": risk_names(&row.risks),
                    "resources_seen": row.resources.as_ref().map_or(&[][..], |c| &c.seen[..]),
                    "resource": row.resources.as_ref().map(|c| &c.resources),
                    "resource_why": row.resources.as_ref().map(|c| &c.why),
                })
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: u64 = 1_714_557_600; // 2024-05-01T10:00:00Z

    fn at(seconds: u64, millis: u64) -> Option<SystemTime> {
        Some(
            SystemTime::UNIX_EPOCH
                + Duration::from_secs(T0 + seconds)
                + Duration::from_millis(millis),
        )
    }

    fn row(level: Option<AccessLevel>, time: Option<SystemTime>, step: Option<&str>) -> ExplainRow {
        ExplainRow {
            action: "x:Y".into(),
            service: "x".into(),
            access_level: level,
            first_denied: time,
            step: step.map(str::to_string),
            derived_from: None,
            background: false,
            resources: None,
            risks: Vec::new(),
        }
    }

    const R: Option<AccessLevel> = Some(AccessLevel::Read);
    const L: Option<AccessLevel> = Some(AccessLevel::List);
    const W: Option<AccessLevel> = Some(AccessLevel::Write);

    #[test]
    fn three_reads_within_two_seconds_are_a_burst() {
        let rows = [
            row(R, at(0, 0), None),
            row(L, at(1, 0), None),
            row(R, at(2, 0), None),
        ];
        assert_eq!(background_flags(&rows), [true, true, true]);
    }

    #[test]
    fn two_reads_are_not_a_burst() {
        let rows = [row(R, at(0, 0), None), row(L, at(0, 500), None)];
        assert_eq!(background_flags(&rows), [false, false]);
    }

    #[test]
    fn spread_out_reads_are_not_a_burst() {
        let rows = [
            row(R, at(0, 0), None),
            row(R, at(2, 1), None),
            row(R, at(4, 2), None),
        ];
        assert_eq!(background_flags(&rows), [false, false, false]);
    }

    #[test]
    fn writes_steps_and_unknowns_break_bursts() {
        let rows = [
            row(R, at(0, 0), None),
            row(W, at(0, 100), None),
            row(R, at(0, 200), Some("upload")),
            row(None, at(0, 300), None),
            row(R, None, None),
            row(L, at(0, 400), None),
        ];
        assert_eq!(background_flags(&rows), [false; 6]);
    }

    #[test]
    fn burst_marks_only_its_members_in_any_order() {
        let rows = [
            row(R, at(10, 0), None),  // alone, later
            row(L, at(0, 900), None), // burst
            row(W, at(1, 0), None),   // write in the burst window
            row(R, at(0, 0), None),   // burst
            row(R, at(1, 500), None), // burst
            row(R, at(2, 800), None), // a second burst: 0.9, 1.5, 2.8
            row(R, at(6, 0), None),   // alone
        ];
        assert_eq!(
            background_flags(&rows),
            [false, true, false, true, true, true, false]
        );
        assert!(background_flags(&[]).is_empty());
    }

    fn sample() -> Vec<ExplainRow> {
        let catalogue = Catalogue::parse(
            r#"{"s3":{"GetObject":"R","ListAllMyBuckets":"L","GetBucketLocation":"R","PutObject":"W"},
                "cloudwatch":{"GetMetricData":"R"}}"#,
        )
        .unwrap();
        let set = ActionSet::parse([
            "s3:listallmybuckets",
            "s3:GetBucketLocation",
            "cloudwatch:GetMetricData",
            "s3:PutObject",
            "s3:GetObject",
            "kms:Decrypt",
        ])
        .unwrap();
        let mut meta = BTreeMap::new();
        let mut put = |action: &str, time, step: Option<&str>, derived| {
            meta.insert(
                Action::parse(action).unwrap(),
                ActionMeta {
                    first_denied: time,
                    step: step.map(str::to_string),
                    derived_from: Some(derived),
                    resources: None,
                },
            );
        };
        put("S3:ListAllMyBuckets", at(0, 0), None, Derivation::Event);
        put(
            "s3:GetBucketLocation",
            at(0, 400),
            None,
            Derivation::Message,
        );
        put(
            "cloudwatch:GetMetricData",
            at(1, 200),
            None,
            Derivation::Event,
        );
        put(
            "s3:PutObject",
            at(30, 0),
            Some("upload\nfile"),
            Derivation::Message,
        );
        put(
            "s3:GetObject",
            at(31, 0),
            Some("upload\nfile"),
            Derivation::Message,
        );
        meta.get_mut(&Action::parse("s3:GetObject").unwrap())
            .unwrap()
            .resources = Some(ResourceChoice {
            seen: vec!["arn:aws:s3:::b/k".into(), "bucketName=b".into()],
            resources: vec!["arn:aws:s3:::b/*".into()],
            why: "scoped from the ARN format (object)".into(),
        });
        explain_rows(&set, &meta, &catalogue)
    }

    #[test]
    fn rows_from_set_meta_and_catalogue() {
        let rows = sample();
        let actions: Vec<&str> = rows.iter().map(|r| r.action.as_str()).collect();
        assert_eq!(
            actions,
            [
                "cloudwatch:GetMetricData",
                "kms:Decrypt",
                "s3:GetBucketLocation",
                "s3:GetObject",
                "s3:ListAllMyBuckets",
                "s3:PutObject"
            ]
        );
        let background: Vec<bool> = rows.iter().map(|r| r.background).collect();
        assert_eq!(background, [true, false, true, false, true, false]);
        assert_eq!(rows[1].access_level, None);
        assert_eq!(rows[1].first_denied, None);
        assert_eq!(rows[5].access_level, Some(AccessLevel::Write));
    }

    #[test]
    fn renders_an_aligned_table() {
        assert_eq!(
            explain_table(&sample()),
            "\
ACTION                    SERVICE     ACCESS LEVEL  FIRST DENIED          STEP         DERIVED FROM  BACKGROUND  RISKS              RESOURCES SEEN                 RESOURCE          WHY
cloudwatch:GetMetricData  cloudwatch  Read          2024-05-01T10:00:01Z  -            event         yes         -                  -                              -                 -
kms:Decrypt               kms         -             -                     -            -                         data_exfiltration  -                              -                 -
s3:GetBucketLocation      s3          Read          2024-05-01T10:00:00Z  -            message       yes         -                  -                              -                 -
s3:GetObject              s3          Read          2024-05-01T10:00:31Z  upload file  message                   data_exfiltration  arn:aws:s3:::b/k bucketName=b  arn:aws:s3:::b/*  scoped from the ARN format (object)
s3:ListAllMyBuckets       s3          List          2024-05-01T10:00:00Z  -            event         yes         -                  -                              -                 -
s3:PutObject              s3          Write         2024-05-01T10:00:30Z  upload file  message                   -                  -                              -                 -
"
        );
        assert_eq!(
            explain_table(&[]),
            "ACTION  SERVICE  ACCESS LEVEL  FIRST DENIED  STEP  DERIVED FROM  BACKGROUND  RISKS  RESOURCES SEEN  RESOURCE  WHY\n"
        );
    }

    #[test]
    fn renders_json() {
        let json = explain_json(&sample());
        assert_eq!(
            json[0].to_string(),
            r#"{"action":"cloudwatch:GetMetricData","service":"cloudwatch","access_level":"Read","first_denied":"2024-05-01T10:00:01Z","step":null,"derived_from":"event","background":true,"risks":[],"resources_seen":[],"resource":null,"resource_why":null}"#
        );
        assert_eq!(
            json[1].to_string(),
            r#"{"action":"kms:Decrypt","service":"kms","access_level":null,"first_denied":null,"step":null,"derived_from":null,"background":false,"risks":["data_exfiltration"],"resources_seen":[],"resource":null,"resource_why":null}"#
        );
        assert_eq!(json[3]["step"], "upload\nfile");
        assert_eq!(json[3]["risks"], json!(["data_exfiltration"]));
        assert_eq!(
            json[3]["resources_seen"],
            json!(["arn:aws:s3:::b/k", "bucketName=b"])
        );
        assert_eq!(json[3]["resource"], json!(["arn:aws:s3:::b/*"]));
        assert_eq!(
            json[3]["resource_why"],
            "scoped from the ARN format (object)"
        );
        assert_eq!(explain_json(&[]).to_string(), "[]");
    }
}
