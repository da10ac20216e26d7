//! What real AWS enforces around `lppg up` that the emulator does not: CloudTrail's trail quota, the cost of a
//! second copy of management events, and the creation failures that IAM's eventual consistency causes. Pure:
//! the AWS layer reads the trails and the stack events, this module decides.

/// CloudTrail allows five trails per region, and the quota cannot be raised; a multi-region trail counts in every
/// region (AWS CloudTrail User Guide, "Quotas in AWS CloudTrail").
pub const TRAILS_PER_REGION: usize = 5;

/// A trail as `DescribeTrails` (with shadow trails) reports it in one region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trail {
    pub name: String,
    pub arn: String,
    pub home_region: String,
    pub multi_region: bool,
    /// `None` when its event selectors could not be read.
    pub logs_management_events: Option<bool>,
}

impl Trail {
    /// The account in the trail's ARN (an organization trail belongs to the management account).
    pub fn account(&self) -> &str {
        self.arn.split(':').nth(4).unwrap_or_default()
    }

    fn counts_in(&self, region: &str, account: &str) -> bool {
        self.account() == account && (self.home_region == region || self.multi_region)
    }
}

/// The trails that use up the region's quota for this account.
pub fn trails_counting(trails: &[Trail], region: &str, account: &str) -> Vec<Trail> {
    trails
        .iter()
        .filter(|t| t.counts_in(region, account))
        .cloned()
        .collect()
}

/// A refusal when the region has no room for the generator's trail.
pub fn trail_room(trails: &[Trail], region: &str, account: &str) -> Result<(), String> {
    let counting = trails_counting(trails, region, account);
    if counting.len() < TRAILS_PER_REGION {
        return Ok(());
    }
    let names: Vec<String> = counting
        .iter()
        .map(|t| {
            if t.home_region != region {
                format!("{} (multi-region, home {})", t.name, t.home_region)
            } else {
                t.name.clone()
            }
        })
        .collect();
    Err(format!(
        "region {region} already has {} trails that count against CloudTrail's limit of {TRAILS_PER_REGION} per \
         region ({}), and the generator needs one of its own: remove a trail you no longer need, or run lppg in \
         another region (--region) or another test account",
        counting.len(),
        names.join(", ")
    ))
}

/// A sentence for the confirmation when another trail already delivers management events here, so the
/// generator's trail is a paid second copy.
pub fn second_copy_note(trails: &[Trail], own_trail: &str) -> Option<String> {
    let copies: Vec<&Trail> = trails
        .iter()
        .filter(|t| t.name != own_trail && t.logs_management_events != Some(false))
        .collect();
    if copies.is_empty() {
        return None;
    }
    let names: Vec<&str> = copies.iter().map(|t| t.name.as_str()).collect();
    let unsure = copies.iter().any(|t| t.logs_management_events.is_none());
    Some(format!(
        "trail {} already {}logs management events here, so the generator's trail is a second copy, which \
         CloudTrail charges for (about $2 per 100,000 events). The generator needs its own: it delivers to its own \
         CloudWatch Logs group with a subscription for the generator user, and `lppg down` removes it without \
         touching yours.",
        names.join(", "),
        if unsure { "may " } else { "" },
    ))
}

/// Why a create failed when the reason is IAM propagation: CloudTrail refusing a role or log group ARN that was
/// created seconds earlier. A retry usually succeeds.
pub fn propagation_failure<'a>(reasons: impl IntoIterator<Item = &'a str>) -> Option<String> {
    const SIGNS: [&str; 4] = [
        "InvalidCloudWatchLogsRoleArnException",
        "InvalidCloudWatchLogsLogGroupArnException",
        "Check the trust relationships for your role",
        "Access denied. Verify in IAM that the role has adequate permissions",
    ];
    reasons
        .into_iter()
        .find(|r| SIGNS.iter().any(|s| r.contains(s)))
        .map(|r| {
            format!(
                "CloudTrail refused the trail's CloudWatch Logs role or log group ({r}). A role created seconds \
                 earlier is often refused while IAM propagates it; removing the failed stack and creating it again \
                 usually succeeds"
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trail(name: &str, account: &str, home: &str, multi: bool, mgmt: Option<bool>) -> Trail {
        Trail {
            name: name.into(),
            arn: format!("arn:aws:cloudtrail:{home}:{account}:trail/{name}"),
            home_region: home.into(),
            multi_region: multi,
            logs_management_events: mgmt,
        }
    }

    #[test]
    fn multi_region_trails_count_in_every_region() {
        let mut v: Vec<Trail> = (0..4)
            .map(|i| {
                trail(
                    &format!("t{i}"),
                    "111122223333",
                    "us-east-1",
                    false,
                    Some(true),
                )
            })
            .collect();
        assert!(trail_room(&v, "us-east-1", "111122223333").is_ok());
        v.push(trail(
            "org-wide",
            "111122223333",
            "eu-west-1",
            true,
            Some(true),
        ));
        let msg = trail_room(&v, "us-east-1", "111122223333").unwrap_err();
        assert!(msg.contains("5 trails"), "{msg}");
        assert!(
            msg.contains("org-wide (multi-region, home eu-west-1)"),
            "{msg}"
        );
        // A single-region trail elsewhere and another account's organization trail do not count.
        v.pop();
        v.push(trail(
            "other",
            "111122223333",
            "eu-west-1",
            false,
            Some(true),
        ));
        v.push(trail("org", "999988887777", "us-east-1", true, Some(true)));
        assert!(trail_room(&v, "us-east-1", "111122223333").is_ok());
    }

    #[test]
    fn second_copy_is_named_with_its_cost() {
        let own = trail("lppg-trail", "1", "us-east-1", true, Some(true));
        assert_eq!(
            second_copy_note(std::slice::from_ref(&own), "lppg-trail"),
            None
        );
        let data_only = trail("data", "1", "us-east-1", false, Some(false));
        assert_eq!(
            second_copy_note(&[own.clone(), data_only.clone()], "lppg-trail"),
            None
        );
        let mgmt = trail("audit", "1", "us-east-1", true, Some(true));
        let note = second_copy_note(&[own, data_only, mgmt], "lppg-trail").unwrap();
        assert!(
            note.contains("audit already logs") && note.contains("$2 per 100,000"),
            "{note}"
        );
        let unknown = trail("secret", "1", "us-east-1", false, None);
        assert!(second_copy_note(&[unknown], "x")
            .unwrap()
            .contains("may log"));
    }

    #[test]
    fn propagation_failures_are_recognised() {
        // CloudFormation's reason for a registry resource, as it reports a handler error.
        let reason = "Resource handler returned message: \"Access denied. Check the trust relationships for your \
                      role. (Service: CloudTrail, Status Code: 400, Request ID: 0f1e2d3c)\" (RequestToken: ab12, \
                      HandlerErrorCode: InvalidRequest)";
        assert!(propagation_failure(["Resource creation cancelled", reason]).is_some());
        assert!(propagation_failure([
            "Invalid request provided: InvalidCloudWatchLogsLogGroupArnException"
        ])
        .is_some());
        assert!(propagation_failure(["Resource creation cancelled"]).is_none());
        assert!(propagation_failure(["InsufficientS3BucketPolicyException"]).is_none());
    }
}
