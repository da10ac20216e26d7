//! One module per command. Each turns its arguments into calls to the AWS layer and the pure modules, and
//! returns an exit code; errors are printed once, by the caller.
pub mod down;
pub mod export_policy;
pub mod generate;
pub mod mark;
pub mod status;
pub mod template;
pub mod up;
pub mod watch;

use crate::aws::stack::StackInfo;
use crate::aws::{Clients, Identity};
use crate::cli::{Cli, Command, GlobalArgs};
use crate::naming::Names;
use crate::ui::Output;
use anyhow::Result;

/// Runs the parsed command.
pub fn dispatch(cli: Cli, out: &Output) -> Result<i32> {
    let g = cli.global;
    match cli.command {
        Command::Template(a) => template::exec(&a, out),
        Command::Generate(a) => generate::exec(&a, out),
        Command::ExportPolicy(a) if a.from.is_some() => export_policy::exec_offline(&a, out),
        cmd => {
            crate::naming::validate_stack_name(&g.stack_name).map_err(anyhow::Error::msg)?;
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()?;
            rt.block_on(async move {
                match cmd {
                    Command::Up(a) => up::exec(&g, &a, out).await,
                    Command::Status(a) => status::exec(&g, &a, out).await,
                    Command::Down(a) => down::exec(&g, &a, out).await,
                    Command::ExportPolicy(a) => export_policy::exec(&g, &a, out).await,
                    Command::Watch(a) => watch::exec(&g, &a, out).await,
                    Command::Mark(a) => mark::exec(&g, &a, out).await,
                    Command::Template(_) | Command::Generate(_) => unreachable!("handled above"),
                }
            })
        }
    }
}

/// What every stack command needs: clients, who is calling, the derived names and the stack (if any).
pub struct Ctx {
    pub c: Clients,
    pub id: Identity,
    pub names: Names,
    pub stack: Option<StackInfo>,
}

impl Ctx {
    /// Connects, asks who we are, and reads the stack. `user` overrides the derived user name.
    pub async fn load(g: &GlobalArgs, user: Option<&str>) -> Result<Ctx> {
        let c = Clients::connect(g).await?;
        let id = c.identity().await?;
        let stack = crate::aws::stack::describe(&c, &g.stack_name).await?;
        let user = user.map(str::to_string).or_else(|| {
            stack
                .as_ref()
                .and_then(|s| s.output("UserName").map(str::to_string))
        });
        let names = Names::new(
            &g.stack_name,
            &id.partition,
            &id.account,
            &c.region,
            user.as_deref(),
        );
        Ok(Ctx {
            c,
            id,
            names,
            stack,
        })
    }

    /// The generator policy ARNs: from the stack's outputs when it has them, else derived.
    pub fn policy_arns(&self) -> Vec<String> {
        self.stack
            .as_ref()
            .and_then(|s| s.output("PolicyArns"))
            .map(|v| v.split(',').map(str::to_string).collect())
            .unwrap_or_else(|| self.names.policy_arns())
    }

    /// The stack or a message saying there is none and what to do.
    pub fn require_stack(&self) -> Result<&StackInfo> {
        self.stack.as_ref().ok_or_else(|| {
            anyhow::anyhow!(
                "no generator stack named {} in {} (account {}): run `lppg up` first, or pass --stack-name / \
                 --region for the one you created",
                self.names.stack,
                self.c.region,
                self.id.account
            )
        })
    }
}

/// The start actions recorded in the stack's parameters.
pub fn start_actions(stack: &StackInfo) -> Vec<String> {
    stack
        .parameters
        .get("StartActions")
        .map(|v| {
            v.split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_else(|| vec!["ec2:DescribeInstances".to_string()])
}
