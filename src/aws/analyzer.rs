//! IAM Access Analyzer's policy checks on the documents lppg writes: `ValidatePolicy` (free) and the opt-in,
//! charged `CheckAccessNotGranted` and `CheckNoNewAccess`. Throttling is retried by [`Retry::THROTTLING`] (the
//! client itself makes one attempt, so the one backoff is lppg's and tests can pause its clock).
use anyhow::Result;
use aws_sdk_accessanalyzer::types::{
    Access, AccessCheckPolicyType, CheckAccessNotGrantedResult, CheckNoNewAccessResult,
    PathElement, PolicyType, ValidatePolicyFinding,
};
use aws_sdk_accessanalyzer::Client;

use super::{explain_denied, Retry};
use crate::policy::{statement_of, Finding, FindingKind};

/// At most this many actions in one `CheckAccessNotGranted` call (API reference: `Access.actions`, maximum 100
/// items).
pub const MAX_ACTIONS_PER_CHECK: usize = 100;

/// The checks' client makes one attempt per call: throttling is retried by [`Retry`].
pub fn one_attempt(
    b: aws_sdk_accessanalyzer::config::Builder,
) -> aws_sdk_accessanalyzer::config::Builder {
    b.retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(1))
}

/// `ValidatePolicy` (`IDENTITY_POLICY`) on one document, every page of findings.
pub async fn validate_policy(c: &Client, document: &str) -> Result<Vec<Finding>> {
    let mut findings = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = Retry::THROTTLING
            .run(|| async {
                c.validate_policy()
                    .policy_type(PolicyType::IdentityPolicy)
                    .policy_document(document)
                    .set_next_token(token.clone())
                    .send()
                    .await
                    .map_err(|e| {
                        explain_denied(
                            e,
                            "validating the policy with IAM Access Analyzer",
                            "access-analyzer:ValidatePolicy",
                            "*",
                        )
                    })
            })
            .await?;
        findings.extend(page.findings().iter().filter_map(finding));
        token = page.next_token().map(str::to_string);
        if token.is_none() {
            return Ok(findings);
        }
    }
}

/// A finding as lppg shows it; `None` for a finding type this version does not know.
fn finding(f: &ValidatePolicyFinding) -> Option<Finding> {
    let kind = FindingKind::parse(f.finding_type().as_str())?;
    let mut statements: Vec<usize> = Vec::new();
    for location in f.locations() {
        let path: Vec<Option<Result<i64, String>>> = location
            .path()
            .iter()
            .map(|e| match e {
                PathElement::Index(i) => Some(Ok(i64::from(*i))),
                PathElement::Value(v) | PathElement::Key(v) => Some(Err(v.clone())),
                _ => None,
            })
            .collect();
        if let Some(i) = statement_of(&path) {
            if !statements.contains(&i) {
                statements.push(i);
            }
        }
    }
    Some(Finding {
        kind,
        issue_code: f.issue_code().to_string(),
        details: f.finding_details().to_string(),
        learn_more: f.learn_more_link().to_string(),
        statements,
    })
}

/// The outcome of one access check: passed, or failed with AWS's message and the statements it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckOutcome {
    pub passed: bool,
    pub message: String,
    /// `statementId` or `statement N` (1-based) of each reason.
    pub statements: Vec<String>,
}

/// `CheckAccessNotGranted`: whether the document grants none of `actions`, in batches of
/// [`MAX_ACTIONS_PER_CHECK`]; one outcome per batch.
pub async fn check_access_not_granted(
    c: &Client,
    document: &str,
    actions: &[String],
) -> Result<Vec<CheckOutcome>> {
    let mut outcomes = Vec::new();
    for batch in actions.chunks(MAX_ACTIONS_PER_CHECK) {
        let access = Access::builder().set_actions(Some(batch.to_vec())).build();
        let r = Retry::THROTTLING
            .run(|| async {
                c.check_access_not_granted()
                    .policy_type(AccessCheckPolicyType::IdentityPolicy)
                    .policy_document(document)
                    .access(access.clone())
                    .send()
                    .await
                    .map_err(|e| {
                        explain_denied(
                            e,
                            "checking the policy with IAM Access Analyzer",
                            "access-analyzer:CheckAccessNotGranted",
                            "*",
                        )
                    })
            })
            .await?;
        outcomes.push(CheckOutcome {
            passed: r.result() == Some(&CheckAccessNotGrantedResult::Pass),
            message: r.message().unwrap_or_default().to_string(),
            statements: reasons(r.reasons()),
        });
    }
    Ok(outcomes)
}

/// `CheckNoNewAccess`: whether `new` grants nothing `existing` does not.
pub async fn check_no_new_access(c: &Client, new: &str, existing: &str) -> Result<CheckOutcome> {
    let r = Retry::THROTTLING
        .run(|| async {
            c.check_no_new_access()
                .policy_type(AccessCheckPolicyType::IdentityPolicy)
                .new_policy_document(new)
                .existing_policy_document(existing)
                .send()
                .await
                .map_err(|e| {
                    explain_denied(
                        e,
                        "comparing the policies with IAM Access Analyzer",
                        "access-analyzer:CheckNoNewAccess",
                        "*",
                    )
                })
        })
        .await?;
    Ok(CheckOutcome {
        passed: r.result() == Some(&CheckNoNewAccessResult::Pass),
        message: r.message().unwrap_or_default().to_string(),
        statements: reasons(r.reasons()),
    })
}

fn reasons(reasons: &[aws_sdk_accessanalyzer::types::ReasonSummary]) -> Vec<String> {
    reasons
        .iter()
        .filter_map(|r| match (r.statement_id(), r.statement_index()) {
            (Some(id), _) => Some(id.to_string()),
            (None, Some(i)) => Some(format!("statement {}", i + 1)),
            _ => None,
        })
        .collect()
}
