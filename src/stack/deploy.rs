//! Deploying a generator: the stack's parameters, the checks real AWS makes (names taken, CloudTrail's quota),
//! create or update through a change set, the wait with live events, one retry after an IAM propagation failure,
//! and the user's console password.
use super::{Generator, Report};
use crate::aws::stack::{self, WaitNote, WaitResult};
use crate::aws::{iam, s3, trail, Clients};
use crate::naming::Principal;
use crate::password::PasswordRules;
use crate::policy::Action;
use crate::stack::session::Trust;
use crate::state::ResourcePhase;
use anyhow::{bail, Result};
use std::collections::{BTreeMap, HashSet};

/// The settings a generator is deployed with (from `lppg up`'s flags).
#[derive(Debug, Clone)]
pub struct Settings {
    /// `--principal`; `None` keeps the stack's (a user for a new stack).
    pub principal: Option<Principal>,
    pub role_name: Option<String>,
    /// Whom the role trusts (role mode), resolved by [`Generator::trust_for`].
    pub trust: Trust,
    pub user_name: Option<String>,
    pub start_actions: Vec<String>,
    pub data_events: Vec<String>,
    pub log_retention_days: u32,
    /// `--allow-role-switch`: grant a denied `sts:AssumeRole*` on another role (withheld by default).
    pub allow_role_switch: bool,
    /// The EventBridge rule besides the subscription filter (`--no-fast-path` turns it off).
    pub fast_path: bool,
    /// `--regions`: the other regions the fast path forwards from; `None` keeps the stack's (or the default).
    pub regions: Option<Vec<String>>,
    /// The regions enabled in the account ([`Generator::enabled_regions`]), the default for a stack that remembers
    /// none; empty when they could not be listed (the default is then us-east-1 alone).
    pub enabled_regions: Vec<String>,
}

const RETENTION_DAYS: [u32; 12] = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365];

/// Logical ids whose change would rewrite the generator's grants or user (an update that touches them is refused).
fn protected_resources() -> Vec<String> {
    (1..=crate::naming::POLICY_COUNT)
        .map(|i| format!("Policy{i}"))
        .chain(["User".to_string(), "GuardPolicy".to_string()])
        .collect()
}

impl Settings {
    /// Checks the settings before any AWS call.
    pub fn validate(&self) -> Result<()> {
        for d in &self.data_events {
            if !["s3", "lambda", "dynamodb"].contains(&d.to_ascii_lowercase().as_str()) {
                bail!("--data-events takes s3, lambda and dynamodb (comma-separated), not {d:?}");
            }
        }
        if self.start_actions.is_empty() {
            bail!("--start-actions needs at least one action, e.g. ec2:DescribeInstances");
        }
        for s in &self.start_actions {
            Action::parse(s).map_err(|_| {
                anyhow::anyhow!("--start-actions: {s:?} is not an IAM action (service:Action, e.g. ec2:DescribeInstances)")
            })?;
        }
        if !RETENTION_DAYS.contains(&self.log_retention_days) {
            bail!("--log-retention-days must be one of {RETENTION_DAYS:?}");
        }
        if let Some(r) = &self.role_name {
            let ok = !r.is_empty()
                && r.len() <= crate::role::MAX_ROLE_NAME
                && r.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c));
            if !ok {
                bail!(
                    "--role-name {r:?} is not a valid role name (1-{} of letters, digits and +=,.@_-; the \
                     console's switch-role link takes at most 64 with the path)",
                    crate::role::MAX_ROLE_NAME
                );
            }
        }
        if let Some(u) = &self.user_name {
            let ok = !u.is_empty()
                && u.len() <= 64
                && u.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c));
            if !ok {
                bail!("--user-name {u:?} is not a valid IAM user name (1-64 of letters, digits and +=,.@_-)");
            }
        }
        Ok(())
    }

    /// The stack's parameters.
    pub fn parameters(
        &self,
        code_bucket: &str,
        code_key: &str,
    ) -> Result<BTreeMap<String, String>> {
        let mut p = BTreeMap::new();
        p.insert(
            "Principal".into(),
            self.principal.unwrap_or_default().as_str().into(),
        );
        p.insert(
            "RoleName".into(),
            self.role_name.clone().unwrap_or_default(),
        );
        p.insert("TrustAccounts".into(), self.trust.accounts.join(","));
        p.insert("TrustPrincipalArns".into(), self.trust.patterns.join(","));
        p.insert(
            "UserName".into(),
            self.user_name.clone().unwrap_or_default(),
        );
        p.insert("StartActions".into(), self.start_actions.join(","));
        p.insert("CodeBucket".into(), code_bucket.into());
        p.insert("CodeKey".into(), code_key.into());
        p.insert(
            "LogRetentionDays".into(),
            self.log_retention_days.to_string(),
        );
        p.insert("TrailObjectExpirationDays".into(), "30".into());
        for (svc, key) in [
            ("s3", "DataEventsS3"),
            ("lambda", "DataEventsLambda"),
            ("dynamodb", "DataEventsDynamoDB"),
        ] {
            let on = self.data_events.iter().any(|d| d.eq_ignore_ascii_case(svc));
            p.insert(key.into(), on.to_string());
        }
        p.insert("AllowRoleSwitch".into(), self.allow_role_switch.to_string());
        p.insert("FastPath".into(), self.fast_path.to_string());
        p.insert(
            "DeniedErrorCodesPattern".into(),
            crate::assets::error_code_clause(crate::assets::MAPPING_JSON)?,
        );
        Ok(p)
    }
}

/// Everything a deploy sends: the rendered template, the function's code and the parameters.
pub struct Bundle {
    pub template: String,
    pub zip: Vec<u8>,
    pub key: String,
    pub params: BTreeMap<String, String>,
}

/// What `up` will deploy, decided by [`Generator::plan_up`] with every check made and nothing changed.
pub struct UpPlan {
    pub bundle: Bundle,
    /// A cost to tell the person before a create (a second trail in the region).
    pub cost_note: Option<String>,
    /// The deployed stack already is this bundle: nothing to deploy.
    pub up_to_date: bool,
}

/// How a deploy ended.
#[derive(Debug)]
pub enum Deployed {
    /// A create, finished or failed: [`retry_reason`] says whether creating it again may help, and
    /// [`ensure_complete`] turns a failure into its explanation.
    Created(WaitResult),
    Updated(crate::state::StackStatus, Vec<String>),
    UpToDate,
}

impl Generator {
    /// The template, zip and parameters for these settings.
    fn bundle(&self, s: &Settings) -> Result<Bundle> {
        let template = crate::assets::render_template()?;
        let zip = crate::assets::function_zip()?;
        let key = crate::assets::function_key(&zip);
        let mut s = s.clone();
        s.principal = Some(self.mode(&s));
        // Without --role-name / --user-name, an update keeps the principal's name (a new one would replace the
        // role or user and lose its grants).
        let kept = |key: &str| {
            let st = self.stack.as_ref()?;
            st.parameters.get(key).filter(|v| !v.is_empty()).cloned()
        };
        if s.role_name.is_none() {
            s.role_name = kept("RoleName");
        }
        if s.user_name.is_none() {
            s.user_name = kept("UserName");
        }
        let mut params = s.parameters(&self.names.artifact_bucket, &key)?;
        let readers = crate::naming::principal_arns(&self.id.arn).join(",");
        params.insert("QueueReaderArns".into(), readers);
        let regions = if s.fast_path {
            let kept = self.remembered_regions();
            super::forwarders::choose(
                s.regions.as_deref(),
                kept.as_deref(),
                &s.enabled_regions,
                &self.c.region,
            )?
        } else {
            Vec::new()
        };
        params.insert(
            super::forwarders::REGIONS_PARAMETER.into(),
            regions.join(","),
        );
        Ok(Bundle {
            template,
            zip,
            key,
            params,
        })
    }

    /// Refuses settings the existing stack cannot take without losing grants (after [`Generator::check_mode`], which
    /// [`Generator::plan_up`] makes first).
    fn check_update(&self, s: &Settings, b: &Bundle) -> Result<()> {
        let Some(st) = &self.stack else {
            return Ok(());
        };
        if let Some(advice) = st.status.advice(&self.names.stack) {
            bail!(advice);
        }
        if let (Some(old), Some(new)) = (st.output("UserName"), s.user_name.as_deref()) {
            if old != new {
                bail!("stack {} already has generator user {old}; to use {new}, run `lppg down` first or choose another --stack-name", self.names.stack);
            }
        }
        let old = st
            .parameters
            .get("StartActions")
            .map(String::as_str)
            .unwrap_or("");
        if !old.is_empty() && old != b.params["StartActions"] {
            bail!(
                "stack {} started with {old}; changing --start-actions would rewrite the first generator policy \
                 and lose what was granted: save the policy (`lppg export-policy -o policy.json`), then \
                 `lppg down` and `lppg up --start-actions ...`",
                self.names.stack
            );
        }
        Ok(())
    }

    /// Every check `up` makes before changing anything, in order: the mode (a stack keeps its principal), the
    /// trust (role mode, into `s.trust`), the bundle, the update rules, the account's preflight, and whether the
    /// deployed stack already is this bundle. A mistake found here costs nothing.
    pub async fn plan_up(&self, s: &mut Settings, trust: &[String]) -> Result<UpPlan> {
        self.check_mode(s)?;
        let mode = self.mode(s);
        s.trust = self.trust_for(s, trust).await?;
        let bundle = self.bundle(s)?;
        self.check_update(s, &bundle)?;
        let cost_note = self.preflight(mode).await?;
        let up_to_date = self.is_up_to_date(&bundle).await?;
        Ok(UpPlan {
            bundle,
            cost_note,
            up_to_date,
        })
    }

    /// The mode a deploy uses: `--principal`, else the stack's, else a user.
    pub fn mode(&self, s: &Settings) -> Principal {
        s.principal.unwrap_or_else(|| self.principal())
    }

    /// Refuses switching an existing stack between a user and a role (it would remove the principal that holds
    /// the grants) or renaming its role.
    fn check_mode(&self, s: &Settings) -> Result<()> {
        let (Some(st), Some(new)) = (&self.stack, s.principal) else {
            return Ok(());
        };
        let old = self.principal();
        if old != new {
            bail!(
                "stack {} observes {} {} (deployed with --principal {}); switching it to a {} would remove that \
                 principal and lose what was granted: save the policy (`lppg export-policy -o policy.json`), then \
                 `lppg down` and `lppg up --principal {}`, or choose another --stack-name",
                self.names.stack,
                if old == Principal::Role { "the role" } else { "the user" },
                self.principal_arn(),
                old.as_str(),
                new.as_str(),
                new.as_str()
            );
        }
        if let (Some(old), Some(new)) = (st.output("RoleName"), s.role_name.as_deref()) {
            if old != new {
                bail!("stack {} already has generator role {old}; to use {new}, save the policy, run `lppg down` first or choose another --stack-name", self.names.stack);
            }
        }
        Ok(())
    }

    /// Whom the role trusts: `--trust`, else on an existing stack the trust it has, else the caller.
    async fn trust_for(&self, s: &Settings, given: &[String]) -> Result<Trust> {
        if self.mode(s) != Principal::Role {
            return Ok(Trust::default());
        }
        let deployed = self.stack.as_ref().map(|st| {
            let list = |k: &str| -> Vec<String> {
                st.parameters
                    .get(k)
                    .map(|v| {
                        v.split(',')
                            .filter(|x| !x.is_empty())
                            .map(str::to_string)
                            .collect()
                    })
                    .unwrap_or_default()
            };
            Trust {
                accounts: list("TrustAccounts"),
                patterns: list("TrustPrincipalArns"),
            }
        });
        let trust = match deployed {
            Some(t) if given.is_empty() && !t.patterns.is_empty() => t,
            _ => self.resolve_trust(given).await?,
        };
        crate::role::check_trust_size(&trust.accounts, &trust.patterns)
            .map_err(anyhow::Error::msg)?;
        Ok(trust)
    }

    /// Before a create: names taken by something else, and CloudTrail's quota. Returns the cost note for the
    /// confirmation when another trail already logs management events.
    async fn preflight(&self, mode: Principal) -> Result<Option<String>> {
        let (c, n) = (&self.c, &self.names);
        if self.stack.is_some() {
            return Ok(None);
        }
        if mode == Principal::Role {
            if iam::role_exists(c, &n.role).await? {
                bail!(
                    "an IAM role named {} already exists and is not part of stack {}: choose another \
                     --stack-name or --role-name (or remove the role)",
                    n.role,
                    n.stack
                );
            }
        } else if iam::user_exists(c, &n.user).await? {
            bail!(
                "an IAM user named {} already exists and is not part of stack {}: choose another --stack-name \
                 or --user-name (or remove the user)",
                n.user,
                n.stack
            );
        }
        if s3::bucket_state(c, &n.trail_bucket).await?.is_some() {
            bail!(
                "bucket {} already exists: a previous generator left it behind (run `lppg down`) or the name is \
                 taken; choose another --stack-name",
                n.trail_bucket
            );
        }
        let trails = trail::list(c).await?;
        crate::preflight::trail_room(&trails, &c.region, &self.id.account)
            .map_err(anyhow::Error::msg)?;
        Ok(crate::preflight::second_copy_note(&trails, &n.trail))
    }

    /// Whether the stack already runs this template with these parameters.
    async fn is_up_to_date(&self, b: &Bundle) -> Result<bool> {
        let Some(st) = &self.stack else {
            return Ok(false);
        };
        Ok(st.parameters == b.params
            && stack::current_template(&self.c, &self.names.stack)
                .await?
                .trim()
                == b.template.trim())
    }

    /// Creates the artifact bucket if needed and uploads the function's code if it is not there yet.
    async fn upload_code(&self, b: &Bundle, progress: &dyn Report) -> Result<()> {
        let (c, bucket) = (&self.c, &self.names.artifact_bucket);
        if s3::ensure_artifact_bucket(c, bucket).await? {
            progress.line(&format!("created artifact bucket {bucket}"));
        }
        crate::aws::ownership::mark_bucket(c, bucket, &self.names.stack).await?;
        if s3::upload_if_missing(c, bucket, &b.key, b.zip.clone()).await? {
            progress.line(&format!(
                "uploaded the function ({} bytes) to s3://{bucket}/{}",
                b.zip.len(),
                b.key
            ));
        }
        Ok(())
    }

    /// Deploys a bundle: uploads the function's code, then updates the stack through a change set (refusing
    /// changes that would lose grants) or creates it, and waits.
    pub async fn deploy(&self, b: &Bundle, progress: &dyn Report) -> Result<Deployed> {
        self.upload_code(b, progress).await?;
        if self.stack.is_some() {
            return self.update(b, progress).await;
        }
        Ok(Deployed::Created(self.create(b, progress).await?))
    }

    /// After a create that [`retry_reason`] says may succeed on a second try: removes the failed stack (saving any
    /// policy first) and creates it once more; the generator read again, and how the second create ended.
    pub async fn create_again(
        self,
        b: &Bundle,
        progress: &dyn Report,
    ) -> Result<(Generator, WaitResult)> {
        let gen = self.reload().await?;
        gen.remove_failed_stack(progress).await?;
        let result = gen.create(b, progress).await?;
        ensure_complete(&gen.names.stack, &result, progress)?;
        Ok((gen.reload().await?, result))
    }

    /// Creates the stack and waits for it.
    async fn create(&self, b: &Bundle, progress: &dyn Report) -> Result<WaitResult> {
        let id = stack::create(&self.c, &self.names.stack, &b.template, &b.params).await?;
        progress.line(&format!("Creating stack {}…", self.names.stack));
        wait_for(&self.c, &id, progress, &mut HashSet::new()).await
    }

    /// Updates the stack through a change set and waits for it; refuses changes that would lose grants.
    async fn update(&self, b: &Bundle, progress: &dyn Report) -> Result<Deployed> {
        let st = self.require_stack()?;
        // Events from before this update are not news.
        let mut seen = stack::event_ids(&self.c, &st.id).await?;
        let protected = protected_resources();
        let protected: Vec<&str> = protected.iter().map(String::as_str).collect();
        let name = &self.names.stack;
        let changes = match stack::update(&self.c, name, &b.template, &b.params, &protected).await? {
            stack::UpdateOutcome::Refused(ids) => bail!(
                "this update would rewrite or replace {} and lose the actions granted so far, so nothing \
                 was changed: save the policy (`lppg export-policy -o policy.json`), then `lppg down` and \
                 `lppg up` with the new settings",
                ids.join(", ")
            ),
            stack::UpdateOutcome::UpToDate => return Ok(Deployed::UpToDate),
            stack::UpdateOutcome::Started(changes) => changes,
        };
        let result = wait_for(&self.c, &st.id, progress, &mut seen).await?;
        ensure_complete(name, &result, progress)?;
        Ok(Deployed::Updated(result.status, changes))
    }

    /// Removes a stack that failed (saving any policy first) so it can be created again.
    pub async fn remove_failed_stack(&self, progress: &dyn Report) -> Result<()> {
        let plan = self.plan_teardown().await?;
        if self.removes_policies(&plan) {
            if let Ok(saved) = self.save_policy(None).await {
                progress.line(&format!(
                    "saved the policy ({} actions) to {}",
                    saved.actions.len(),
                    saved.path.display()
                ));
            }
        }
        self.teardown(&plan, progress).await?;
        Ok(())
    }

    pub async fn password_rules(&self) -> Result<PasswordRules> {
        iam::password_rules(&self.c).await
    }

    pub async fn has_console_password(&self, user: &str) -> Result<bool> {
        iam::has_login_profile(&self.c, user).await
    }

    pub async fn set_console_password(
        &self,
        user: &str,
        password: &str,
        exists: bool,
    ) -> Result<()> {
        iam::set_password(&self.c, user, password, exists).await
    }
}

/// Waits for a stack operation, reporting each resource as it completes; Ctrl-C stops waiting (the operation goes
/// on in CloudFormation) and says how to resume.
pub async fn wait_for(
    c: &Clients,
    stack_id: &str,
    progress: &dyn Report,
    seen: &mut HashSet<String>,
) -> Result<WaitResult> {
    let wait = stack::wait(c, stack_id, seen, |note| match note {
        WaitNote::Event(e) => {
            let phase = ResourcePhase::of(&e.status);
            if phase.is_settled() {
                let mut line = format!(
                    "  {:<28} {:<32} {}",
                    e.logical_id, e.resource_type, e.status
                );
                if let Some(r) = e
                    .reason
                    .as_deref()
                    .filter(|_| phase == ResourcePhase::Failed)
                {
                    line.push_str(&format!(": {r}"));
                }
                progress.line(&line);
            }
        }
        WaitNote::Status(s) => progress.status(&format!("stack {s}")),
    });
    tokio::select! {
        r = wait => r,
        _ = tokio::signal::ctrl_c() => bail!(
            "interrupted: the stack operation goes on in CloudFormation; `lppg status` shows where it is, \
             `lppg up` resumes it and `lppg down` removes the stack"
        ),
    }
}

/// Fails with the first resource failure and advice unless the stack operation completed.
pub fn ensure_complete(name: &str, result: &WaitResult, progress: &dyn Report) -> Result<()> {
    if result.status.succeeded() {
        return Ok(());
    }
    for f in &result.failures {
        progress.line(&format!(
            "  {} ({}) {}: {}",
            f.logical_id,
            f.resource_type,
            f.status,
            f.reason.as_deref().unwrap_or("no reason given")
        ));
    }
    let first = result
        .failures
        .first()
        .map(|f| {
            format!(
                ": {} failed: {}",
                f.logical_id,
                f.reason.as_deref().unwrap_or("no reason given")
            )
        })
        .unwrap_or_default();
    bail!(
        "stack {name} ended in {}{first}\n  hint: {}",
        result.status,
        result
            .status
            .advice(name)
            .unwrap_or_else(|| "fix the cause, then run `lppg up` again".into())
    )
}

/// The reason to retry a failed create once (IAM propagation), if that is why it failed.
pub fn retry_reason(result: &WaitResult) -> Option<String> {
    if !result.status.is_failed() {
        return None;
    }
    crate::preflight::propagation_failure(
        result.failures.iter().filter_map(|f| f.reason.as_deref()),
    )
}
