//! `lppg generate --athena`: the one query that lets Athena do the scan, and its rows turned back into records for
//! the same rules as a local scan ([`crate::cloudtrail::scan::tally_groups`]). Pure: the calls are in
//! the lppg crate (`aws/athena.rs`).
//!
//! The query filters the principals, the time window (on the table's `timestamp` partition and on `eventtime`),
//! the accounts and regions (on the `account` and `region` partitions of the README's table) and the kind of call
//! (successful, or refused with an error code the rules count as denied), then groups by every field the rules
//! read, so that a row stands for records the rules cannot tell apart.

use std::borrow::Cow;

use super::layout::Selection;
use super::record::{Record, SessionContext, SessionIssuer, UserIdentity};
use super::scan::Mode;

/// The result columns, in the order the query selects them.
pub const COLUMNS: [&str; 11] = [
    "eventsource",
    "eventname",
    "eventtype",
    "errorcode",
    "errormessage",
    "identity_type",
    "arn",
    "issuer_arn",
    "calls",
    "first_seen",
    "last_seen",
];

/// What the query selects.
#[derive(Debug, Clone)]
pub struct QueryOptions {
    /// `"database"."table"`, quoted.
    pub table: String,
    pub mode: Mode,
    pub principals: Vec<String>,
    /// Accounts, regions and the time window.
    pub selection: Selection,
}

/// Reads `DATABASE.TABLE` into a quoted Athena name (letters, digits, `_` and `-` only).
pub fn table_name(text: &str) -> Result<String, String> {
    let ok = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    };
    match text.split_once('.') {
        Some((db, table)) if ok(db) && ok(table) => Ok(format!("\"{db}\".\"{table}\"")),
        _ => Err(format!(
            "--athena {text:?}: expected DATABASE.TABLE (letters, digits, _ and - only)"
        )),
    }
}

/// A SQL string literal.
fn literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn list(values: &[String]) -> String {
    values
        .iter()
        .map(|v| literal(v))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The condition a record of `principal` meets: the same as [`Record::made_by`] (a role matches its sessions, an
/// assumed-role ARN without a session name every session of the role).
fn principal_condition(principal: &str) -> String {
    let p = literal(principal);
    let mut c =
        format!("useridentity.arn = {p} OR useridentity.sessioncontext.sessionissuer.arn = {p}");
    if principal.contains(":assumed-role/") {
        c.push_str(&format!(
            " OR starts_with(useridentity.arn, {})",
            literal(&format!("{principal}/"))
        ));
    }
    c
}

/// The query, one condition per line.
pub fn sql(q: &QueryOptions, denied_codes: &[String]) -> String {
    let mut conditions: Vec<String> = Vec::new();
    let s = &q.selection;
    let (first_day, last_day) = s.days();
    match (first_day, last_day) {
        (Some(f), Some(l)) => conditions.push(format!(
            "\"timestamp\" BETWEEN {} AND {}",
            literal(&f),
            literal(&l)
        )),
        (Some(f), None) => conditions.push(format!("\"timestamp\" >= {}", literal(&f))),
        (None, Some(l)) => conditions.push(format!("\"timestamp\" <= {}", literal(&l))),
        (None, None) => {}
    }
    if let Some(t) = &s.since {
        conditions.push(format!("eventtime >= {}", literal(t)));
    }
    if let Some(t) = &s.until {
        conditions.push(format!("eventtime < {}", literal(t)));
    }
    if !s.accounts.is_empty() {
        conditions.push(format!("account IN ({})", list(&s.accounts)));
    }
    if !s.regions.is_empty() {
        conditions.push(format!("region IN ({})", list(&s.regions)));
    }
    if !q.principals.is_empty() {
        let any: Vec<String> = q
            .principals
            .iter()
            .map(|p| format!("({})", principal_condition(p)))
            .collect();
        conditions.push(format!("({})", any.join("\n       OR ")));
    }
    match q.mode {
        Mode::Used => {
            conditions.push("(errorcode IS NULL OR errorcode = '')".into());
            conditions.push("(eventtype IS NULL OR eventtype = 'AwsApiCall')".into());
        }
        Mode::Denied => {
            let mut codes = denied_codes.to_vec();
            codes.sort();
            conditions.push(format!("errorcode IN ({})", list(&codes)));
        }
    }
    let mut text = String::from(
        "SELECT eventsource, eventname, eventtype, errorcode, errormessage,\n       \
         useridentity.type AS identity_type, useridentity.arn AS arn,\n       \
         useridentity.sessioncontext.sessionissuer.arn AS issuer_arn,\n       \
         count(*) AS calls, min(eventtime) AS first_seen, max(eventtime) AS last_seen\n",
    );
    text.push_str(&format!("FROM {}\n", q.table));
    for (i, c) in conditions.iter().enumerate() {
        text.push_str(if i == 0 { "WHERE " } else { "  AND " });
        text.push_str(c);
        text.push('\n');
    }
    text.push_str("GROUP BY 1, 2, 3, 4, 5, 6, 7, 8\nORDER BY 1, 2, 4, 7\n");
    text
}

/// One result row: records alike for the rules, how many, and their first and last times.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Group {
    pub event_source: Option<String>,
    pub event_name: Option<String>,
    pub event_type: Option<String>,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    pub identity_type: Option<String>,
    pub arn: Option<String>,
    pub issuer_arn: Option<String>,
    pub count: u64,
    pub first: Option<String>,
    pub last: Option<String>,
}

impl Group {
    /// The record this row stands for, at its first time.
    pub fn record(&self) -> Record<'_> {
        fn s(v: &Option<String>) -> Option<Cow<'_, str>> {
            v.as_deref().map(Cow::Borrowed)
        }
        let session_context = self.issuer_arn.as_ref().map(|a| SessionContext {
            session_issuer: Some(SessionIssuer {
                arn: Some(Cow::Borrowed(a.as_str())),
            }),
        });
        let user_identity = (self.arn.is_some()
            || self.identity_type.is_some()
            || session_context.is_some())
        .then(|| UserIdentity {
            kind: s(&self.identity_type),
            arn: s(&self.arn),
            session_context,
        });
        Record {
            event_source: s(&self.event_source),
            event_name: s(&self.event_name),
            event_time: s(&self.first),
            event_type: s(&self.event_type),
            error_code: s(&self.error_code),
            error_message: s(&self.error_message),
            user_identity,
            ..Record::default()
        }
    }
}

/// The groups of a result, pages joined: Athena's first row is the header (the column names), left out; a row
/// of another width, or a count that is not a number, is an error.
pub fn groups(rows: &[Vec<Option<String>>]) -> Result<Vec<Group>, String> {
    let header: Vec<Option<String>> = COLUMNS.iter().map(|c| Some((*c).to_owned())).collect();
    let data = match rows.first() {
        Some(first) if *first == header => &rows[1..],
        _ => rows,
    };
    data.iter()
        .enumerate()
        .map(|(i, row)| {
            if row.len() != COLUMNS.len() {
                return Err(format!(
                    "result row {}: {} columns, expected {} ({})",
                    i + 1,
                    row.len(),
                    COLUMNS.len(),
                    COLUMNS.join(", ")
                ));
            }
            let field = |n: usize| row[n].clone().filter(|v| !v.is_empty());
            let count = row[8]
                .as_deref()
                .unwrap_or("0")
                .parse::<u64>()
                .map_err(|e| format!("result row {}: calls: {e}", i + 1))?;
            Ok(Group {
                event_source: field(0),
                event_name: field(1),
                event_type: field(2),
                error_code: field(3),
                error_message: field(4),
                identity_type: field(5),
                arn: field(6),
                issuer_arn: field(7),
                count,
                first: field(9),
                last: field(10),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_names_are_checked_and_quoted() {
        assert_eq!(table_name("logs.trail").unwrap(), "\"logs\".\"trail\"");
        assert!(table_name("trail").is_err());
        assert!(table_name("a.b;drop").is_err());
    }

    #[test]
    fn literals_escape_quotes() {
        assert_eq!(literal("it's"), "'it''s'");
    }

    #[test]
    fn the_header_row_is_left_out_and_rows_are_read_by_position() {
        let header: Vec<Option<String>> = COLUMNS.iter().map(|c| Some((*c).to_owned())).collect();
        let row: Vec<Option<String>> = [
            Some("s3.amazonaws.com"),
            Some("GetObject"),
            Some("AwsApiCall"),
            None,
            Some(""),
            Some("IAMUser"),
            Some("arn:aws:iam::1:user/u"),
            None,
            Some("3"),
            Some("2024-03-01T00:00:00Z"),
            Some("2024-03-02T00:00:00Z"),
        ]
        .iter()
        .map(|v| v.map(str::to_owned))
        .collect();
        let g = groups(&[header, row.clone()]).unwrap();
        assert_eq!(g.len(), 1);
        assert_eq!(g[0].count, 3);
        assert_eq!(g[0].error_message, None);
        assert_eq!(g[0].record().principal(), Some("arn:aws:iam::1:user/u"));
        // A later page has no header.
        assert_eq!(groups(std::slice::from_ref(&row)).unwrap().len(), 1);
        assert!(groups(&[row[..5].to_vec()]).is_err());
    }
}
