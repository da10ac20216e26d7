//! The guard: the observed user must not be able to change the generator, whatever the function grants it.
//! moto does not evaluate IAM policies, so this test deploys the stack with `lppg up`, reads the guard policy as
//! the emulator resolved it (real ARNs), and evaluates it the way IAM evaluates an explicit Deny (action and
//! resource wildcards) against every tampering call the user could try. Unrelated calls must stay allowed.
#![allow(clippy::too_many_lines)] // scenario tests read top to bottom
use crate::common::{block_on, Moto, TempDir};
use lppg::policy::{action_matches, ActionClause, Effect, Policy, ResourceClause};

/// Case-sensitive `*`/`?` glob, as IAM matches resource ARNs.
fn arn_matches(pattern: &str, arn: &str) -> bool {
    fn go(p: &[u8], t: &[u8]) -> bool {
        match (p.first(), t.first()) {
            (None, None) => true,
            (Some(b'*'), _) => go(&p[1..], t) || (!t.is_empty() && go(p, &t[1..])),
            (Some(b'?'), Some(_)) => go(&p[1..], &t[1..]),
            (Some(a), Some(b)) if a == b => go(&p[1..], &t[1..]),
            _ => false,
        }
    }
    go(pattern.as_bytes(), arn.as_bytes())
}

/// True when an unconditional `effect` statement of `policy` covers `action` on `resource`.
fn covers(policy: &Policy, effect: Effect, action: &str, resource: &str) -> bool {
    policy.statements.iter().any(|s| {
        if s.effect != effect || s.condition.is_some() {
            return false;
        }
        let action_hit = match &s.actions {
            ActionClause::Action(list) => list.iter().any(|p| action_matches(p, action)),
            ActionClause::NotAction(list) => !list.iter().any(|p| action_matches(p, action)),
        };
        let resource_hit = match &s.resources {
            ResourceClause::Resource(list) => list.iter().any(|p| arn_matches(p, resource)),
            ResourceClause::NotResource(list) => !list.iter().any(|p| arn_matches(p, resource)),
        };
        action_hit && resource_hit
    })
}

fn denied(policy: &Policy, action: &str, resource: &str) -> bool {
    covers(policy, Effect::Deny, action, resource)
}

fn allowed(policy: &Policy, action: &str, resource: &str) -> bool {
    covers(policy, Effect::Allow, action, resource)
}

#[test]
fn guard_denies_every_way_to_change_the_generator() {
    let moto = Moto::start();
    let dir = TempDir::new("guard");
    moto.lppg(dir.path(), &["up", "--yes", "--no-password"])
        .run();
    let c = moto.clients();
    let guard = deployed_guard(&moto);
    let text = format!("{guard:?}");
    let stack_id = block_on(c.cfn.describe_stacks().stack_name("lppg").send())
        .unwrap()
        .stacks()[0]
        .stack_id()
        .unwrap()
        .to_string();

    let acct = "123456789012";
    let trail = format!("arn:aws:cloudtrail:us-east-1:{acct}:trail/lppg-trail");
    let trail_group = format!("arn:aws:logs:us-east-1:{acct}:log-group:/lppg/lppg/cloudtrail");
    let fn_group = format!("arn:aws:logs:us-east-1:{acct}:log-group:/aws/lambda/lppg-generator");
    let function = format!("arn:aws:lambda:us-east-1:{acct}:function:lppg-generator");
    let user = format!("arn:aws:iam::{acct}:user/lppg-user");
    let fn_role = format!("arn:aws:iam::{acct}:role/lppg-generator-role");
    let trail_role = format!("arn:aws:iam::{acct}:role/lppg-trail-role");
    let trail_bucket = "arn:aws:s3:::lppg-trail-123456789012-us-east-1".to_string();
    let artifacts = "arn:aws:s3:::lppg-artifacts-123456789012-us-east-1".to_string();

    let mut attempts: Vec<(String, String)> = Vec::new();
    let mut add = |a: &str, r: &str| attempts.push((a.to_string(), r.to_string()));
    for a in [
        "cloudtrail:StopLogging",
        "cloudtrail:DeleteTrail",
        "cloudtrail:UpdateTrail",
        "cloudtrail:PutEventSelectors",
    ] {
        add(a, &trail);
    }
    for g in [&trail_group, &fn_group] {
        for a in [
            "logs:DeleteSubscriptionFilter",
            "logs:PutSubscriptionFilter",
            "logs:DeleteLogGroup",
            "logs:PutRetentionPolicy",
        ] {
            add(a, g);
            add(a, &format!("{g}:*"));
        }
        add("logs:PutLogEvents", &format!("{g}:log-stream:forged"));
    }
    for a in [
        "lambda:UpdateFunctionCode",
        "lambda:UpdateFunctionConfiguration",
        "lambda:InvokeFunction",
        "lambda:DeleteFunction",
        "lambda:AddPermission",
        "lambda:PutFunctionConcurrency",
    ] {
        add(a, &function);
    }
    for a in [
        "iam:AttachUserPolicy",
        "iam:PutUserPolicy",
        "iam:DetachUserPolicy",
        "iam:DeleteUserPermissionsBoundary",
        "iam:PutUserPermissionsBoundary",
        "iam:CreateAccessKey",
        "iam:DeleteUser",
        "iam:UpdateUser",
        // Its own password is changed only through ChangePassword (below), never reset or removed this way.
        "iam:UpdateLoginProfile",
        "iam:DeleteLoginProfile",
        "iam:CreateLoginProfile",
        "iam:DeactivateMFADevice",
    ] {
        add(a, &user);
    }
    for i in 1..=lppg::naming::POLICY_COUNT {
        let p = format!("arn:aws:iam::{acct}:policy/lppg-policy-{i}");
        for a in [
            "iam:CreatePolicyVersion",
            "iam:SetDefaultPolicyVersion",
            "iam:DeletePolicy",
            "iam:DeletePolicyVersion",
        ] {
            add(a, &p);
        }
    }
    for a in [
        "iam:CreatePolicyVersion",
        "iam:SetDefaultPolicyVersion",
        "iam:DeletePolicy",
    ] {
        add(a, &format!("arn:aws:iam::{acct}:policy/lppg-guard"));
    }
    for r in [&fn_role, &trail_role] {
        for a in [
            "iam:PutRolePolicy",
            "iam:AttachRolePolicy",
            "iam:UpdateAssumeRolePolicy",
            "iam:DeleteRole",
            "iam:PassRole",
        ] {
            add(a, r);
        }
    }
    for b in [&trail_bucket, &artifacts] {
        for a in [
            "s3:DeleteBucket",
            "s3:PutBucketPolicy",
            "s3:PutLifecycleConfiguration",
        ] {
            add(a, b);
        }
        for a in ["s3:PutObject", "s3:DeleteObject"] {
            add(a, &format!("{b}/lppg/function-0123.zip"));
        }
    }
    let queue = format!("arn:aws:sqs:us-east-1:{acct}:lppg-failed-batches");
    for a in [
        "sqs:SendMessage",
        "sqs:ReceiveMessage",
        "sqs:DeleteMessage",
        "sqs:PurgeQueue",
        "sqs:DeleteQueue",
        "sqs:SetQueueAttributes",
        "sqs:AddPermission",
    ] {
        add(a, &queue);
    }
    for a in [
        "cloudformation:DeleteStack",
        "cloudformation:UpdateStack",
        "cloudformation:ExecuteChangeSet",
    ] {
        add(a, &stack_id);
    }
    // The fast path (issue 22): the home rule and every forwarder's rule, all named lppg-fast-path, in any region;
    // the forwarder stacks' roles (lppg-forwarder-<region>), which may put events on the home bus.
    for region in ["us-east-1", "eu-west-1", "ap-southeast-2"] {
        let rule = format!("arn:aws:events:{region}:{acct}:rule/lppg-fast-path");
        for a in [
            "events:DeleteRule",
            "events:DisableRule",
            "events:PutRule",
            "events:PutTargets",
            "events:RemoveTargets",
            "events:TagResource",
        ] {
            add(a, &rule);
        }
        let role = format!("arn:aws:iam::{acct}:role/lppg-forwarder-{region}");
        for a in [
            "iam:PutRolePolicy",
            "iam:AttachRolePolicy",
            "iam:UpdateAssumeRolePolicy",
            "iam:DeleteRole",
            "iam:PassRole",
        ] {
            add(a, &role);
        }
    }

    let missed: Vec<_> = attempts
        .iter()
        .filter(|(a, r)| !denied(&guard, a, r))
        .collect();
    assert!(
        missed.is_empty(),
        "the guard lets these through: {missed:#?}\n{text}"
    );

    // The guard is specific: the procedure's own work elsewhere is not blocked.
    for (a, r) in [
        (
            "events:PutRule",
            format!("arn:aws:events:eu-west-1:{acct}:rule/my-app-rule"),
        ),
        (
            "cloudtrail:StopLogging",
            format!("arn:aws:cloudtrail:us-east-1:{acct}:trail/team-trail"),
        ),
        (
            "iam:CreateUser",
            format!("arn:aws:iam::{acct}:user/app-user"),
        ),
        (
            "iam:CreatePolicyVersion",
            format!("arn:aws:iam::{acct}:policy/lppg-dev-policy-1"),
        ),
        ("s3:PutObject", "arn:aws:s3:::my-app-bucket/x".to_string()),
        (
            "lambda:UpdateFunctionCode",
            format!("arn:aws:lambda:us-east-1:{acct}:function:my-app"),
        ),
        (
            "logs:DeleteLogGroup",
            format!("arn:aws:logs:us-east-1:{acct}:log-group:/aws/lambda/my-app"),
        ),
        ("ec2:RunInstances", "*".to_string()),
        (
            "sqs:SendMessage",
            format!("arn:aws:sqs:us-east-1:{acct}:my-app-queue"),
        ),
    ] {
        assert!(
            !denied(&guard, a, &r),
            "the guard must not block {a} on {r}"
        );
    }

    // The user's own account hygiene: an account password policy with expiry or an MFA requirement must not
    // strand it. The guard neither denies these nor leaves them to the function: it allows them itself.
    let mfa = format!("arn:aws:iam::{acct}:mfa/lppg-user");
    for (a, r) in [
        ("iam:ChangePassword", user.as_str()),
        ("iam:EnableMFADevice", user.as_str()),
        ("iam:ResyncMFADevice", user.as_str()),
        ("iam:ListMFADevices", user.as_str()),
        ("iam:CreateVirtualMFADevice", mfa.as_str()),
        ("iam:GetAccountPasswordPolicy", "*"),
    ] {
        assert!(
            !denied(&guard, a, r),
            "the guard must let the user do {a} on {r}"
        );
        assert!(
            allowed(&guard, a, r),
            "the guard must allow the user {a} on {r}"
        );
    }
    // Nothing else is allowed by the guard: its Allow statements name only those self-service actions.
    for (a, r) in [
        ("iam:UpdateLoginProfile", user.as_str()),
        ("iam:CreateAccessKey", user.as_str()),
        (
            "iam:ChangePassword",
            "arn:aws:iam::123456789012:user/someone-else",
        ),
        ("ec2:RunInstances", "*"),
    ] {
        assert!(
            !allowed(&guard, a, r),
            "the guard must not allow {a} on {r}"
        );
    }
}

/// The guard policy `lppg up` deployed for stack `lppg`, as IAM holds it.
fn deployed_guard(moto: &Moto) -> Policy {
    let c = moto.clients();
    let doc = block_on(
        c.iam
            .get_policy_version()
            .policy_arn("arn:aws:iam::123456789012:policy/lppg-guard")
            .version_id("v1")
            .send(),
    )
    .unwrap();
    let text =
        lppg::policy::decode_document(doc.policy_version().unwrap().document().unwrap()).unwrap();
    Policy::parse(&text).unwrap()
}

#[test]
fn guard_covers_the_generator_role_in_role_mode() {
    let moto = Moto::start();
    let dir = TempDir::new("guard-role");
    block_on(moto.clients().iam.create_user().user_name("ci").send()).unwrap();
    moto.lppg(
        dir.path(),
        &[
            "up",
            "--yes",
            "--principal",
            "role",
            "--trust",
            "arn:aws:iam::123456789012:user/ci",
        ],
    )
    .run();
    let guard = deployed_guard(&moto);
    let acct = "123456789012";
    let role = format!("arn:aws:iam::{acct}:role/lppg-role");
    let fn_role = format!("arn:aws:iam::{acct}:role/lppg-generator-role");
    let trail_role = format!("arn:aws:iam::{acct}:role/lppg-trail-role");

    // Its own role, trust policy and policies.
    let mut missed = Vec::new();
    for a in [
        "iam:UpdateAssumeRolePolicy",
        "iam:PutRolePolicy",
        "iam:AttachRolePolicy",
        "iam:DetachRolePolicy",
        "iam:DeleteRolePolicy",
        "iam:PutRolePermissionsBoundary",
        "iam:DeleteRolePermissionsBoundary",
        "iam:UpdateRole",
        "iam:UpdateRoleDescription",
        "iam:DeleteRole",
        "iam:TagRole",
        "iam:UntagRole",
        "iam:PassRole",
    ] {
        if !denied(&guard, a, &role) {
            missed.push((a, role.clone()));
        }
    }
    for i in 1..=lppg::naming::POLICY_COUNT {
        let p = format!("arn:aws:iam::{acct}:policy/lppg-policy-{i}");
        for a in ["iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion"] {
            if !denied(&guard, a, &p) {
                missed.push((a, p.clone()));
            }
        }
    }
    // Passing or assuming the generator's other roles.
    for r in [&fn_role, &trail_role] {
        for a in [
            "iam:PassRole",
            "iam:UpdateAssumeRolePolicy",
            "sts:AssumeRole",
            "sts:TagSession",
        ] {
            if !denied(&guard, a, r) {
                missed.push((a, r.clone()));
            }
        }
    }
    assert!(
        missed.is_empty(),
        "the guard lets these through: {missed:#?}"
    );

    // The procedure's own work stays allowed: other roles, assuming a role of the application.
    for (a, r) in [
        (
            "iam:CreateRole",
            format!("arn:aws:iam::{acct}:role/app-role"),
        ),
        ("iam:PassRole", format!("arn:aws:iam::{acct}:role/app-role")),
        (
            "sts:AssumeRole",
            format!("arn:aws:iam::{acct}:role/app-role"),
        ),
        ("ec2:RunInstances", "*".to_string()),
    ] {
        assert!(
            !denied(&guard, a, &r),
            "the guard must not block {a} on {r}"
        );
    }
    // A role has no password or MFA device: the user's self-service statements grant the role nothing.
    for (a, r) in [
        ("iam:GetAccountPasswordPolicy", "*"),
        (
            "iam:CreateVirtualMFADevice",
            "arn:aws:iam::123456789012:mfa/x",
        ),
        (
            "iam:ChangePassword",
            "arn:aws:iam::123456789012:user/lppg-user",
        ),
    ] {
        assert!(
            !allowed(&guard, a, r),
            "the guard must not allow {a} on {r} in role mode"
        );
    }
}
