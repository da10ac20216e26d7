//! "A generator stack in an account": the application layer every stack command goes through. It knows the
//! stack's names, its outputs, its policies, the function's log (decisions and markers), how to deploy it and how
//! to tear it down. Commands never import each other: they turn arguments into one call here and show the result.
//! This layer calls AWS only through [`crate::aws`] and never prints: long operations report through [`Report`].
pub mod credential_cache;
pub mod credential_server;
pub mod deploy;
pub mod drain;
pub mod failed;
pub mod follow;
pub mod forwarders;
pub mod health;
pub mod log;
pub mod policies;
pub mod probe;
pub mod session;
pub mod teardown;

use crate::aws::stack::StackInfo;
use crate::aws::{AwsArgs, Clients, Identity};
use crate::naming::Names;
use anyhow::Result;

/// Where a long operation tells a person how it goes (a spinner on a terminal, plain lines elsewhere).
pub trait Report {
    /// A line that stays (a resource created, a thing removed).
    fn line(&self, text: &str);
    /// The current state, replacing the previous one (a spinner's message).
    fn status(&self, text: &str);
}

/// Reports nothing (for callers that only want the outcome).
pub struct Quiet;

impl Report for Quiet {
    fn line(&self, _: &str) {}
    fn status(&self, _: &str) {}
}

/// Names a command chooses instead of the derived ones (`--user-name`, `--role-name`). The user name given
/// beats the deployed stack's; a deployed stack's role name beats the one given (a role is named once, at create).
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub user: Option<String>,
    pub role: Option<String>,
}

/// One generator stack as seen from one account and region: a narrow handle. Its clients, identity, names and
/// stack description are read at [`Generator::connect`] and changed only by the stack layer; commands read them
/// through the accessors below.
pub struct Generator {
    c: Clients,
    id: Identity,
    names: Names,
    stack: Option<StackInfo>,
    overrides: Overrides,
}

impl Generator {
    /// Connects, asks who we are, and reads the stack.
    pub async fn connect(
        aws: &AwsArgs,
        stack_name: &str,
        overrides: Overrides,
    ) -> Result<Generator> {
        crate::naming::validate_stack_name(stack_name).map_err(anyhow::Error::msg)?;
        let c = Clients::connect(aws).await?;
        let id = c.identity().await?;
        Generator::load(c, id, stack_name, overrides).await
    }

    /// Reads the stack again (after a deploy or a teardown), with the same overrides.
    pub async fn reload(self) -> Result<Generator> {
        let stack_name = self.names.stack.clone();
        Generator::load(self.c, self.id, &stack_name, self.overrides).await
    }

    /// The deployed stack, `None` when there is none.
    pub fn stack(&self) -> Option<&StackInfo> {
        self.stack.as_ref()
    }

    pub fn stack_name(&self) -> &str {
        &self.names.stack
    }

    /// The account the caller is in.
    pub fn account(&self) -> &str {
        &self.id.account
    }

    /// Who is calling (`sts:GetCallerIdentity`).
    pub fn caller_arn(&self) -> &str {
        &self.id.arn
    }

    pub fn region(&self) -> &str {
        &self.c.region
    }

    /// The endpoint every call goes to (an emulator), when one was given.
    pub fn endpoint(&self) -> Option<&str> {
        self.c.endpoint.as_deref()
    }

    /// The Access Analyzer client, for checking the documents a command writes.
    pub fn analyzer(&self) -> &aws_sdk_accessanalyzer::Client {
        &self.c.analyzer
    }

    async fn load(
        c: Clients,
        id: Identity,
        stack_name: &str,
        overrides: Overrides,
    ) -> Result<Generator> {
        let stack = crate::aws::stack::describe(&c, stack_name).await?;
        let user = overrides.user.clone().or_else(|| {
            stack
                .as_ref()
                .and_then(|s| s.output("UserName").map(str::to_string))
        });
        let mut names = Names::new(
            stack_name,
            &id.partition,
            &id.account,
            &c.region,
            user.as_deref(),
        );
        let role = match &stack {
            Some(s) => s.output("RoleName").map(str::to_string),
            None => overrides.role.clone(),
        };
        if let Some(role) = role {
            names.role = role;
        }
        Ok(Generator {
            c,
            id,
            names,
            stack,
            overrides,
        })
    }

    /// "no generator stack named … in … (account …)": the one way every command says it.
    pub fn missing(&self) -> String {
        format!(
            "no generator stack named {} in {} (account {})",
            self.names.stack, self.c.region, self.id.account
        )
    }

    /// The stack, or an error that says there is none and what to do.
    pub fn require_stack(&self) -> Result<&StackInfo> {
        self.stack.as_ref().ok_or_else(|| {
            anyhow::anyhow!(
                "{}: run `lppg up` first, or pass --stack-name / --region for the one you created",
                self.missing()
            )
        })
    }

    /// A stack output, else the name derived from the stack name.
    fn output_or(&self, key: &str, derived: &str) -> String {
        self.stack
            .as_ref()
            .and_then(|s| s.output(key))
            .unwrap_or(derived)
            .to_string()
    }

    /// The generator policy ARNs, in fill order: from the stack's outputs when it has them, else derived.
    pub fn policy_arns(&self) -> Vec<String> {
        self.stack
            .as_ref()
            .and_then(|s| s.output("PolicyArns"))
            .map(|v| v.split(',').map(str::to_string).collect())
            .unwrap_or_else(|| self.names.policy_arns())
    }

    /// The function's log group, where its decisions and lppg's markers are.
    pub fn function_log_group(&self) -> String {
        self.output_or("FunctionLogGroupName", &self.names.function_log_group)
    }

    pub fn function_name(&self) -> String {
        self.output_or("FunctionName", &self.names.function)
    }

    pub fn trail_name(&self) -> String {
        self.output_or("TrailName", &self.names.trail)
    }

    pub fn trail_log_group(&self) -> String {
        self.output_or("TrailLogGroupName", &self.names.trail_log_group)
    }

    pub fn user_name(&self) -> String {
        self.output_or("UserName", &self.names.user)
    }
}

/// The results of tasks run at once (one per region, say), sorted by their key; a task that failed (panicked)
/// gives `failed(why)` instead of vanishing.
async fn joined<K: Ord + Send + 'static, T: Send + 'static>(
    mut set: tokio::task::JoinSet<(K, T)>,
    failed: impl Fn(String) -> (K, T),
) -> Vec<(K, T)> {
    let mut out = Vec::new();
    while let Some(done) = set.join_next().await {
        out.push(done.unwrap_or_else(|e| failed(format!("task failed: {e}"))));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}
