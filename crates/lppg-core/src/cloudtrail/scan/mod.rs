//! The streaming scanner behind `lppg generate`: walks files and directory trees, decompresses and parses them in
//! parallel, and folds each record into small per-thread tallies. Nothing holds the input set in memory: a worker
//! holds one file (or, for JSON lines, one line) at a time, and the tallies grow with the number of distinct
//! events and principals, not with the number of records.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver};
use std::sync::{Arc, Mutex};

use flate2::bufread::MultiGzDecoder;

use super::denial::Refusal;
use super::engine::{classify_denied, Outcome};
use super::record::{parse_document, parse_documents, split_records, Record, Span};
use crate::policy::{Action, Catalogue, Derivation};

mod filter;
mod read;
mod tally;

pub use filter::normalise_time;
use filter::*;
use read::*;
use tally::*;

/// One input: a file (possibly gzip-compressed), standard input, or an object of a remote store.
#[derive(Debug)]
pub enum Input {
    File(PathBuf),
    Stdin,
    Remote(Remote),
}

impl Input {
    pub fn display(&self) -> String {
        match self {
            Input::File(p) => p.display().to_string(),
            Input::Stdin => "<stdin>".to_owned(),
            Input::Remote(r) => r.name.clone(),
        }
    }
}

/// Opens a remote object as a byte stream; `Err` says why it could not be opened.
pub type Open = Box<dyn Fn() -> Result<Box<dyn Read + Send>, String> + Send + Sync>;

/// An object of a remote store (an S3 key): opened by the worker that reads it, streamed through the same
/// decoder as a file.
pub struct Remote {
    /// How problems name it (`s3://bucket/key`).
    pub name: String,
    pub open: Open,
}

impl fmt::Debug for Remote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Remote").field("name", &self.name).finish()
    }
}

/// Inputs that are not paths (`s3://...`), walked by a source the caller provides (the pure scanner knows no
/// AWS).
pub trait RemoteSource: Sync {
    /// Whether `arg` names one of this source's inputs.
    fn handles(&self, arg: &str) -> bool;
    /// Sends the inputs under `arg` in order; stops when `send` returns false. A listing that fails is a problem.
    fn walk(&self, arg: &str, send: &(dyn Fn(Input) -> bool + Sync)) -> Result<bool, Problem>;
    /// Reading workers wanted: downloads wait on the network, so more of them than cores.
    fn workers(&self) -> usize;
}

/// Which calls to collect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Successful calls: the permissions that were used.
    Used,
    /// Refused calls: what the generator function would have granted.
    Denied,
}

/// What to select.
#[derive(Debug, Clone)]
pub struct ScanOptions {
    pub mode: Mode,
    /// Empty: every principal.
    pub principals: Vec<String>,
    /// Inclusive lower bound on `eventTime`, as `YYYY-MM-DDTHH:MM:SSZ`.
    pub since: Option<String>,
    /// Exclusive upper bound on `eventTime`, as `YYYY-MM-DDTHH:MM:SSZ`.
    pub until: Option<String>,
    /// Worker threads (0: one per core).
    pub threads: usize,
    /// The IAM action catalogue (usually [`crate::policy::catalogue`]).
    pub catalogue: &'static Catalogue,
}

/// Live counters, readable while the scan runs (for a progress display).
#[derive(Debug, Default)]
pub struct Counters {
    pub files: AtomicU64,
    pub records: AtomicU64,
    pub bytes: AtomicU64,
}

impl Counters {
    /// Files, records and bytes so far.
    pub fn snapshot(&self) -> (u64, u64, u64) {
        (
            self.files.load(Ordering::Relaxed),
            self.records.load(Ordering::Relaxed),
            self.bytes.load(Ordering::Relaxed),
        )
    }
}

/// A file that could not be read completely.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub input: String,
    pub message: String,
    /// Records of this file that were still used (those before a truncation).
    pub records: u64,
}

/// How often one action was seen, and how it was derived.
#[derive(Debug, Clone)]
pub struct ActionTally {
    pub action: Action,
    pub count: u64,
    pub from_message: u64,
    pub from_event: u64,
    pub first_seen: Option<String>,
    pub last_seen: Option<String>,
    /// The resources the action's records were seen on.
    pub evidence: crate::policy::Evidence,
}

impl ActionTally {
    fn new(action: Action) -> Self {
        ActionTally {
            action,
            count: 0,
            from_message: 0,
            from_event: 0,
            first_seen: None,
            last_seen: None,
            evidence: crate::policy::Evidence::default(),
        }
    }

    fn add(&mut self, count: u64, derived: Derivation, first: Option<&str>, last: Option<&str>) {
        self.count += count;
        match derived {
            Derivation::Message => self.from_message += count,
            Derivation::Event => self.from_event += count,
        }
        if let Some(t) = first {
            if self.first_seen.as_deref().is_none_or(|f| t < f) {
                set(&mut self.first_seen, t);
            }
        }
        if let Some(t) = last {
            if self.last_seen.as_deref().is_none_or(|l| t > l) {
                set(&mut self.last_seen, t);
            }
        }
    }

    fn merge(&mut self, other: &ActionTally) {
        self.count += other.count;
        self.from_message += other.from_message;
        self.from_event += other.from_event;
        self.evidence
            .add(other.evidence.seen.iter().map(String::as_str));
        self.add(
            0,
            Derivation::Event,
            other.first_seen.as_deref(),
            other.last_seen.as_deref(),
        );
    }
}

/// Stores `value` in `slot`, reusing its allocation (times move forward record after record).
fn set(slot: &mut Option<String>, value: &str) {
    match slot {
        Some(s) => {
            s.clear();
            s.push_str(value);
        }
        None => *slot = Some(value.to_owned()),
    }
}

/// The result of a scan.
#[derive(Debug, Default)]
pub struct ScanSummary {
    /// Inputs opened (including those with problems).
    pub files: u64,
    /// Records parsed.
    pub records: u64,
    /// Bytes of JSON parsed (after decompression).
    pub bytes: u64,
    /// Records of the selected principals (all of them without `--principal`), at any time.
    pub matched: u64,
    /// Records of the selected principals inside the time window (any outcome).
    pub selected: u64,
    /// Granted (or used) actions, by canonical name.
    pub actions: BTreeMap<String, ActionTally>,
    /// `--denied`: actions refused by an explicit deny (never granted).
    pub explicit_denies: BTreeMap<String, ActionTally>,
    /// `--denied`: actions whose message names the policy that refused them, by action and refusal: those blocked by
    /// another kind of policy (never granted: an identity policy cannot fix them) and explicit denies of a named kind.
    pub refused: BTreeMap<(String, Refusal), ActionTally>,
    /// `--denied`: refused calls that no permission fixes (or, for used calls, that need none).
    pub not_permission: u64,
    /// Records per principal (role ARN for assumed-role sessions), over every record parsed: with `--principal`,
    /// the selected principals only, unless none matched (see [`scan`]).
    pub principals: HashMap<String, u64>,
    pub problems: Vec<Problem>,
}

impl ScanSummary {
    /// Principals by record count, busiest first.
    pub fn busiest_principals(&self, n: usize) -> Vec<(&str, u64)> {
        let mut all: Vec<(&str, u64)> = self
            .principals
            .iter()
            .map(|(p, c)| (p.as_str(), *c))
            .collect();
        all.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        all.truncate(n);
        all
    }

    /// Records made by the selected principals, whatever their time.
    pub fn principals_matched(&self) -> u64 {
        self.matched
    }

    /// `--explain`'s rows of the denied actions left out of the policy: each action with the policy that refused
    /// it (blocked by another kind of policy, or explicitly denied), then explicit denies whose message named no
    /// kind of policy.
    pub fn refused_rows(&self) -> Vec<crate::policy::RefusedRow> {
        let first = |t: &ActionTally| t.first_seen.as_deref().and_then(crate::time::parse_rfc3339);
        let mut rows: Vec<crate::policy::RefusedRow> = self
            .refused
            .iter()
            .map(|((action, refusal), t)| refusal.row(action, t.count, first(t)))
            .collect();
        for (action, t) in &self.explicit_denies {
            let named: u64 = self
                .refused
                .iter()
                .filter(|((a, r), _)| a == action && r.explicit)
                .map(|(_, t)| t.count)
                .sum();
            if t.count > named {
                rows.push(super::denial::unnamed_explicit_row(
                    action,
                    t.count - named,
                    first(t),
                ));
            }
        }
        rows
    }

    /// Whether at least one input was read without a problem, or some records were read.
    pub fn any_read(&self) -> bool {
        self.records > 0 || self.files > self.problems.len() as u64
    }
}

/// Keeps at most this many problems (a count of the rest is reported).
const MAX_PROBLEMS: usize = 1_000;
/// A worker's file buffer above this size is released after use, so one big file does not pin memory.
const KEEP_BUFFER: usize = 64 << 20;

/// Scans `inputs` (files, directories, or `-`), updating `counters` as it goes.
///
/// With `--principal`, a record whose text does not contain any selected principal's ARN (and holds no JSON escape
/// that could hide one) is counted but not parsed. Such records are left out of `ScanSummary::principals`; when no
/// record matched at all, the inputs are read again in full so that the summary can name the busiest principals.
pub fn scan(inputs: &[String], options: &ScanOptions, counters: &Counters) -> ScanSummary {
    scan_remote(inputs, None, options, counters)
}

/// [`scan`] with inputs of a remote store too (`s3://...`, those `remote` handles), read by the same workers.
pub fn scan_remote(
    inputs: &[String],
    remote: Option<&dyn RemoteSource>,
    options: &ScanOptions,
    counters: &Counters,
) -> ScanSummary {
    // Standard input cannot be read twice: no prefilter when it is among the inputs.
    let prefilter = !inputs.iter().any(|a| a == "-");
    let filter = Filter::new(options, prefilter);
    let mut summary = scan_with(inputs, remote, options, &filter, counters);
    if filter.needles.is_some() && summary.matched == 0 {
        let full = Filter::new(options, false);
        summary.principals =
            scan_with(inputs, remote, options, &full, &Counters::default()).principals;
    }
    summary
}

/// Tallies records a query engine has already grouped (Athena's rows): each `(record, count, last)` stands for
/// `count` records alike but for their time, the first at the record's own `eventTime` and the others at `last`.
/// The same filter and rules as a scan of the records themselves, so the actions are the same.
pub fn tally_groups<'a>(
    groups: impl IntoIterator<Item = (Record<'a>, u64, Option<String>)>,
    options: &ScanOptions,
) -> ScanSummary {
    let filter = Filter::new(options, false);
    let mut local = Local::default();
    for (mut record, count, last) in groups {
        if count == 0 {
            continue;
        }
        local.record(&filter, &record);
        if count > 1 {
            if let Some(last) = last {
                record.event_time = Some(Cow::Owned(last));
            }
            for _ in 1..count {
                local.record(&filter, &record);
            }
        }
    }
    let mut summary = ScanSummary::default();
    let used = merge_locals(&mut summary, vec![local]);
    add_used_events(&mut summary, used, options.catalogue);
    summary
}

fn scan_with(
    inputs: &[String],
    remote: Option<&dyn RemoteSource>,
    options: &ScanOptions,
    filter: &Filter,
    counters: &Counters,
) -> ScanSummary {
    let remote = remote.filter(|r| inputs.iter().any(|a| r.handles(a)));
    let threads = match options.threads {
        0 => std::thread::available_parallelism()
            .map_or(2, |n| n.get())
            .max(remote.map_or(0, |r| r.workers())),
        n => n,
    };
    let (locals, problems) = run_workers(inputs, remote, threads, filter, counters);
    let mut summary = ScanSummary {
        files: problems.len() as u64,
        problems,
        ..ScanSummary::default()
    };
    let used = merge_locals(&mut summary, locals);
    add_used_events(&mut summary, used, options.catalogue);
    summary.problems.sort_by(|a, b| a.input.cmp(&b.input));
    summary
}

/// Walks the inputs on one thread and reads them on `threads` workers: each worker's tallies, and the inputs the
/// walk could not open.
fn run_workers(
    inputs: &[String],
    remote: Option<&dyn RemoteSource>,
    threads: usize,
    filter: &Filter,
    counters: &Counters,
) -> (Vec<Local>, Vec<Problem>) {
    let (tx, rx) = sync_channel::<Input>(4_096);
    let rx = Arc::new(Mutex::new(rx));
    let walk_problems = Mutex::new(Vec::new());
    let locals: Vec<Local> = std::thread::scope(|scope| {
        let walker = scope.spawn(|| {
            for arg in inputs {
                if arg == "-" {
                    if tx.send(Input::Stdin).is_err() {
                        return;
                    }
                    continue;
                }
                let send = |input| tx.send(input).is_ok();
                let walked = match remote.filter(|r| r.handles(arg)) {
                    Some(r) => r.walk(arg, &send),
                    None => walk(Path::new(arg), &send),
                };
                if let Err(problem) = walked {
                    walk_problems.lock().expect("walk problems").push(problem);
                }
            }
            drop(tx);
        });
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                let rx = Arc::clone(&rx);
                scope.spawn(move || worker(&rx, filter, counters))
            })
            .collect();
        walker.join().expect("walker thread");
        workers
            .into_iter()
            .map(|w| w.join().expect("worker thread"))
            .collect()
    });
    (locals, walk_problems.into_inner().expect("walk problems"))
}

/// Adds the workers' tallies into `summary`; returns the successful calls by distinct event, still to be mapped.
fn merge_locals(
    summary: &mut ScanSummary,
    locals: Vec<Local>,
) -> HashMap<(String, String), EventTally> {
    let mut used: HashMap<(String, String), EventTally> = HashMap::new();
    for local in locals {
        summary.files += local.files;
        summary.records += local.records;
        summary.bytes += local.bytes;
        summary.selected += local.selected;
        summary.matched += local.matched;
        summary.not_permission += local.not_permission;
        for (p, c) in local.principals {
            *summary.principals.entry(p).or_default() += c;
        }
        for (source, names) in local.events {
            for (name, tally) in names {
                used.entry((source.clone(), name))
                    .or_default()
                    .merge(&tally);
            }
        }
        merge_tallies(&mut summary.actions, local.granted);
        merge_tallies(&mut summary.explicit_denies, local.explicit);
        merge_tallies(&mut summary.refused, local.refused);
        for p in local.problems {
            if summary.problems.len() < MAX_PROBLEMS {
                summary.problems.push(p);
            }
        }
    }
    used
}

/// Used calls: maps each distinct event once, not once per record.
fn add_used_events(
    summary: &mut ScanSummary,
    used: HashMap<(String, String), EventTally>,
    catalogue: &Catalogue,
) {
    for ((source, name), tally) in used {
        let actions = super::engine::map_event(&source, &name, catalogue);
        if actions.is_empty() {
            summary.not_permission += tally.count;
        }
        for action in actions {
            summary
                .actions
                .entry(action.to_string())
                .or_insert_with(|| ActionTally::new(action))
                .add(
                    tally.count,
                    Derivation::Event,
                    tally.first.as_deref(),
                    tally.last.as_deref(),
                );
        }
    }
}

fn merge_tallies<K: Ord>(into: &mut BTreeMap<K, ActionTally>, from: BTreeMap<K, ActionTally>) {
    for (name, tally) in from {
        match into.get_mut(&name) {
            Some(t) => t.merge(&tally),
            None => {
                into.insert(name, tally);
            }
        }
    }
}

fn worker(rx: &Mutex<Receiver<Input>>, filter: &Filter, counters: &Counters) -> Local {
    let mut local = Local::default();
    let mut bufs = Buffers::default();
    loop {
        let next = rx.lock().expect("input queue").recv();
        let Ok(input) = next else { break };
        local.files += 1;
        let before = local.records;
        let result = read_input(&input, filter, &mut local, &mut bufs, counters);
        counters.files.fetch_add(1, Ordering::Relaxed);
        if let Err(message) = result {
            local.problems.push(Problem {
                input: input.display(),
                message,
                records: local.records - before,
            });
        }
        if bufs.text.capacity() > KEEP_BUFFER {
            bufs.text = Vec::new();
        }
        if bufs.raw.capacity() > KEEP_BUFFER {
            bufs.raw = Vec::new();
        }
    }
    local
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_normalised_to_cloudtrail_form() {
        assert_eq!(
            normalise_time("2024-03-01T10:00:00Z").as_deref(),
            Some("2024-03-01T10:00:00Z")
        );
        assert_eq!(
            normalise_time("2024-03-01T10:00:00.123Z").as_deref(),
            Some("2024-03-01T10:00:00Z")
        );
        assert_eq!(
            normalise_time("2024-03-01 10:00:00Z").as_deref(),
            Some("2024-03-01T10:00:00Z")
        );
        assert_eq!(
            normalise_time("2024-03-01T12:00:00+02:00").as_deref(),
            Some("2024-03-01T10:00:00Z")
        );
        assert_eq!(normalise_time("March"), None);
    }

    #[test]
    fn used_calls_are_tallied_per_distinct_event_and_mapped_once() {
        let dir = std::env::temp_dir().join(format!("lppg-scan-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let record = |name: &str, t: &str| {
            format!(
                r#"{{"eventSource":"s3.amazonaws.com","eventName":"{name}","eventTime":"{t}","userIdentity":{{"arn":"u"}}}}"#
            )
        };
        let body = format!(
            "{}\n{}\n{}\n",
            record("ListObjectsV2", "2024-01-02T00:00:00Z"),
            record("HeadBucket", "2024-01-01T00:00:00Z"),
            record("GetObject", "2024-01-03T00:00:00Z")
        );
        std::fs::write(dir.join("a.jsonl"), body).expect("write");
        let options = ScanOptions {
            mode: Mode::Used,
            principals: vec!["u".into()],
            since: None,
            until: Some("2024-01-03T00:00:00Z".into()),
            threads: 2,
            catalogue: crate::policy::catalogue().expect("catalogue"),
        };
        let summary = scan(&[dir.display().to_string()], &options, &Counters::default());
        std::fs::remove_dir_all(&dir).ok();
        assert_eq!(summary.records, 3);
        assert_eq!(summary.selected, 2);
        let list = &summary.actions["s3:ListBucket"];
        assert_eq!(list.count, 2);
        assert_eq!(list.first_seen.as_deref(), Some("2024-01-01T00:00:00Z"));
        assert_eq!(list.last_seen.as_deref(), Some("2024-01-02T00:00:00Z"));
        assert!(!summary.actions.contains_key("s3:GetObject"));
    }
}
