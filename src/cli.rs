//! Command-line definitions (clap). No logic here: each command module turns its arguments into work.
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "lppg",
    version,
    about = "Least Privilege Policy Generator: an IAM policy that writes itself while you follow a procedure",
    long_about = "lppg deploys a generator stack into a TEST account: an IAM user that starts with almost no \
                  permissions, a CloudTrail trail, and a function that adds each call the user is denied to the \
                  user's policy. Sign in as the user, follow your written procedure, then export the policy and \
                  remove the stack.\n\nTypical session: lppg up; lppg watch; lppg export-policy -o policy.json; lppg down"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Flags every command shares.
#[derive(Args, Debug, Clone)]
pub struct GlobalArgs {
    #[command(flatten)]
    pub aws: crate::aws::AwsArgs,
    /// Name of the generator stack; several generators can live side by side in one account.
    #[arg(
        long,
        global = true,
        default_value = "lppg",
        env = "LPPG_STACK_NAME",
        help_heading = "Global options"
    )]
    pub stack_name: String,
    /// Show full error chains and service responses.
    #[arg(short, long, global = true, help_heading = "Global options")]
    pub verbose: bool,
    /// No colour (NO_COLOR is respected too).
    #[arg(long, global = true, help_heading = "Global options")]
    pub no_color: bool,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Deploy or update the generator stack and set the user's console password.
    Up(UpArgs),
    /// Show the generator's health: stack, trail, subscription, function, policies.
    Status(StatusArgs),
    /// Save the final policy, remove the stack and everything lppg created.
    Down(DownArgs),
    /// Write the CloudFormation template and the function's zip, for your own pipeline.
    Template(TemplateArgs),
    /// Print the generated policy: merged, by step, as JSON/CloudFormation/Terraform, explained, or diffed.
    ExportPolicy(crate::commands::export_policy::ExportArgs),
    /// Build a policy from CloudTrail log files (no stack needed).
    Generate(crate::commands::generate::GenerateArgs),
    /// Follow the generator while you work: denied calls, what was granted, when to retry a step.
    Watch(crate::commands::watch::WatchArgs),
    /// Record a step boundary (with a label) that `watch` shows and `export-policy` uses.
    Mark(crate::commands::mark::MarkArgs),
    /// Role mode: print temporary credentials of the generator role as `credential_process` JSON.
    Credentials(crate::commands::credentials::CredentialsArgs),
    /// Role mode: run a command with the generator role's credentials in its environment.
    Exec(crate::commands::exec::ExecArgs),
    /// Re-run the batches the function failed on (waiting in the stack's queue) through the deployed function.
    Redrive(RedriveArgs),
}

#[derive(Args, Debug, Clone)]
pub struct UpArgs {
    /// Do not ask for confirmation.
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// What to observe: an IAM user (console password) or an IAM role (people switch into it, tools assume it).
    /// Default: the existing stack's, else user.
    #[arg(long, value_parser = ["user", "role"])]
    pub principal: Option<String>,
    /// Name of the generator role with --principal role (default: <stack name>-role).
    #[arg(long)]
    pub role_name: Option<String>,
    /// Who may assume the generator role (IAM user, role or assumed-role session ARN; repeatable). Default: you,
    /// the identity running `up` (a session resolved to its role).
    #[arg(long = "trust", value_name = "ARN")]
    pub trust: Vec<String>,
    /// Name of the generator IAM user (default: <stack name>-user).
    #[arg(long)]
    pub user_name: Option<String>,
    /// Actions the user starts with (comma-separated).
    #[arg(long, value_delimiter = ',', default_value = "ec2:DescribeInstances")]
    pub start_actions: Vec<String>,
    /// Also record object-level calls of the user: any of s3, lambda, dynamodb (costs money).
    #[arg(long, value_delimiter = ',')]
    pub data_events: Vec<String>,
    /// Retention of the trail's and the function's log groups, in days.
    #[arg(long, default_value_t = 14)]
    pub log_retention_days: u32,
    /// Grant the procedure's denied switches to other roles (sts:AssumeRole*). By default they are withheld and
    /// reported: the other role's calls would not be observed (observe that role instead). Set on every `up`.
    #[arg(long)]
    pub allow_role_switch: bool,
    /// Read the console password from standard input instead of generating one.
    #[arg(long, conflicts_with = "no_password")]
    pub password_stdin: bool,
    /// Ask for the console password (hidden, with confirmation) instead of generating one.
    #[arg(long, conflicts_with_all = ["no_password", "password_stdin"])]
    pub password_prompt: bool,
    /// Do not set a console password.
    #[arg(long)]
    pub no_password: bool,
    /// Set a new password even when the user already has one.
    #[arg(long)]
    pub reset_password: bool,
    /// Print a generated password to standard output even when it is not a terminal (for a secret store).
    #[arg(long)]
    pub print_password: bool,
    /// Do not run the end-to-end probe (`lppg status --probe`) after a create or update.
    #[arg(long)]
    pub no_probe: bool,
    /// CloudWatch Logs only: no EventBridge rule (the fast path delivers denied calls in seconds instead of
    /// minutes; see the README for its cost).
    #[arg(long)]
    pub no_fast_path: bool,
    /// Other regions whose denied calls the fast path forwards here, comma-separated (one small forwarder stack
    /// each). Default: the stack's, or us-east-1 (where IAM, STS's global endpoint, CloudFront and Route 53 calls
    /// arrive).
    #[arg(
        long,
        value_delimiter = ',',
        value_name = "REGIONS",
        conflicts_with = "no_fast_path"
    )]
    pub regions: Option<Vec<String>>,
    /// How long the probe waits for its record to come back through the function.
    #[arg(long, value_name = "DURATION", default_value = "45s", env = "LPPG_PROBE_WAIT", value_parser = humantime::parse_duration)]
    pub probe_wait: std::time::Duration,
}

#[derive(Args, Debug, Clone)]
pub struct StatusArgs {
    /// One JSON object on stdout.
    #[arg(long)]
    pub json: bool,
    /// Prove the pipeline end to end: the trail, the subscription's pattern, a probe record through the function.
    #[arg(long)]
    pub probe: bool,
    /// How long the probe waits for its record to come back through the function.
    #[arg(long, value_name = "DURATION", default_value = "45s", env = "LPPG_PROBE_WAIT", value_parser = humantime::parse_duration)]
    pub probe_wait: std::time::Duration,
}

#[derive(Args, Debug, Clone)]
pub struct RedriveArgs {
    /// List the batches that would be re-run; change nothing.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Args, Debug, Clone)]
pub struct DownArgs {
    /// Do not ask for confirmation.
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Do not save the final policy before deleting.
    #[arg(long)]
    pub no_save: bool,
    /// Where to save the final policy (default: lppg-policy-<stack>-<UTC timestamp>.json).
    #[arg(long, short = 'o')]
    pub output: Option<PathBuf>,
    /// Name of the generator user, when the stack is gone and it was not the default.
    #[arg(long)]
    pub user_name: Option<String>,
    /// Name of the generator role (role mode), when the stack is gone and it was not the default.
    #[arg(long)]
    pub role_name: Option<String>,
    /// Do not wait for CloudTrail's last deliveries after the trail is stopped (denied calls not yet delivered are not saved).
    #[arg(long)]
    pub no_wait: bool,
}

#[derive(Args, Debug, Clone)]
pub struct TemplateArgs {
    /// Directory to write template.yaml and function.zip into (created if missing).
    #[arg(long)]
    pub out: PathBuf,
    /// Overwrite existing files.
    #[arg(long)]
    pub force: bool,
}

/// Whether `--profile` was given on the command line (not inherited from `AWS_PROFILE`): `credentials` and `exec`
/// follow only such a profile.
pub fn profile_on_command_line() -> bool {
    std::env::args_os()
        .take_while(|a| a != "--")
        .any(|a| a == "--profile" || a.to_string_lossy().starts_with("--profile="))
}
