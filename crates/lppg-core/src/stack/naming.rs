//! Names of everything a generator stack owns, derived from the stack name, account and region. The template uses
//! the same rules (`assets/template.yaml`), so `down` can find stragglers even when the stack is gone.

/// Longest stack name: keeps `<stack>-artifacts-<account>-<region>` within S3's 63 characters.
pub const MAX_STACK_NAME: usize = 24;

/// Number of generator policies (the first plus the spares the function fills when one is full).
pub const POLICY_COUNT: usize = 9;

/// Checks a stack name: lower-case letters, digits and hyphens, starting with a letter, at most 24 characters
/// (it becomes part of bucket names).
pub fn validate_stack_name(name: &str) -> Result<(), String> {
    let ok_chars = name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if name.is_empty()
        || name.len() > MAX_STACK_NAME
        || !ok_chars
        || !name.starts_with(|c: char| c.is_ascii_lowercase())
        || name.ends_with('-')
        || name.contains("--")
    {
        return Err(format!(
            "invalid stack name {name:?}: use 1 to {MAX_STACK_NAME} lower-case letters, digits and single hyphens, \
             starting with a letter (it becomes part of S3 bucket names)"
        ));
    }
    Ok(())
}

/// What a generator observes: an IAM user (signing in with a password) or an IAM role (whose sessions people and
/// tools assume). The template's `Principal` parameter and output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Principal {
    #[default]
    User,
    Role,
}

impl Principal {
    pub fn as_str(self) -> &'static str {
        match self {
            Principal::User => "user",
            Principal::Role => "role",
        }
    }

    /// `user` or `role`; anything else is `None`.
    pub fn parse(s: &str) -> Option<Principal> {
        match s {
            "user" => Some(Principal::User),
            "role" => Some(Principal::Role),
            _ => None,
        }
    }
}

/// The kinds of resource a generator owns, as `down` lists, checks and removes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ResourceKind {
    User,
    Policy,
    Role,
    Function,
    LogGroup,
    Trail,
    Bucket,
    Queue,
}

impl ResourceKind {
    /// How people call it.
    pub fn name(self) -> &'static str {
        match self {
            ResourceKind::User => "user",
            ResourceKind::Policy => "policy",
            ResourceKind::Role => "role",
            ResourceKind::Function => "function",
            ResourceKind::LogGroup => "log group",
            ResourceKind::Trail => "trail",
            ResourceKind::Bucket => "bucket",
            ResourceKind::Queue => "queue",
        }
    }

    /// The kind of a CloudFormation resource type, for the ones a generator owns.
    pub fn of_resource_type(resource_type: &str) -> Option<ResourceKind> {
        Some(match resource_type {
            "AWS::IAM::User" => ResourceKind::User,
            "AWS::IAM::ManagedPolicy" => ResourceKind::Policy,
            "AWS::IAM::Role" => ResourceKind::Role,
            "AWS::Lambda::Function" => ResourceKind::Function,
            "AWS::Logs::LogGroup" => ResourceKind::LogGroup,
            "AWS::CloudTrail::Trail" => ResourceKind::Trail,
            "AWS::S3::Bucket" => ResourceKind::Bucket,
            "AWS::SQS::Queue" => ResourceKind::Queue,
            _ => return None,
        })
    }
}

impl std::fmt::Display for ResourceKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.name())
    }
}

/// Everything named after the stack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Names {
    pub stack: String,
    pub partition: String,
    pub account: String,
    pub region: String,
    pub user: String,
    /// The generator role of role mode (`<stack>-role`, or the stack's `RoleName` output).
    pub role: String,
    pub policies: Vec<String>,
    pub guard_policy: String,
    pub function: String,
    pub function_role: String,
    pub function_log_group: String,
    pub trail: String,
    pub trail_role: String,
    pub trail_log_group: String,
    pub trail_bucket: String,
    pub artifact_bucket: String,
    pub subscription_filter: String,
    /// The function's on-failure destination.
    pub failed_queue: String,
}

impl Names {
    pub fn new(
        stack: &str,
        partition: &str,
        account: &str,
        region: &str,
        user: Option<&str>,
    ) -> Self {
        Names {
            stack: stack.to_string(),
            partition: partition.to_string(),
            account: account.to_string(),
            region: region.to_string(),
            user: user
                .filter(|u| !u.is_empty())
                .map(str::to_string)
                .unwrap_or_else(|| format!("{stack}-user")),
            role: format!("{stack}-role"),
            policies: (1..=POLICY_COUNT)
                .map(|i| format!("{stack}-policy-{i}"))
                .collect(),
            guard_policy: format!("{stack}-guard"),
            function: format!("{stack}-generator"),
            function_role: format!("{stack}-generator-role"),
            function_log_group: format!("/aws/lambda/{stack}-generator"),
            trail: format!("{stack}-trail"),
            trail_role: format!("{stack}-trail-role"),
            trail_log_group: format!("/lppg/{stack}/cloudtrail"),
            trail_bucket: format!("{stack}-trail-{account}-{region}"),
            artifact_bucket: format!("{stack}-artifacts-{account}-{region}"),
            subscription_filter: format!("{stack}-denied-calls"),
            failed_queue: format!("{stack}-failed-batches"),
        }
    }

    pub fn policy_arn(&self, name: &str) -> String {
        format!("arn:{}:iam::{}:policy/{name}", self.partition, self.account)
    }

    /// ARNs of the generator policies, in fill order.
    pub fn policy_arns(&self) -> Vec<String> {
        self.policies.iter().map(|p| self.policy_arn(p)).collect()
    }

    /// Everything a generator may leave behind, for listing, removal and verification, in removal order.
    pub fn inventory(&self, policy_arns: &[String]) -> Vec<(ResourceKind, String)> {
        let mut v = vec![
            (ResourceKind::User, self.user.clone()),
            (ResourceKind::Role, self.role.clone()),
        ];
        v.extend(
            policy_arns
                .iter()
                .map(|p| (ResourceKind::Policy, p.clone())),
        );
        v.push((ResourceKind::Policy, self.policy_arn(&self.guard_policy)));
        v.push((ResourceKind::Role, self.function_role.clone()));
        v.push((ResourceKind::Role, self.trail_role.clone()));
        v.push((ResourceKind::Function, self.function.clone()));
        v.push((ResourceKind::LogGroup, self.function_log_group.clone()));
        v.push((ResourceKind::LogGroup, self.trail_log_group.clone()));
        v.push((ResourceKind::Trail, self.trail.clone()));
        v.push((ResourceKind::Bucket, self.trail_bucket.clone()));
        v.push((ResourceKind::Bucket, self.artifact_bucket.clone()));
        v.push((ResourceKind::Queue, self.failed_queue.clone()));
        v
    }

    pub fn user_arn(&self) -> String {
        format!(
            "arn:{}:iam::{}:user/{}",
            self.partition, self.account, self.user
        )
    }
}

/// The `aws:PrincipalArn` values a caller's ARN stands for (the failed-batches queue lets only these read): an
/// assumed-role session is its role (whose path the session ARN does not show, hence also `role/*/NAME`), any
/// other identity itself.
pub fn principal_arns(caller_arn: &str) -> Vec<String> {
    match super::role::parse_caller(caller_arn) {
        Ok(super::role::Caller::Session {
            partition,
            account,
            role,
        }) => super::role::role_under_any_path(&partition, &account, &role),
        _ => vec![caller_arn.to_string()],
    }
}

/// The partition of an ARN (`arn:aws:...` → `aws`), defaulting to `aws`.
pub fn partition_of(arn: &str) -> String {
    arn.split(':')
        .nth(1)
        .filter(|p| !p.is_empty())
        .unwrap_or("aws")
        .to_string()
}

/// The default file name for a saved policy: `lppg-policy-<stack>-<UTC timestamp>.json`.
pub fn saved_policy_file_name(stack: &str, now: std::time::SystemTime) -> String {
    let stamp = crate::time::format_secs(now).replace([':', '-'], "");
    format!("lppg-policy-{stack}-{stamp}.json")
}

#[cfg(test)]
mod tests {
    #[test]
    fn inventory_and_kinds() {
        use super::{Names, ResourceKind, POLICY_COUNT};
        assert_eq!(
            ResourceKind::of_resource_type("AWS::IAM::ManagedPolicy"),
            Some(ResourceKind::Policy)
        );
        assert_eq!(
            ResourceKind::of_resource_type("AWS::Logs::LogGroup"),
            Some(ResourceKind::LogGroup)
        );
        assert_eq!(
            ResourceKind::of_resource_type("AWS::Lambda::Permission"),
            None
        );
        assert_eq!(format!("{:<10}|", ResourceKind::LogGroup), "log group |");
        let n = Names::new("s", "aws", "1", "r", None);
        let inv = n.inventory(&n.policy_arns());
        assert!(inv.contains(&(ResourceKind::Bucket, n.artifact_bucket.clone())));
        let policies = inv
            .iter()
            .filter(|(k, _)| *k == ResourceKind::Policy)
            .count();
        assert_eq!(policies, POLICY_COUNT + 1);
        assert!(inv.contains(&(ResourceKind::Role, "s-role".to_string())));
    }

    use super::*;

    #[test]
    fn stack_names() {
        assert!(validate_stack_name("lppg").is_ok());
        assert!(validate_stack_name("lppg-dev-2").is_ok());
        assert!(validate_stack_name(&"a".repeat(24)).is_ok());
        for bad in [
            "",
            "Lppg",
            "1lppg",
            "lppg_",
            "lppg-",
            "a--b",
            &"a".repeat(25),
            "lppg.x",
        ] {
            assert!(
                validate_stack_name(bad).is_err(),
                "{bad:?} should be refused"
            );
        }
    }

    #[test]
    fn longest_names_fit_s3() {
        let n = Names::new(
            &"a".repeat(24),
            "aws",
            "123456789012",
            "ap-southeast-4",
            None,
        );
        assert!(n.artifact_bucket.len() <= 63, "{}", n.artifact_bucket);
        assert!(n.trail_bucket.len() <= 63);
        assert!(n.function_role.len() <= 64);
    }

    #[test]
    fn derived_names() {
        let n = Names::new("lppg", "aws", "123456789012", "us-east-1", None);
        assert_eq!(n.user, "lppg-user");
        assert_eq!(n.user_arn(), "arn:aws:iam::123456789012:user/lppg-user");
        assert_eq!(n.policies.len(), POLICY_COUNT);
        assert_eq!(
            n.policy_arns()[0],
            "arn:aws:iam::123456789012:policy/lppg-policy-1"
        );
        assert_eq!(n.trail_bucket, "lppg-trail-123456789012-us-east-1");
        let custom = Names::new("lppg", "aws", "1", "r", Some("alice"));
        assert_eq!(custom.user, "alice");
        assert_eq!(
            Names::new("lppg", "aws", "1", "r", Some("")).user,
            "lppg-user"
        );
    }

    #[test]
    fn caller_principal_arns() {
        assert_eq!(
            principal_arns("arn:aws:sts::123456789012:assumed-role/Admin/alice"),
            [
                "arn:aws:iam::123456789012:role/Admin",
                "arn:aws:iam::123456789012:role/*/Admin"
            ]
        );
        assert_eq!(
            principal_arns("arn:aws:iam::123456789012:user/ops/bob"),
            ["arn:aws:iam::123456789012:user/ops/bob"]
        );
    }

    #[test]
    fn partitions() {
        assert_eq!(partition_of("arn:aws-cn:iam::1:user/x"), "aws-cn");
        assert_eq!(partition_of("garbage"), "aws");
    }

    #[test]
    fn saved_file_name() {
        let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_800_000_000);
        assert_eq!(
            saved_policy_file_name("lppg", t),
            "lppg-policy-lppg-20270115T080000Z.json"
        );
    }
}
