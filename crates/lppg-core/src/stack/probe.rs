//! The end-to-end probe's pure parts: the sample records the subscription's pattern is tested against, the probe
//! record that must come back through the function, the verdict on each step and the exit code. The service
//! calls are in `stack/probe.rs` of the lppg crate.
use serde_json::json;

/// The event source of a probe record (no AWS service has it, so no real record can look like one).
pub const SOURCE: &str = "probe.lppg.invalid";
/// The action a probe record is denied: no one can hold it.
pub const ACTION: &str = "lppg:Probe";

/// How one step ended.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    Ok {
        detail: String,
    },
    /// What is wrong, and what to do.
    Failed {
        detail: String,
        fix: String,
    },
    /// Why the step could not be run.
    CouldNotRun {
        detail: String,
    },
}

/// One step of the probe.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Step {
    pub step: &'static str,
    /// The region the step judged (the fast path's EventBridge steps, one per region); `None`: the home region.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(flatten)]
    pub outcome: Outcome,
}

/// 0 when every step passed, 1 when any failed (even if others could not run), 2 when none could run.
pub fn exit_code(steps: &[Step]) -> crate::exit::ExitStatus {
    let failed = steps
        .iter()
        .any(|s| matches!(s.outcome, Outcome::Failed { .. }));
    let ran = steps
        .iter()
        .any(|s| !matches!(s.outcome, Outcome::CouldNotRun { .. }));
    if failed {
        crate::exit::DIFFERENT
    } else if !ran {
        crate::exit::ERROR
    } else if steps
        .iter()
        .all(|s| matches!(s.outcome, Outcome::Ok { .. }))
    {
        crate::exit::OK
    } else {
        // Some passed, none failed, some could not run: not proven.
        crate::exit::DIFFERENT
    }
}

fn record(
    principal: &str,
    source: &str,
    name: &str,
    error: Option<&str>,
    time: &str,
) -> serde_json::Value {
    let account = principal.split(':').nth(4).unwrap_or_default();
    let mut r = json!({
        "eventVersion": "1.09",
        "userIdentity": identity(principal, account),
        "eventTime": time, "eventSource": source, "eventName": name,
        "awsRegion": "us-east-1", "sourceIPAddress": "198.51.100.7", "userAgent": "lppg-probe",
        "requestParameters": null, "responseElements": null, "eventType": "AwsApiCall",
        "recipientAccountId": account,
    });
    if let Some(code) = error {
        r["errorCode"] = json!(code);
        r["errorMessage"] = json!(format!(
            "User: {} is not authorized to perform: {name}",
            caller_arn(principal)
        ));
    }
    r
}

/// The ARN a denial names: the principal's, or for a role (role mode) a session of it.
fn caller_arn(principal: &str) -> String {
    if !crate::cloudtrail::record::is_role_arn(principal) {
        return principal.to_string();
    }
    let partition = principal.split(':').nth(1).unwrap_or("aws");
    let account = principal.split(':').nth(4).unwrap_or_default();
    let name = principal.rsplit('/').next().unwrap_or_default();
    format!("arn:{partition}:sts::{account}:assumed-role/{name}/lppg-probe")
}

/// `userIdentity` of the principal's calls: an IAM user's, or for a role an assumed-role session whose issuer is the
/// role (what role mode's subscription filter matches).
fn identity(principal: &str, account: &str) -> serde_json::Value {
    if !crate::cloudtrail::record::is_role_arn(principal) {
        return json!({"type": "IAMUser", "arn": principal, "accountId": account});
    }
    json!({
        "type": "AssumedRole", "arn": caller_arn(principal), "accountId": account,
        "sessionContext": {"sessionIssuer": {"type": "Role", "arn": principal, "accountId": account,
                                             "userName": principal.rsplit('/').next().unwrap_or_default()}},
    })
}

/// The sample records TestMetricFilter checks, each with whether the subscription's pattern must match it:
/// a denial of the observed principal (must), another principal's denial, a throttling error and a successful call
/// of the observed principal (must not).
pub fn samples(user_arn: &str, time: &str) -> Vec<(&'static str, String, bool)> {
    let other = match user_arn.rsplit_once('/') {
        Some((head, _)) => format!("{head}/someone-else"),
        None => format!("{user_arn}-someone-else"),
    };
    vec![
        (
            "a denial of the observed user",
            record(
                user_arn,
                "s3.amazonaws.com",
                "ListBuckets",
                Some("AccessDenied"),
                time,
            )
            .to_string(),
            true,
        ),
        (
            "another principal's denial",
            record(
                &other,
                "s3.amazonaws.com",
                "ListBuckets",
                Some("AccessDenied"),
                time,
            )
            .to_string(),
            false,
        ),
        (
            "a throttling error of the observed user",
            record(
                user_arn,
                "ec2.amazonaws.com",
                "DescribeVpcs",
                Some("ThrottlingException"),
                time,
            )
            .to_string(),
            false,
        ),
        (
            "a successful call of the observed user",
            record(user_arn, "s3.amazonaws.com", "ListBuckets", None, time).to_string(),
            false,
        ),
    ]
}

/// The verdict on the pattern from the 1-based event numbers the service matched; `Err` says what is wrong.
pub fn judge_pattern(
    samples: &[(&'static str, String, bool)],
    matched: &[i64],
) -> Result<(), String> {
    verdict(samples, |i| matched.contains(&(i as i64 + 1)))
}

/// The verdict on an EventBridge rule's pattern from TestEventPattern's `Result` for each sample of
/// [`event_samples`], in order; `Err` says what is wrong.
pub fn judge_event_pattern(
    samples: &[(&'static str, String, bool)],
    results: &[bool],
) -> Result<(), String> {
    verdict(samples, |i| results.get(i).copied().unwrap_or(false))
}

fn verdict(
    samples: &[(&'static str, String, bool)],
    hit: impl Fn(usize) -> bool,
) -> Result<(), String> {
    let mut wrong = Vec::new();
    for (i, (what, _, must)) in samples.iter().enumerate() {
        let hit = hit(i);
        match (must, hit) {
            (true, false) => wrong.push(format!("does not match {what}")),
            (false, true) => wrong.push(format!("matches {what}")),
            _ => {}
        }
    }
    if wrong.is_empty() {
        Ok(())
    } else {
        Err(format!("the pattern {}", wrong.join(", ")))
    }
}

/// The EventBridge event that carries a CloudTrail record, as the default bus receives it (EventBridge User Guide,
/// "AWS service events delivered via AWS CloudTrail": `detail-type` "AWS API Call via CloudTrail", `source`
/// `aws.<service>`, the record as `detail`). TestEventPattern requires `id`, `account`, `source`, `time`, `region`,
/// `resources` and `detail-type` (EventBridge API Reference, TestEventPattern); `region` is the region whose rule is
/// judged. The same envelope as the function's tests build (tests/python/eventbridge.py).
pub fn eventbridge_event(record: &serde_json::Value, region: &str) -> serde_json::Value {
    let text = |k: &str| record.get(k).and_then(|v| v.as_str()).unwrap_or_default();
    let service = text("eventSource").trim_end_matches(".amazonaws.com");
    let service = service.split('.').next().unwrap_or_default();
    let detail_type = match text("eventType") {
        "AwsConsoleSignIn" => "AWS Console Sign In via CloudTrail",
        "AwsServiceEvent" => "AWS Service Event via CloudTrail",
        _ => "AWS API Call via CloudTrail",
    };
    let id = format!("lppg-probe-{}-{}", text("eventName"), text("errorCode"));
    json!({
        "version": "0", "id": id, "detail-type": detail_type, "source": format!("aws.{service}"),
        "account": text("recipientAccountId"), "time": text("eventTime"), "region": region,
        "resources": [], "detail": record,
    })
}

/// The samples of [`samples`] as EventBridge events in `region`, each with whether the fast path's rule must match
/// it: the same four cases the subscription filter is judged on.
pub fn event_samples(
    user_arn: &str,
    time: &str,
    region: &str,
) -> Vec<(&'static str, String, bool)> {
    samples(user_arn, time)
        .into_iter()
        .map(|(what, rec, must)| {
            let rec: serde_json::Value = serde_json::from_str(&rec).unwrap_or_default();
            (what, eventbridge_event(&rec, region).to_string(), must)
        })
        .collect()
}

/// The probe record: CloudTrail-shaped, a denial of the observed user for an action no one can hold, marked
/// with its probe id (also its `eventID`, which the function's `probe` line carries back).
pub fn probe_record(user_arn: &str, probe_id: &str, time: &str) -> String {
    let mut r = record(user_arn, SOURCE, "Probe", Some("AccessDenied"), time);
    r["errorMessage"] = json!(format!(
        "User: {} is not authorized to perform: {ACTION}",
        caller_arn(user_arn)
    ));
    r["eventID"] = json!(probe_id);
    r["lppgProbe"] = json!(probe_id);
    r.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const USER: &str = "arn:aws:iam::123456789012:user/lppg-user";

    #[test]
    fn pattern_verdicts() {
        let s = samples(USER, "2026-01-01T00:00:00Z");
        assert_eq!(s.len(), 4);
        assert!(s[1].1.contains("user/someone-else"));
        assert!(s[2].1.contains("ThrottlingException") && !s[3].1.contains("errorCode"));
        assert_eq!(judge_pattern(&s, &[1]), Ok(()));
        assert_eq!(
            judge_pattern(&s, &[]).unwrap_err(),
            "the pattern does not match a denial of the observed user"
        );
        let e = judge_pattern(&s, &[1, 2, 3, 4]).unwrap_err();
        assert!(
            e.contains("another principal's denial")
                && e.contains("throttling")
                && e.contains("successful")
        );
    }

    /// The samples as EventBridge events: the envelope TestEventPattern requires (EventBridge API Reference,
    /// TestEventPattern), the record as `detail`, judged by TestEventPattern's `Result` per event.
    #[test]
    fn event_samples_wrap_the_records() {
        let s = event_samples(USER, "2026-01-01T00:00:00Z", "eu-west-1");
        let records = samples(USER, "2026-01-01T00:00:00Z");
        assert_eq!(s.len(), records.len());
        for ((what, event, must), (w, rec, m)) in s.iter().zip(&records) {
            assert_eq!((what, must), (w, m));
            let e: serde_json::Value = serde_json::from_str(event).unwrap();
            for k in [
                "id",
                "account",
                "source",
                "time",
                "region",
                "resources",
                "detail-type",
            ] {
                assert!(e.get(k).is_some(), "{k} in {e}");
            }
            assert_eq!(e["detail-type"], "AWS API Call via CloudTrail");
            assert_eq!(e["region"], "eu-west-1");
            assert_eq!(e["account"], "123456789012");
            assert_eq!(
                e["detail"],
                serde_json::from_str::<serde_json::Value>(rec).unwrap()
            );
        }
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&s[0].1).unwrap()["source"],
            "aws.s3"
        );
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&s[2].1).unwrap()["source"],
            "aws.ec2"
        );
        assert_eq!(
            judge_event_pattern(&s, &[true, false, false, false]),
            Ok(())
        );
        let e = judge_event_pattern(&s, &[true, true, true, true]).unwrap_err();
        assert!(e.contains("matches another principal's denial"), "{e}");
        assert_eq!(
            judge_event_pattern(&s, &[false, false, false, false]).unwrap_err(),
            "the pattern does not match a denial of the observed user"
        );
    }

    #[test]
    fn probe_record_is_marked_and_denied() {
        let r: serde_json::Value =
            serde_json::from_str(&probe_record(USER, "lppg-probe-1", "2026-01-01T00:00:00Z"))
                .unwrap();
        assert_eq!(r["eventSource"], SOURCE);
        assert_eq!(r["lppgProbe"], "lppg-probe-1");
        assert_eq!(r["eventID"], "lppg-probe-1");
        assert_eq!(r["userIdentity"]["arn"], USER);
        assert_eq!(r["errorCode"], "AccessDenied");
    }

    #[test]
    fn role_mode_records_are_sessions_of_the_role() {
        let role = "arn:aws:iam::123456789012:role/lppg-role";
        let session = "arn:aws:sts::123456789012:assumed-role/lppg-role/lppg-probe";
        let r: serde_json::Value =
            serde_json::from_str(&probe_record(role, "p", "2026-01-01T00:00:00Z")).unwrap();
        assert_eq!(r["userIdentity"]["type"], "AssumedRole");
        assert_eq!(r["userIdentity"]["arn"], session);
        assert_eq!(
            r["userIdentity"]["sessionContext"]["sessionIssuer"]["arn"],
            role
        );
        assert!(r["errorMessage"]
            .as_str()
            .unwrap()
            .starts_with(&format!("User: {session} ")));
        let s = samples(role, "2026-01-01T00:00:00Z");
        assert!(s[0].1.contains(role) && s[1].1.contains("role/someone-else"));
    }

    /// The records of the shared vector the function's tests are given (tests/vectors/probe_records.json) are
    /// exactly what `probe_record` writes, in user and in role mode.
    #[test]
    fn probe_records_are_the_shared_vectors() {
        let v: serde_json::Value =
            serde_json::from_str(include_str!("../../../../tests/vectors/probe_records.json"))
                .unwrap();
        let cases = v["records"].as_array().unwrap();
        assert_eq!(cases.len(), 2);
        for c in cases {
            let s = |k: &str| c[k].as_str().unwrap();
            let ours: serde_json::Value =
                serde_json::from_str(&probe_record(s("principal"), s("probe_id"), s("time")))
                    .unwrap();
            assert_eq!(ours, c["record"], "{} mode", s("mode"));
        }
    }

    #[test]
    fn exit_codes() {
        let ok = |s| Step {
            step: s,
            region: None,
            outcome: Outcome::Ok {
                detail: String::new(),
            },
        };
        let failed = |s| Step {
            step: s,
            region: None,
            outcome: Outcome::Failed {
                detail: String::new(),
                fix: String::new(),
            },
        };
        let cnr = |s| Step {
            step: s,
            region: None,
            outcome: Outcome::CouldNotRun {
                detail: String::new(),
            },
        };
        assert_eq!(exit_code(&[ok("a"), ok("b"), ok("c")]).code(), 0);
        assert_eq!(exit_code(&[failed("a"), cnr("b"), cnr("c")]).code(), 1);
        assert_eq!(exit_code(&[ok("a"), failed("b"), ok("c")]).code(), 1);
        assert_eq!(exit_code(&[cnr("a"), cnr("b"), cnr("c")]).code(), 2);
        let v = serde_json::to_value(cnr("trail")).unwrap();
        assert_eq!(v["outcome"], "could_not_run");
        assert_eq!(v["step"], "trail");
    }
}
