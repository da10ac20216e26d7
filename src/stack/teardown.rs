//! Taking a generator down: what is provably its own, what CloudFormation cannot remove, the stack, stragglers,
//! and the final check that nothing remains. `down` saves the policy between [`Generator::plan_teardown`] and
//! [`Generator::teardown`].
use super::{Generator, Report};
use crate::aws::iam::{CredentialKind, CredentialSweep, Unlisted};
use crate::aws::{iam, lambda, logs, ownership, s3, sqs, stack, trail};
use crate::naming::ResourceKind;
use crate::state::StackStatus;
use anyhow::{bail, Result};
use std::collections::{BTreeMap, HashSet};

/// Why a resource with a generator's name is left alone (part of [`TeardownPlan`]), and the tag that marks what a
/// stack created.
pub use crate::aws::ownership::{Mark, TAG_KEY};

/// How long the final check keeps reading again what a stale read still shows.
const VERIFY_RETRY: crate::aws::Retry = crate::aws::Retry {
    codes: &[],
    first: std::time::Duration::from_secs(2),
    max_delay: std::time::Duration::from_secs(15),
    budget: std::time::Duration::from_secs(60),
};

/// What a teardown would remove, decided before anything is deleted.
#[derive(Debug, Default)]
pub struct TeardownPlan {
    /// Every name a generator may leave behind that is provably this one's (stack resource or lppg's mark).
    pub items: Vec<(ResourceKind, String)>,
    /// Of those, the ones that exist now.
    pub present: Vec<(ResourceKind, String)>,
    /// Resources with a generator's name that are not provably this stack's: left alone, with their mark.
    pub foreign: Vec<(ResourceKind, String, ownership::Mark)>,
}

impl TeardownPlan {
    /// Nothing to do: no stack and nothing left behind.
    pub fn is_empty(&self, has_stack: bool) -> bool {
        !has_stack && self.present.is_empty()
    }

    pub fn has(&self, kind: ResourceKind, name: &str) -> bool {
        self.present.iter().any(|(k, x)| *k == kind && x == name)
    }
}

/// What a teardown did.
#[derive(Debug, Default)]
pub struct TeardownReport {
    pub removed: Vec<String>,
    pub warnings: Vec<String>,
    /// Credential kinds the endpoint could not list, once each.
    pub unlisted: BTreeMap<CredentialKind, Unlisted>,
}

impl TeardownReport {
    fn credentials(&mut self, sweep: CredentialSweep) {
        for (kind, id) in sweep.removed {
            self.removed.push(format!("{} {id}", kind.name()));
        }
        for (kind, why) in sweep.unlisted {
            self.unlisted.entry(kind).or_insert(why);
        }
    }
}

impl Generator {
    async fn exists(&self, kind: ResourceKind, name: &str) -> Result<bool> {
        let c = &self.c;
        Ok(match kind {
            ResourceKind::User => iam::user_exists(c, name).await?,
            ResourceKind::Policy => iam::policy_exists(c, name).await?,
            ResourceKind::Role => iam::role_exists(c, name).await?,
            ResourceKind::Function => lambda::state(c, name).await?.is_some(),
            ResourceKind::LogGroup => logs::group_exists(c, name).await?,
            ResourceKind::Trail => trail::is_logging(c, name).await?.is_some(),
            ResourceKind::Bucket => s3::bucket_state(c, name).await? == Some(true),
            ResourceKind::Queue => sqs::url(c, name).await?.is_some(),
        })
    }

    async fn remove(
        &self,
        kind: ResourceKind,
        name: &str,
        report: &mut TeardownReport,
    ) -> Result<bool> {
        let c = &self.c;
        match kind {
            ResourceKind::User => Ok(match iam::delete_user(c, name).await? {
                Some(sweep) => {
                    report.credentials(sweep);
                    true
                }
                None => false,
            }),
            ResourceKind::Policy => iam::delete_policy(c, name).await,
            ResourceKind::Role => iam::delete_role(c, name).await,
            ResourceKind::Function => lambda::delete(c, name).await,
            ResourceKind::LogGroup => logs::delete_group(c, name).await,
            ResourceKind::Trail => trail::delete(c, name).await,
            ResourceKind::Bucket => s3::delete_bucket(c, name).await,
            ResourceKind::Queue => sqs::delete(c, name).await,
        }
    }

    /// The stack's own resources, read before anything is deleted.
    async fn stack_owned(&self) -> HashSet<(ResourceKind, String)> {
        let mut owned = HashSet::new();
        if self.stack.is_some() {
            if let Ok(res) = stack::resources(&self.c, &self.names.stack).await {
                for (rtype, physical) in res.values() {
                    if let Some(kind) = ResourceKind::of_resource_type(rtype) {
                        // A queue's physical id is its URL; the inventory names it.
                        let name = match kind {
                            ResourceKind::Queue => physical.rsplit('/').next().unwrap_or(physical),
                            _ => physical,
                        };
                        owned.insert((kind, name.to_string()));
                    }
                }
            }
        }
        owned
    }

    /// What is provably the generator's: the stack's own resources, or resources that carry lppg's mark. A
    /// resource that only has a matching name is left alone.
    pub async fn plan_teardown(&self) -> Result<TeardownPlan> {
        let owned = self.stack_owned().await;
        let mut plan = TeardownPlan::default();
        for (kind, name) in self.names.inventory(&self.policy_arns()) {
            if !self.exists(kind, &name).await? {
                plan.items.push((kind, name));
                continue;
            }
            let (stack, account, partition) =
                (&self.names.stack, &self.id.account, &self.id.partition);
            let mark = if owned.contains(&(kind, name.clone())) {
                ownership::Mark::Ours
            } else {
                ownership::mark(&self.c, kind, &name, stack, account, partition).await?
            };
            if mark == ownership::Mark::Ours {
                plan.present.push((kind, name.clone()));
                plan.items.push((kind, name));
            } else {
                plan.foreign.push((kind, name, mark));
            }
        }
        Ok(plan)
    }

    /// Whether any generator policy would be removed (so the policy must be saved first).
    pub fn removes_policies(&self, plan: &TeardownPlan) -> bool {
        self.policy_arns()
            .iter()
            .any(|a| plan.has(ResourceKind::Policy, a))
    }

    /// Removes everything in the plan: what CloudFormation cannot remove, the stack, then stragglers; then checks
    /// that nothing remains.
    pub async fn teardown(
        &self,
        plan: &TeardownPlan,
        progress: &dyn Report,
    ) -> Result<TeardownReport> {
        self.refuse_protected()?;
        let mut report = TeardownReport::default();
        self.clear_blockers(plan, &mut report).await?;
        self.delete_stack(progress, &mut report).await?;
        for (kind, name) in &plan.items {
            if self.remove(*kind, name, &mut report).await? {
                report.removed.push(format!("{kind} {name} (left behind)"));
            }
        }
        self.delete_stack_again(progress, &mut report).await?;
        self.verify_gone(plan, progress).await?;
        Ok(report)
    }

    /// A stack with termination protection is refused before anything is touched.
    pub fn refuse_protected(&self) -> Result<()> {
        match &self.stack {
            Some(st) if st.termination_protection => bail!(
                "stack {name} has termination protection on, so CloudFormation refuses to delete it; nothing was \
                 deleted. Turn it off (`aws cloudformation update-termination-protection \
                 --no-enable-termination-protection --stack-name {name}`) and run `lppg down` again",
                name = self.names.stack
            ),
            _ => Ok(()),
        }
    }

    /// The final check: IAM, CloudTrail and S3 reads are eventually consistent and can still show what was just
    /// deleted, so what remains is read again with backoff (about a minute) before it counts.
    async fn verify_gone(&self, plan: &TeardownPlan, progress: &dyn Report) -> Result<()> {
        let mut delays = VERIFY_RETRY.delays();
        loop {
            let mut remaining = Vec::new();
            for (kind, name) in &plan.items {
                if self.exists(*kind, name).await? {
                    remaining.push(format!("{kind} {name}"));
                }
            }
            if remaining.is_empty() {
                return Ok(());
            }
            match delays.next() {
                Some(d) => {
                    progress.status(&format!(
                        "checking again that {} is gone",
                        remaining.join(", ")
                    ));
                    crate::clock::sleep(d).await;
                }
                None => bail!(
                    "these still exist: {}; run `lppg down` again, or remove them by hand",
                    remaining.join(", ")
                ),
            }
        }
    }

    /// What CloudFormation cannot remove: the trail's logging, the user's credentials, the role's policies added
    /// by hand (its sessions' revocation included), old policy versions, the objects in the trail bucket.
    async fn clear_blockers(&self, plan: &TeardownPlan, report: &mut TeardownReport) -> Result<()> {
        let (c, n) = (&self.c, &self.names);
        // Only a logging trail is stopped: `drain` (or an earlier `down`) has usually stopped it already, and
        // StopLogging is called once per trail, never again on a stopped one.
        if plan.has(ResourceKind::Trail, &n.trail)
            && trail::is_logging(c, &n.trail).await? == Some(true)
            && trail::stop(c, &n.trail).await?
        {
            report.removed.push(format!("stopped trail {}", n.trail));
        }
        if plan.has(ResourceKind::User, &n.user) {
            report.credentials(iam::remove_user_credentials(c, &n.user).await?);
        }
        if plan.has(ResourceKind::Role, &n.role) {
            let mut keep = self.policy_arns();
            keep.push(n.policy_arn(&n.guard_policy));
            report
                .removed
                .extend(iam::remove_role_extras(c, &n.role, &keep).await?);
        }
        for arn in self
            .policy_arns()
            .iter()
            .filter(|a| plan.has(ResourceKind::Policy, a))
        {
            let k = iam::delete_non_default_versions(c, arn).await?;
            if k > 0 {
                report.removed.push(format!("{k} old versions of {arn}"));
            }
        }
        if plan.has(ResourceKind::Bucket, &n.trail_bucket) {
            let k = s3::empty_bucket(c, &n.trail_bucket).await?;
            if k > 0 {
                report
                    .removed
                    .push(format!("{k} objects in {}", n.trail_bucket));
            }
        }
        Ok(())
    }

    async fn delete_stack(&self, progress: &dyn Report, report: &mut TeardownReport) -> Result<()> {
        let Some(st) = &self.stack else {
            return Ok(());
        };
        let name = &self.names.stack;
        let mut seen = stack::event_ids(&self.c, &st.id).await.unwrap_or_default();
        if let Err(e) = stack::delete(&self.c, name).await {
            if stack::is_delete_refusal(&e) {
                // Deleting the stack's resources behind CloudFormation's back would leave an empty stack.
                bail!(
                    "{e}\n  CloudFormation refused to delete stack {name}, so its resources were left in place: fix \
                     the cause (permissions, termination protection) and run `lppg down` again"
                );
            }
            report
                .warnings
                .push(format!("{e}; removing what blocks it"));
            return Ok(());
        }
        progress.status(&format!("deleting stack {name}"));
        let res = super::deploy::wait_for(&self.c, &st.id, progress, &mut seen).await?;
        if res.status == StackStatus::DeleteComplete {
            report.removed.push(format!("stack {name}"));
            return Ok(());
        }
        for f in &res.failures {
            report.warnings.push(format!(
                "CloudFormation could not delete {} ({}): {}",
                f.logical_id,
                f.resource_type,
                f.reason.as_deref().unwrap_or("no reason given")
            ));
        }
        report.warnings.push(format!(
            "stack ended in {}; removing what blocks it",
            res.status
        ));
        Ok(())
    }

    /// A stack whose delete failed can be deleted once its resources are gone.
    async fn delete_stack_again(
        &self,
        progress: &dyn Report,
        report: &mut TeardownReport,
    ) -> Result<()> {
        let name = &self.names.stack;
        let Some(st) = stack::describe(&self.c, name).await? else {
            return Ok(());
        };
        let mut seen = stack::event_ids(&self.c, &st.id).await.unwrap_or_default();
        stack::delete(&self.c, name).await?;
        progress.status(&format!("deleting stack {name} again"));
        let res = super::deploy::wait_for(&self.c, &st.id, progress, &mut seen).await?;
        if res.status != StackStatus::DeleteComplete {
            bail!(
                "stack {name} is still {} after its resources were removed: delete it in the CloudFormation console \
                 with 'retain resources', then run `lppg down` again",
                res.status
            );
        }
        report.removed.push(format!("stack {name}"));
        Ok(())
    }
}

/// Says once, plainly, which credential kinds the endpoint could not list.
pub fn unlisted_notes(unlisted: &BTreeMap<CredentialKind, Unlisted>) -> Vec<String> {
    let mut not_implemented = Vec::new();
    let mut notes = Vec::new();
    for (kind, why) in unlisted {
        match why {
            Unlisted::NotImplemented => not_implemented.push(format!("{}s", kind.name())),
            Unlisted::Refused(text) => notes.push(format!(
                "could not list the user's {}s: {text}",
                kind.name()
            )),
        }
    }
    if !not_implemented.is_empty() {
        notes.insert(
            0,
            format!(
                "this endpoint cannot list {} (an emulator does not implement it), so none can exist there: skipped",
                not_implemented.join(", ")
            ),
        );
    }
    notes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unlisted_kinds_are_said_once() {
        let mut r = TeardownReport::default();
        for _ in 0..2 {
            r.credentials(CredentialSweep {
                removed: vec![],
                unlisted: vec![(CredentialKind::ServiceSpecific, Unlisted::NotImplemented)],
            });
        }
        let notes = unlisted_notes(&r.unlisted);
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(
            notes[0].contains("service-specific credentials"),
            "{notes:?}"
        );
        assert!(unlisted_notes(&BTreeMap::new()).is_empty());
    }
}
