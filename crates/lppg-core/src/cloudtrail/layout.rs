//! The layout of a CloudTrail bucket, `[PREFIX/]AWSLogs/[o-ORG/]ACCOUNT/CloudTrail/REGION/YYYY/MM/DD/FILE`, and
//! which folders of it a scan needs: the days that can hold events of the time window, of the selected accounts and
//! regions. Pure: the S3 walk that lists the folders is in the lppg crate (`commands/generate/sources.rs`).

/// An `s3://BUCKET/PREFIX` argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Url {
    pub bucket: String,
    /// Empty, or a folder ending in `/`.
    pub prefix: String,
}

impl S3Url {
    /// Reads `s3://BUCKET[/PREFIX]`; `None` when `text` is not an `s3://` URL. A prefix is taken as a folder.
    pub fn parse(text: &str) -> Option<Result<S3Url, String>> {
        let rest = text.strip_prefix("s3://")?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Some(Err(format!("{text}: no bucket name")));
        }
        let mut prefix = prefix.trim_start_matches('/').to_owned();
        if !prefix.is_empty() && !prefix.ends_with('/') {
            prefix.push('/');
        }
        Some(Ok(S3Url {
            bucket: bucket.to_owned(),
            prefix,
        }))
    }

    pub fn display(&self) -> String {
        format!("s3://{}/{}", self.bucket, self.prefix)
    }
}

/// How long after its events a CloudTrail file may be delivered, for the day folders searched (an hour is ample
/// for the documented ~5 minutes).
pub const DELIVERY_TAIL: std::time::Duration = std::time::Duration::from_secs(3600);

/// What to keep while walking: accounts, regions (empty: all) and the window's days.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    pub accounts: Vec<String>,
    pub regions: Vec<String>,
    /// Inclusive lower bound on `eventTime` (`YYYY-MM-DDTHH:MM:SSZ`).
    pub since: Option<String>,
    /// Exclusive upper bound on `eventTime`.
    pub until: Option<String>,
}

/// Where a folder is in the layout, from the segments after `AWSLogs/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Above `AWSLogs/`: the folders to look into for it.
    Above,
    /// `AWSLogs/`: organisation ids or accounts follow.
    LogsRoot,
    /// `AWSLogs/o-ORG/`: accounts follow.
    Org,
    /// `.../ACCOUNT/`: `CloudTrail/` (and digest, insight folders) follow.
    Account,
    /// `.../ACCOUNT/CloudTrail/`: regions follow.
    Trail,
    /// `.../REGION/`: years follow.
    Region,
    Year,
    Month,
    /// `.../YYYY/MM/DD/`: the log files; listed in full.
    Day,
}

/// The level of `folder` (a key prefix ending in `/`), from its segments.
pub fn level_of(folder: &str) -> Level {
    let segments: Vec<&str> = folder.trim_end_matches('/').split('/').collect();
    let Some(root) = segments.iter().rposition(|s| *s == "AWSLogs") else {
        return Level::Above;
    };
    let mut after = &segments[root + 1..];
    let org = after.first().is_some_and(|s| s.starts_with("o-"));
    if org {
        after = &after[1..];
    }
    match after.len() {
        0 if org => Level::Org,
        0 => Level::LogsRoot,
        1 => Level::Account,
        2 => Level::Trail,
        3 => Level::Region,
        4 => Level::Year,
        5 => Level::Month,
        _ => Level::Day,
    }
}

/// The last segment of a folder (`a/b/c/` → `c`).
fn last(folder: &str) -> &str {
    folder
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or_default()
}

impl Selection {
    /// The first and last day folders (`YYYY/MM/DD`) that can hold events of the window. The last is the day of
    /// `--until` plus [`DELIVERY_TAIL`]: CloudTrail files land in the folder of their delivery, about 5 minutes
    /// (not guaranteed) after their events, so a call at 23:55 delivered at 00:03 is in the next day's folder. The
    /// `eventTime` filter still bounds the window.
    pub fn days(&self) -> (Option<String>, Option<String>) {
        let day = |t: &str| t.get(..10).map(|d| d.replace('-', "/"));
        let first = self
            .since
            .as_deref()
            .filter(|t| t.len() >= 10)
            .and_then(day);
        let last = self
            .until
            .as_deref()
            .filter(|t| t.len() >= 10)
            .and_then(|t| match crate::time::parse_rfc3339_ms(t) {
                Some(ms) => day(&crate::time::format_secs_ms(
                    ms + DELIVERY_TAIL.as_millis() as i64,
                )),
                None => day(t),
            });
        (first, last)
    }

    /// Whether a sub-folder `child` of a folder at `parent` (its level) is worth listing.
    pub fn keeps(&self, parent: Level, child: &str) -> bool {
        let name = last(child);
        match parent {
            Level::Above | Level::Day => true,
            Level::Org => self.keeps_account(name),
            // Organisation folders, and accounts of a single-account trail.
            Level::LogsRoot => name.starts_with("o-") || self.keeps_account(name),
            Level::Account => name == "CloudTrail",
            Level::Trail => self.regions.is_empty() || self.regions.iter().any(|r| r == name),
            Level::Region | Level::Year | Level::Month => self.keeps_date(child),
        }
    }

    fn keeps_account(&self, name: &str) -> bool {
        self.accounts.is_empty() || self.accounts.iter().any(|a| a == name)
    }

    /// A year, month or day folder: kept when some day under it is inside the window's days.
    fn keeps_date(&self, folder: &str) -> bool {
        let segments: Vec<&str> = folder.trim_end_matches('/').rsplit('/').collect();
        // The date so far: YYYY, YYYY/MM or YYYY/MM/DD, from the region's child on.
        let depth = match level_of(folder) {
            Level::Year => 1,
            Level::Month => 2,
            Level::Day => 3,
            _ => return true,
        };
        let mut parts: Vec<&str> = segments.into_iter().take(depth).collect();
        parts.reverse();
        let date = parts.join("/");
        let (first, last) = self.days();
        let len = date.len();
        first.is_none_or(|f| date.as_str() >= &f[..len.min(f.len())])
            && last.is_none_or(|l| date.as_str() <= &l[..len.min(l.len())])
    }
}

/// What an S3 listing error means for a person, by the call that failed: the permission to ask for.
pub fn missing_permission(listing: bool) -> &'static str {
    if listing {
        "s3:ListBucket"
    } else {
        "s3:GetObject"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_read_as_bucket_and_folder() {
        let u = S3Url::parse("s3://trail/logs").unwrap().unwrap();
        assert_eq!((u.bucket.as_str(), u.prefix.as_str()), ("trail", "logs/"));
        let u = S3Url::parse("s3://trail").unwrap().unwrap();
        assert_eq!(u.prefix, "");
        assert!(S3Url::parse("s3://").unwrap().is_err());
        assert!(S3Url::parse("/tmp/x").is_none());
    }

    #[test]
    fn levels_follow_the_layout_with_and_without_an_organisation() {
        assert_eq!(level_of("x/"), Level::Above);
        assert_eq!(level_of("p/AWSLogs/"), Level::LogsRoot);
        assert_eq!(level_of("AWSLogs/o-abc/"), Level::Org);
        assert_eq!(level_of("AWSLogs/o-abc/1/"), Level::Account);
        assert_eq!(level_of("AWSLogs/1/CloudTrail/"), Level::Trail);
        assert_eq!(
            level_of("AWSLogs/o-a/1/CloudTrail/eu-west-1/"),
            Level::Region
        );
        assert_eq!(level_of("AWSLogs/1/CloudTrail/r/2024/"), Level::Year);
        assert_eq!(level_of("AWSLogs/1/CloudTrail/r/2024/03/"), Level::Month);
        assert_eq!(level_of("AWSLogs/1/CloudTrail/r/2024/03/02/"), Level::Day);
    }

    #[test]
    fn only_the_window_days_are_kept() {
        let s = Selection {
            since: Some("2024-02-28T10:00:00Z".into()),
            until: Some("2024-03-02T00:00:00Z".into()),
            ..Selection::default()
        };
        let r = "AWSLogs/1/CloudTrail/r/";
        assert!(s.keeps(Level::Region, &format!("{r}2024/")));
        assert!(!s.keeps(Level::Region, &format!("{r}2023/")));
        assert!(!s.keeps(Level::Year, &format!("{r}2024/01/")));
        assert!(s.keeps(Level::Year, &format!("{r}2024/02/")));
        assert!(!s.keeps(Level::Month, &format!("{r}2024/02/27/")));
        assert!(s.keeps(Level::Month, &format!("{r}2024/02/28/")));
        assert!(s.keeps(Level::Month, &format!("{r}2024/03/02/")));
        assert!(!s.keeps(Level::Month, &format!("{r}2024/03/03/")));
        assert!(Selection::default().keeps(Level::Month, &format!("{r}1999/01/01/")));
    }

    /// Issue 19, defect 6: a call at 23:55 delivered at 00:03 is in the next day's folder.
    #[test]
    fn the_day_after_until_is_kept_for_late_deliveries() {
        let s = Selection {
            since: Some("2024-03-01T10:00:00Z".into()),
            until: Some("2024-03-01T23:55:00Z".into()),
            ..Selection::default()
        };
        assert_eq!(
            s.days(),
            (Some("2024/03/01".into()), Some("2024/03/02".into()))
        );
        let r = "AWSLogs/1/CloudTrail/r/";
        assert!(s.keeps(Level::Month, &format!("{r}2024/03/02/")));
        assert!(s.keeps(Level::Year, &format!("{r}2024/03/")));
        assert!(!s.keeps(Level::Month, &format!("{r}2024/03/03/")));
        // Across a month and a year.
        let s = Selection {
            until: Some("2024-12-31T23:30:00Z".into()),
            ..Selection::default()
        };
        assert_eq!(s.days().1.as_deref(), Some("2025/01/01"));
    }

    #[test]
    fn accounts_and_regions_are_filtered() {
        let s = Selection {
            accounts: vec!["111122223333".into()],
            regions: vec!["eu-west-1".into()],
            ..Selection::default()
        };
        assert!(s.keeps(Level::LogsRoot, "AWSLogs/111122223333/"));
        assert!(!s.keeps(Level::LogsRoot, "AWSLogs/444455556666/"));
        assert!(s.keeps(Level::LogsRoot, "AWSLogs/o-abc/"));
        assert!(!s.keeps(Level::Org, "AWSLogs/o-abc/444455556666/"));
        assert!(!s.keeps(Level::Account, "AWSLogs/1/CloudTrail-Digest/"));
        assert!(s.keeps(Level::Trail, "AWSLogs/1/CloudTrail/eu-west-1/"));
        assert!(!s.keeps(Level::Trail, "AWSLogs/1/CloudTrail/us-east-1/"));
    }
}
