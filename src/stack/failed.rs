//! Failed batches: invocations of the function that Lambda gave up on land in the stack's queue (the on-failure
//! destination). How many wait, and `redrive`: each re-run through the deployed function, removed from the queue
//! only after its re-run succeeded.
use super::{Generator, Report};
use crate::aws::{lambda, sqs};
use crate::failure_record::{self, FailedBatch};
use anyhow::{bail, Result};
use std::collections::HashMap;

/// How long a message stays hidden from other readers while redrive holds it: the function's timeout (300 s) and
/// a margin.
const HOLD_SECS: i32 = 360;

/// What happened to one waiting batch.
#[derive(Debug, Clone, PartialEq)]
pub enum Rerun {
    /// `--dry-run`: would be re-run.
    Listed,
    /// Re-run and succeeded: removed from the queue.
    Succeeded,
    /// Re-run and failed again (why): still queued.
    Failed(String),
    /// The message is not an invocation record lppg can re-run (why): still queued.
    Unreadable(String),
}

/// What `redrive` did: one outcome per batch, and problems met after work was done (the report is still shown).
#[derive(Debug, Default)]
pub struct Redrive {
    pub outcomes: Vec<BatchOutcome>,
    pub problems: Vec<String>,
}

/// One batch of the queue and its outcome.
#[derive(Debug, Clone)]
pub struct BatchOutcome {
    pub message_id: String,
    pub batch: Option<FailedBatch>,
    pub sent_ms: Option<i64>,
    pub outcome: Rerun,
}

impl Generator {
    pub fn failed_queue(&self) -> String {
        self.names.failed_queue.clone()
    }

    /// Failed batches waiting; `None` when the stack has no queue (created by an older lppg).
    pub async fn failed_batches(&self) -> Result<Option<u64>> {
        let Some(url) = sqs::url(&self.c, &self.failed_queue()).await? else {
            return Ok(None);
        };
        sqs::waiting(&self.c, &url).await
    }

    /// Re-runs every waiting batch (or, with `dry_run`, lists them), one message at a time: each is held for
    /// [`HOLD_SECS`] (longer than one re-run may take), re-run, and deleted after its re-run succeeded; the others
    /// are held to the end, then returned to the queue. A message received again (its hold expired while another
    /// re-ran) is not re-run: its newest receipt is kept, and a receipt that went stale on delete or release counts
    /// as done (the message is back in the queue, or will be, by itself). The report is always returned: problems
    /// after work was done are in [`Redrive::problems`], not an error.
    pub async fn redrive(&self, dry_run: bool, progress: &dyn Report) -> Result<Redrive> {
        let queue = self.failed_queue();
        let Some(url) = sqs::url(&self.c, &queue).await? else {
            bail!("there is no failed-batches queue {queue}: the stack predates it; run `lppg up` to add it");
        };
        let mut r = Redrive::default();
        // Per message id: its outcome's index and its newest receipt.
        let mut held: HashMap<String, (usize, String)> = HashMap::new();
        loop {
            let got = match sqs::receive(&self.c, &url, HOLD_SECS, 1).await {
                Ok(got) => got,
                Err(e) if r.outcomes.is_empty() => return Err(e),
                Err(e) => {
                    r.problems.push(format!("{e:#}"));
                    break;
                }
            };
            let Some(m) = got.into_iter().next() else {
                break;
            };
            if let Some((i, receipt)) = held.get_mut(&m.id) {
                *receipt = m.receipt.clone();
                if r.outcomes[*i].outcome == Rerun::Succeeded {
                    // Its delete found a stale receipt: delete it with the newest.
                    self.settle(&url, &m.id, &m.receipt, true, &mut r).await;
                }
                continue;
            }
            progress.status(&format!("failed batch {}", m.id));
            let o = self.rerun(&m, dry_run).await;
            let ok = o.outcome == Rerun::Succeeded;
            r.outcomes.push(o);
            held.insert(m.id.clone(), (r.outcomes.len() - 1, m.receipt.clone()));
            if ok {
                self.settle(&url, &m.id, &m.receipt, true, &mut r).await;
            }
        }
        for (id, (i, receipt)) in &held {
            if r.outcomes[*i].outcome != Rerun::Succeeded {
                self.settle(&url, id, receipt, false, &mut r).await;
            }
        }
        Ok(r)
    }

    /// Deletes (`delete`) or returns a held message; a stale receipt is done, another failure a problem.
    async fn settle(&self, url: &str, id: &str, receipt: &str, delete: bool, r: &mut Redrive) {
        let res = if delete {
            sqs::delete_message(&self.c, url, receipt).await
        } else {
            sqs::release(&self.c, url, receipt).await
        };
        match res {
            Ok(()) => {}
            Err(e) if sqs::is_stale_receipt(&e) => {}
            Err(e) => r.problems.push(format!("batch {id}: {e:#}")),
        }
    }

    async fn rerun(&self, m: &sqs::Message, dry_run: bool) -> BatchOutcome {
        let mut o = BatchOutcome {
            message_id: m.id.clone(),
            batch: None,
            sent_ms: m.sent_ms,
            outcome: Rerun::Listed,
        };
        let batch = match failure_record::parse(&m.body) {
            Ok(b) => b,
            Err(why) => {
                o.outcome = Rerun::Unreadable(why);
                return o;
            }
        };
        o.outcome = match (&batch.payload, dry_run) {
            (None, _) => Rerun::Unreadable("the record holds no request payload".into()),
            (Some(_), true) => Rerun::Listed,
            (Some(p), false) => self.invoke_again(p).await,
        };
        o.batch = Some(batch);
        o
    }

    async fn invoke_again(&self, payload: &serde_json::Value) -> Rerun {
        let bytes = serde_json::to_vec(payload).unwrap_or_default();
        match lambda::invoke(&self.c, &self.function_name(), bytes).await {
            Ok(r) if r.function_error.is_none() && (200..300).contains(&r.status) => {
                Rerun::Succeeded
            }
            Ok(r) => Rerun::Failed(error_of(&r)),
            Err(e) => Rerun::Failed(format!("{e:#}")),
        }
    }
}

/// The function's error message from a failed invocation's payload (`errorMessage`), else what Lambda said.
fn error_of(r: &lambda::Invoked) -> String {
    let msg = serde_json::from_str::<serde_json::Value>(&r.payload)
        .ok()
        .and_then(|v| {
            v.get("errorMessage")
                .and_then(|m| m.as_str())
                .map(str::to_string)
        });
    match (msg, &r.function_error) {
        (Some(m), _) => m,
        (None, Some(f)) => format!("the function failed ({f})"),
        (None, None) => format!("the invocation answered HTTP {}", r.status),
    }
}
