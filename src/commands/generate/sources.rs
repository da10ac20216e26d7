//! `lppg generate` beyond local files: CloudTrail in S3 (walked folder by folder, only the selected accounts,
//! regions and days, each object streamed to the same scanner as a file) and CloudTrail through Athena (one query,
//! its rows mapped with the same rules). Calls AWS only through [`crate::aws`]; reports through [`Report`].
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::{bail, Context, Result};

use crate::aws::{self, AwsArgs, Clients};
use crate::cloudtrail::athena::{self, QueryOptions};
use crate::cloudtrail::layout::{level_of, Level, S3Url, Selection};
use crate::cloudtrail::scan::{
    tally_groups, Input, Problem, Remote, RemoteSource, ScanOptions, ScanSummary,
};
use crate::stack::Report;

/// Objects read at once from S3 (each holds one piece of its body and one decoding buffer in memory).
pub const S3_READERS: usize = 16;
/// Accounts or regions listed at once.
const LISTERS: usize = 8;
/// How far above `AWSLogs/` a walk looks for it (`s3://bucket/` of a trail with a key prefix `a/b/`).
const MAX_DEPTH_ABOVE: usize = 3;

/// An AWS session for `generate`: a runtime of its own (the scanner's threads wait on it) and the clients.
pub struct Session {
    rt: tokio::runtime::Runtime,
    c: Clients,
}

impl Session {
    /// Connects with the global flags (`--profile`, `--region`, `--endpoint-url`).
    pub fn connect(g: &AwsArgs) -> Result<Session> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?;
        let c = rt.block_on(Clients::connect(g))?;
        Ok(Session { rt, c })
    }

    /// The S3 source of the scanner, for the `s3://` inputs.
    pub fn s3_source(&self, selection: Selection) -> S3Trail<'_> {
        S3Trail {
            session: self,
            selection,
            listings: AtomicU64::new(0),
        }
    }
}

/// `s3://BUCKET/PREFIX` inputs for [`crate::cloudtrail::scan::scan_remote`].
pub struct S3Trail<'a> {
    session: &'a Session,
    selection: Selection,
    /// List calls made (pages not counted).
    pub listings: AtomicU64,
}

impl RemoteSource for S3Trail<'_> {
    fn handles(&self, arg: &str) -> bool {
        arg.starts_with("s3://")
    }

    fn walk(&self, arg: &str, send: &(dyn Fn(Input) -> bool + Sync)) -> Result<bool, Problem> {
        let problem = |message: String| Problem {
            input: arg.to_owned(),
            message,
            records: 0,
        };
        let url = match S3Url::parse(arg) {
            Some(Ok(u)) => u,
            Some(Err(e)) => return Err(problem(e)),
            None => return Err(problem("not an s3:// URL".into())),
        };
        self.walk_folder(&url.bucket, &url.prefix, 0, send)
            .map_err(|e| problem(format!("{e}")))
    }

    fn workers(&self) -> usize {
        S3_READERS
    }
}

impl S3Trail<'_> {
    /// Lists `folder` and goes down the folders the selection keeps; sends the objects of each day folder.
    fn walk_folder(
        &self,
        bucket: &str,
        folder: &str,
        depth: usize,
        send: &(dyn Fn(Input) -> bool + Sync),
    ) -> Result<bool> {
        let (rt, c) = (&self.session.rt, &self.session.c);
        let level = level_of(folder);
        self.listings.fetch_add(1, Ordering::Relaxed);
        if level == Level::Day {
            for (key, _) in rt.block_on(aws::s3::list_objects(c, bucket, folder))? {
                if !send(self.object(bucket, key)) {
                    return Ok(false);
                }
            }
            return Ok(true);
        }
        let mut children = rt.block_on(aws::s3::list_folders(c, bucket, folder))?;
        if level == Level::Above {
            // Straight to the trail's folder when it is here; otherwise look a little deeper.
            if let Some(logs) = children
                .iter()
                .find(|f| f.ends_with("/AWSLogs/") || *f == "AWSLogs/")
            {
                children = vec![logs.clone()];
            } else if depth >= MAX_DEPTH_ABOVE {
                return Ok(true);
            }
        }
        children.retain(|child| self.selection.keeps(level, child));
        if matches!(level, Level::LogsRoot | Level::Org | Level::Trail) && children.len() > 1 {
            return self.walk_apart(bucket, &children, depth, send);
        }
        for child in children {
            if !self.walk_folder(bucket, &child, depth + 1, send)? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Walks accounts (or regions) side by side, [`LISTERS`] at a time: an organisation's listing waits on the
    /// network far more than on anything else.
    fn walk_apart(
        &self,
        bucket: &str,
        children: &[String],
        depth: usize,
        send: &(dyn Fn(Input) -> bool + Sync),
    ) -> Result<bool> {
        for batch in children.chunks(LISTERS) {
            let results: Vec<Result<bool>> = std::thread::scope(|scope| {
                let walks: Vec<_> = batch
                    .iter()
                    .map(|child| {
                        scope.spawn(move || self.walk_folder(bucket, child, depth + 1, send))
                    })
                    .collect();
                walks
                    .into_iter()
                    .map(|w| w.join().expect("listing thread"))
                    .collect()
            });
            for r in results {
                if !r? {
                    return Ok(false);
                }
            }
        }
        Ok(true)
    }

    fn object(&self, bucket: &str, key: String) -> Input {
        let c = self.session.c.clone();
        let handle = self.session.rt.handle().clone();
        let bucket = bucket.to_owned();
        let name = format!("s3://{bucket}/{key}");
        Input::Remote(Remote {
            name,
            open: Box::new(move || {
                let body = handle
                    .block_on(aws::s3::get_object(&c, &bucket, &key))
                    .map_err(|e| format!("{e}"))?;
                Ok(Box::new(aws::s3::ObjectReader::new(handle.clone(), body)))
            }),
        })
    }
}

/// What an Athena run gives besides the summary.
pub struct AthenaRun {
    pub summary: ScanSummary,
    pub rows: usize,
    pub scanned_bytes: i64,
}

/// Runs the query for `query` in Athena, waits for it (reporting its state), reads every result page and maps the
/// rows with the same rules as a scan.
pub fn athena_generate(
    session: &Session,
    query: &QueryOptions,
    options: &ScanOptions,
    workgroup: Option<&str>,
    output: Option<&str>,
    report: &dyn Report,
) -> Result<AthenaRun> {
    let (rt, c) = (&session.rt, &session.c);
    let sql = athena::sql(query, &denied_codes());
    let id = rt.block_on(aws::athena::start_query(c, &sql, workgroup, output))?;
    report.line(&format!("lppg: Athena query {id} started"));
    // Ctrl-C while the query runs stops it: Athena would otherwise run it to the end, scanning (and billing) all of
    // what it selects, for a result nobody reads.
    let Some(scanned) = rt.block_on(until_ctrl_c(wait(c, &id, report)))? else {
        bail!(rt.block_on(interrupted(c, &id)));
    };
    let on_page = |n: usize| report.status(&format!("reading results: {n} rows"));
    let Some(rows) = rt.block_on(until_ctrl_c(aws::athena::result_rows(c, &id, &on_page)))? else {
        bail!("interrupted while reading the results of Athena query {id} (it had finished): nothing was written");
    };
    let groups = athena::groups(&rows)
        .map_err(anyhow::Error::msg)
        .with_context(|| format!("Athena query {id}"))?;
    let summary = tally_groups(
        groups.iter().map(|g| (g.record(), g.count, g.last.clone())),
        options,
    );
    Ok(AthenaRun {
        summary,
        rows: groups.len(),
        scanned_bytes: scanned,
    })
}

/// `work`'s result, or `None` when Ctrl-C came first (`work` is then dropped).
async fn until_ctrl_c<T>(work: impl std::future::Future<Output = Result<T>>) -> Result<Option<T>> {
    tokio::select! {
        r = work => r.map(Some),
        _ = tokio::signal::ctrl_c() => Ok(None),
    }
}

/// After Ctrl-C: stops query `id` (StopQueryExecution) and says so, or how to stop it by hand.
async fn interrupted(c: &Clients, id: &str) -> String {
    match aws::athena::stop_query(c, id).await {
        Ok(()) => format!("interrupted: stopped Athena query {id}; nothing was written"),
        Err(e) => format!(
            "interrupted: nothing was written, but Athena query {id} could not be stopped ({e:#}): stop it with \
             `aws athena stop-query-execution --query-execution-id {id}`"
        ),
    }
}

/// The error codes the rules count as denials (the query keeps only those calls).
pub fn denied_codes() -> Vec<String> {
    crate::cloudtrail::rules()
        .denied_error_codes
        .iter()
        .cloned()
        .collect()
}

/// Polls the query until it ends; the bytes it scanned.
async fn wait(c: &Clients, id: &str, report: &dyn Report) -> Result<i64> {
    let clock = crate::clock::system();
    let started = clock.now_ms();
    let mut polls =
        crate::clock::Backoff::unbounded(Duration::from_millis(200), Duration::from_secs(2))
            .start(clock);
    loop {
        match aws::athena::query_state(c, id).await? {
            aws::athena::QueryState::Succeeded { scanned } => return Ok(scanned),
            aws::athena::QueryState::Failed(reason) => bail!("Athena query {id} failed: {reason}"),
            aws::athena::QueryState::Running { queued, scanned } => report.status(&format!(
                "Athena query {}: {:.1} MB scanned, {}s",
                if queued { "queued" } else { "running" },
                scanned as f64 / 1e6,
                (clock.now_ms() - started) / 1000
            )),
        }
        polls.wait().await;
    }
}
