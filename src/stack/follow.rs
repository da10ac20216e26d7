//! Following the function's log while a person works (`lppg watch`): which lines are new across overlapping
//! polls, how a failed poll is classified (from the AWS error's kind, never its text), and whether the stack is
//! ready to be followed. The rendering is [`crate::ui::watch_view`]; the timing loop is the command's.
use super::Generator;
use crate::aws::ErrorKind;
use crate::decisions::{parse_line, Line};
use crate::state::StackStatus;
use anyhow::Result;
use std::collections::HashMap;

/// Re-read this far back on each poll: late-ingested events keep their (earlier) timestamps.
pub const LOOKBACK_MS: i64 = 60_000;

/// What went wrong with a poll, for the backoff and the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    Throttled,
    Credentials,
    Other,
}

impl Fault {
    /// The fault of a failed poll, from the AWS error's kind.
    pub fn of(e: &anyhow::Error) -> Fault {
        match ErrorKind::of_error(e) {
            ErrorKind::Throttled => Fault::Throttled,
            ErrorKind::Credentials => Fault::Credentials,
            _ => Fault::Other,
        }
    }
}

/// Remembers which events were shown, so overlapping polls (the look-back) give each event once.
#[derive(Debug, Default)]
pub struct Seen {
    ids: HashMap<String, i64>,
    /// Newest timestamp seen.
    pub cursor: Option<i64>,
}

impl Seen {
    /// True when the event is new (and records it).
    pub fn fresh(&mut self, id: &str, ts_ms: i64) -> bool {
        self.cursor = Some(self.cursor.map_or(ts_ms, |c| c.max(ts_ms)));
        self.ids.insert(id.to_string(), ts_ms).is_none()
    }

    /// Forgets events older than the look-back window.
    pub fn prune(&mut self) {
        if let Some(c) = self.cursor {
            self.ids.retain(|_, t| *t >= c - LOOKBACK_MS);
        }
    }

    /// Where the next poll starts.
    pub fn next_start(&self, since_ms: i64) -> i64 {
        self.cursor
            .map_or(since_ms, |c| (c - LOOKBACK_MS).max(since_ms))
    }
}

/// What one poll found.
pub struct Polled {
    /// New lines (log timestamp, line), oldest first; `None` when the log group does not exist.
    pub lines: Option<Vec<(i64, Line)>>,
    /// FilterLogEvents calls made.
    pub calls: u32,
}

/// Whether the stack can be followed yet.
#[derive(Debug, PartialEq, Eq)]
pub enum Readiness {
    Ready,
    /// Still being created: wait.
    Creating(String),
    /// Will not become followable: the message says why and what to do.
    Never(String),
}

/// The readiness of a stack in `status` (with its status reason).
pub fn readiness(stack: &str, status: &StackStatus, reason: Option<&str>) -> Readiness {
    use StackStatus::*;
    match status {
        CreateInProgress => Readiness::Creating(status.to_string()),
        ReviewInProgress => Readiness::Never(format!(
            "stack {stack} is waiting for a change set to be executed ({status}): it will not become ready by \
             itself; run `lppg down` to remove it, then `lppg up`"
        )),
        DeleteInProgress | DeleteFailed | DeleteComplete => Readiness::Never(format!(
            "stack {stack} is being deleted ({status}): run `lppg up` to create it again"
        )),
        CreateFailed | RollbackInProgress | RollbackFailed | RollbackComplete => {
            let reason = reason.map(|r| format!(": {r}")).unwrap_or_default();
            Readiness::Never(format!(
                "stack {stack} did not get created ({status}{reason}): run `lppg up` again; `lppg status` shows what is wrong"
            ))
        }
        _ => Readiness::Ready,
    }
}

impl Generator {
    /// The readiness of the stack as read now.
    pub fn readiness(&self) -> Result<Readiness> {
        let st = self.require_stack()?;
        Ok(readiness(
            &self.names.stack,
            &st.status,
            st.reason.as_deref(),
        ))
    }

    /// When the function's log group was created (whole seconds), the default start of a watch.
    pub async fn log_created_ms(&self) -> Result<Option<i64>> {
        let group = self.function_log_group();
        let t = crate::aws::logs::group_created_ms(&self.c, &group).await?;
        // Whole seconds: markers carry whole-second times, and one written right after `lppg up` counts.
        Ok(t.map(|t| t - t.rem_euclid(1000)))
    }

    /// One poll of the function's log from `since_ms` (or the look-back before the newest line seen).
    pub async fn poll_log(&self, seen: &mut Seen, since_ms: i64, max_pages: u32) -> Result<Polled> {
        let group = self.function_log_group();
        let p =
            crate::aws::logs::poll_events(&self.c, &group, seen.next_start(since_ms), max_pages)
                .await?;
        let lines = p.events.map(|events| {
            let fresh: Vec<(i64, Line)> = events
                .into_iter()
                .filter(|ev| seen.fresh(&ev.id, ev.timestamp_ms))
                .map(|ev| (ev.timestamp_ms, parse_line(&ev.message)))
                .collect();
            seen.prune();
            fresh
        });
        Ok(Polled {
            lines,
            calls: p.calls,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_come_from_the_error_kind_not_its_text() {
        // A hint that mentions credentials on a non-credential failure is not a credentials fault.
        let e = anyhow::anyhow!(
            "reading log group x failed: ValidationError: bad\n  hint: check your credentials"
        );
        assert_eq!(Fault::of(&e), Fault::Other);
    }

    #[test]
    fn seen_prunes_and_restarts_with_lookback() {
        let mut s = Seen::default();
        assert!(s.fresh("a", 100_000));
        assert!(!s.fresh("a", 100_000));
        assert!(s.fresh("b", 200_000));
        s.prune();
        assert!(s.fresh("a", 100_000), "pruned ids are forgotten");
        assert_eq!(s.next_start(0), 200_000 - LOOKBACK_MS);
        assert_eq!(Seen::default().next_start(5), 5);
    }

    #[test]
    fn stack_readiness() {
        let ready = |s: &str, reason| readiness("s", &StackStatus::parse(s), reason);
        assert_eq!(ready("CREATE_COMPLETE", None), Readiness::Ready);
        assert_eq!(ready("UPDATE_COMPLETE", None), Readiness::Ready);
        assert!(matches!(
            ready("CREATE_IN_PROGRESS", None),
            Readiness::Creating(_)
        ));
        assert!(matches!(
            ready("REVIEW_IN_PROGRESS", None),
            Readiness::Never(_)
        ));
        assert!(matches!(ready("DELETE_FAILED", None), Readiness::Never(_)));
        match ready("ROLLBACK_COMPLETE", Some("boom")) {
            Readiness::Never(m) => assert!(m.contains("boom")),
            other => panic!("{other:?}"),
        }
    }
}
