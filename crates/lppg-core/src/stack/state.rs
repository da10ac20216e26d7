//! CloudFormation's stack statuses as a type: every value of the API's `StackStatus` (CloudFormation API
//! Reference, `Stack.StackStatus`), what each means for the next step, and what to tell a person about a stack
//! left in a state `up` cannot build on. Resource events have their own, shorter list ([`ResourcePhase`]).
use std::fmt;

macro_rules! statuses {
    ($($variant:ident = $text:literal, busy: $busy:literal, failed: $failed:literal;)*) => {
        /// A stack's status. A value the API adds later is kept as [`StackStatus::Other`], classified by its
        /// name's suffix as the documented values are.
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum StackStatus {
            $($variant,)*
            Other(String),
        }

        impl StackStatus {
            /// The status the API returned.
            pub fn parse(s: &str) -> StackStatus {
                match s {
                    $($text => StackStatus::$variant,)*
                    other => StackStatus::Other(other.to_string()),
                }
            }

            /// The API's spelling.
            pub fn as_str(&self) -> &str {
                match self {
                    $(StackStatus::$variant => $text,)*
                    StackStatus::Other(s) => s,
                }
            }

            /// An operation is still running (`*_IN_PROGRESS`).
            fn busy(&self) -> bool {
                match self {
                    $(StackStatus::$variant => $busy,)*
                    StackStatus::Other(s) => s.ends_with("_IN_PROGRESS"),
                }
            }

            /// The last operation failed or was rolled back (`*_FAILED`, `*ROLLBACK*`).
            pub fn is_failed(&self) -> bool {
                match self {
                    $(StackStatus::$variant => $failed,)*
                    StackStatus::Other(s) => s.ends_with("_FAILED") || s.contains("ROLLBACK"),
                }
            }
        }

        #[cfg(test)]
        const ALL: &[&str] = &[$($text,)*];
    };
}

statuses! {
    CreateInProgress = "CREATE_IN_PROGRESS", busy: true, failed: false;
    CreateFailed = "CREATE_FAILED", busy: false, failed: true;
    CreateComplete = "CREATE_COMPLETE", busy: false, failed: false;
    RollbackInProgress = "ROLLBACK_IN_PROGRESS", busy: true, failed: true;
    RollbackFailed = "ROLLBACK_FAILED", busy: false, failed: true;
    RollbackComplete = "ROLLBACK_COMPLETE", busy: false, failed: true;
    DeleteInProgress = "DELETE_IN_PROGRESS", busy: true, failed: false;
    DeleteFailed = "DELETE_FAILED", busy: false, failed: true;
    DeleteComplete = "DELETE_COMPLETE", busy: false, failed: false;
    UpdateInProgress = "UPDATE_IN_PROGRESS", busy: true, failed: false;
    UpdateCompleteCleanupInProgress = "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", busy: true, failed: false;
    UpdateComplete = "UPDATE_COMPLETE", busy: false, failed: false;
    UpdateFailed = "UPDATE_FAILED", busy: false, failed: true;
    UpdateRollbackInProgress = "UPDATE_ROLLBACK_IN_PROGRESS", busy: true, failed: true;
    UpdateRollbackFailed = "UPDATE_ROLLBACK_FAILED", busy: false, failed: true;
    UpdateRollbackCompleteCleanupInProgress = "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS", busy: true, failed: true;
    UpdateRollbackComplete = "UPDATE_ROLLBACK_COMPLETE", busy: false, failed: true;
    ReviewInProgress = "REVIEW_IN_PROGRESS", busy: true, failed: false;
    ImportInProgress = "IMPORT_IN_PROGRESS", busy: true, failed: false;
    ImportComplete = "IMPORT_COMPLETE", busy: false, failed: false;
    ImportRollbackInProgress = "IMPORT_ROLLBACK_IN_PROGRESS", busy: true, failed: true;
    ImportRollbackFailed = "IMPORT_ROLLBACK_FAILED", busy: false, failed: true;
    ImportRollbackComplete = "IMPORT_ROLLBACK_COMPLETE", busy: false, failed: true;
}

impl StackStatus {
    /// The status ends an operation, so a wait stops. `REVIEW_IN_PROGRESS` (a change set created but never
    /// executed) ends nothing by itself, so it counts as an end: waiting on it would wait forever.
    pub fn is_terminal(&self) -> bool {
        !self.busy() || *self == StackStatus::ReviewInProgress
    }

    /// The last create, update or import finished and the stack stands as asked.
    pub fn succeeded(&self) -> bool {
        matches!(
            self,
            StackStatus::CreateComplete | StackStatus::UpdateComplete | StackStatus::ImportComplete
        )
    }

    /// What to say about stack `name` left in a state `up` cannot build on.
    pub fn advice(&self, name: &str) -> Option<String> {
        use StackStatus::*;
        let s = self.as_str();
        match self {
            RollbackComplete | RollbackFailed | CreateFailed => Some(format!(
                "stack {name} failed to create ({s}) and cannot be updated: run `lppg down` to remove it, \
                 then `lppg up` again"
            )),
            DeleteFailed => Some(format!(
                "stack {name} could not be deleted ({s}): run `lppg down` again; it removes what blocks the delete"
            )),
            UpdateRollbackFailed => Some(format!(
                "stack {name} is stuck in {s}: continue the rollback in the CloudFormation console \
                 (or `aws cloudformation continue-update-rollback --stack-name {name}`), or run `lppg down`"
            )),
            ReviewInProgress => Some(format!(
                "stack {name} holds only a change set that was never executed (REVIEW_IN_PROGRESS), so it will not \
                 finish by itself: run `lppg down` to remove it, then `lppg up`"
            )),
            _ if self.busy() => Some(format!(
                "stack {name} is being changed right now ({s}), perhaps by another `lppg up` or `lppg down`: \
                 wait for it to finish (`lppg status`) and run the command again"
            )),
            _ => None,
        }
    }
}

impl fmt::Display for StackStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a resource's event leaves it (CloudFormation API Reference, `StackEvent.ResourceStatus`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourcePhase {
    InProgress,
    Complete,
    Failed,
    Skipped,
}

impl ResourcePhase {
    /// The phase of a `ResourceStatus` value (`CREATE_COMPLETE`, `DELETE_SKIPPED`, `UPDATE_FAILED`, …).
    pub fn of(status: &str) -> ResourcePhase {
        if status.ends_with("_FAILED") {
            ResourcePhase::Failed
        } else if status.ends_with("_SKIPPED") {
            ResourcePhase::Skipped
        } else if status.ends_with("_COMPLETE") {
            ResourcePhase::Complete
        } else {
            ResourcePhase::InProgress
        }
    }

    /// The resource is done with, one way or another.
    pub fn is_settled(self) -> bool {
        self != ResourcePhase::InProgress
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_documented_status_reads_back_as_itself() {
        assert_eq!(ALL.len(), 23, "the API reference lists 23 stack statuses");
        for s in ALL {
            let st = StackStatus::parse(s);
            assert!(!matches!(st, StackStatus::Other(_)), "{s}");
            assert_eq!(st.as_str(), *s);
            assert_eq!(
                st.is_failed(),
                s.ends_with("_FAILED") || s.contains("ROLLBACK"),
                "{s}"
            );
            assert_eq!(st.busy(), s.ends_with("_IN_PROGRESS"), "{s}");
        }
        let later = StackStatus::parse("SOMETHING_NEW_IN_PROGRESS");
        assert_eq!(later.as_str(), "SOMETHING_NEW_IN_PROGRESS");
        assert!(!later.is_terminal());
    }

    #[test]
    fn terminal_failed_and_succeeded() {
        assert!(StackStatus::CreateComplete.is_terminal());
        assert!(!StackStatus::UpdateCompleteCleanupInProgress.is_terminal());
        assert!(StackStatus::ReviewInProgress.is_terminal());
        assert!(StackStatus::RollbackComplete.is_failed());
        assert!(StackStatus::UpdateRollbackComplete.is_failed());
        assert!(!StackStatus::UpdateComplete.is_failed());
        assert!(StackStatus::UpdateComplete.succeeded());
        assert!(!StackStatus::UpdateRollbackComplete.succeeded());
        assert!(!StackStatus::DeleteComplete.succeeded());
    }

    #[test]
    fn advice_says_the_way_forward() {
        assert!(StackStatus::RollbackComplete
            .advice("x")
            .unwrap()
            .contains("lppg down"));
        assert!(StackStatus::CreateInProgress
            .advice("x")
            .unwrap()
            .contains("being changed"));
        assert!(StackStatus::ReviewInProgress
            .advice("x")
            .unwrap()
            .contains("never executed"));
        assert!(StackStatus::UpdateComplete.advice("x").is_none());
    }

    #[test]
    fn resource_phases() {
        assert_eq!(
            ResourcePhase::of("CREATE_COMPLETE"),
            ResourcePhase::Complete
        );
        assert_eq!(ResourcePhase::of("DELETE_SKIPPED"), ResourcePhase::Skipped);
        assert_eq!(ResourcePhase::of("UPDATE_FAILED"), ResourcePhase::Failed);
        assert_eq!(
            ResourcePhase::of("CREATE_IN_PROGRESS"),
            ResourcePhase::InProgress
        );
        assert!(!ResourcePhase::InProgress.is_settled());
    }
}
