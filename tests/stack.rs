//! `lppg up`, `status`, `down` and `template`, end to end through the built binary against a moto server of each
//! test's own. Where moto skips a resource type (the trail, the subscription filter, the bucket policy), the test
//! checks what lppg does and, for `status`, creates the missing parts the way CloudFormation would.
#![allow(clippy::too_many_lines)] // scenario tests read top to bottom
use crate::common::{block_on, Moto, TempDir, Test};
use lppg::password::PasswordRules;

const STRICT_POLICY_MIN: i32 = 30;

fn set_password_policy(c: &lppg::aws::Clients) {
    block_on(
        c.iam
            .update_account_password_policy()
            .minimum_password_length(STRICT_POLICY_MIN)
            .require_symbols(true)
            .require_numbers(true)
            .require_uppercase_characters(true)
            .require_lowercase_characters(true)
            .send(),
    )
    .unwrap();
}

fn strict_rules() -> PasswordRules {
    PasswordRules {
        min_length: STRICT_POLICY_MIN as usize,
        require_symbols: true,
        require_numbers: true,
        require_uppercase: true,
        require_lowercase: true,
        three_of_four_classes: false,
    }
}

fn password_from(stdout: &str) -> String {
    stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix("Password: "))
        .expect("a Password: line")
        .to_string()
}

/// Everything a generator named `lppg` creates in account 123456789012 / us-east-1, checked one by one.
fn remaining(c: &lppg::aws::Clients) -> Vec<String> {
    let n = lppg::naming::Names::new("lppg", "aws", "123456789012", "us-east-1", None);
    block_on(async {
        let mut left = Vec::new();
        if c.iam.get_user().user_name(&n.user).send().await.is_ok() {
            left.push(format!("user {}", n.user));
        }
        for p in n.policies.iter().chain([&n.guard_policy]) {
            if c.iam
                .get_policy()
                .policy_arn(n.policy_arn(p))
                .send()
                .await
                .is_ok()
            {
                left.push(format!("policy {p}"));
            }
        }
        for r in [&n.function_role, &n.trail_role] {
            if c.iam.get_role().role_name(r).send().await.is_ok() {
                left.push(format!("role {r}"));
            }
        }
        if c.lambda
            .get_function()
            .function_name(&n.function)
            .send()
            .await
            .is_ok()
        {
            left.push(format!("function {}", n.function));
        }
        let groups = c.logs.describe_log_groups().send().await.unwrap();
        for g in groups.log_groups() {
            left.push(format!(
                "log group {}",
                g.log_group_name().unwrap_or_default()
            ));
        }
        let buckets = c.s3.list_buckets().send().await.unwrap();
        for b in buckets.buckets() {
            left.push(format!("bucket {}", b.name().unwrap_or_default()));
        }
        let trails = c.trail.describe_trails().send().await.unwrap();
        for t in trails.trail_list() {
            left.push(format!("trail {}", t.name().unwrap_or_default()));
        }
        if let Ok(s) = c.cfn.describe_stacks().stack_name("lppg").send().await {
            for st in s.stacks() {
                left.push(format!("stack {:?}", st.stack_status()));
            }
        }
        left
    })
}

/// Creates what moto's CloudFormation skips, as the real service would from the template (tags included).
fn create_skipped_parts(c: &lppg::aws::Clients) {
    let n = lppg::naming::Names::new("lppg", "aws", "123456789012", "us-east-1", None);
    block_on(async {
        c.trail
            .create_trail()
            .name(&n.trail)
            .s3_bucket_name(&n.trail_bucket)
            .is_multi_region_trail(true)
            .include_global_service_events(true)
            .tags_list(
                aws_sdk_cloudtrail::types::Tag::builder()
                    .key("lppg:stack")
                    .value("lppg")
                    .build()
                    .unwrap(),
            )
            .send()
            .await
            .unwrap();
        c.trail.start_logging().name(&n.trail).send().await.unwrap();
        c.logs
            .put_subscription_filter()
            .log_group_name(&n.trail_log_group)
            .filter_name(&n.subscription_filter)
            .filter_pattern("{ $.errorCode = \"AccessDenied\" }")
            .destination_arn("arn:aws:lambda:us-east-1:123456789012:function:lppg-generator")
            .send()
            .await
            .unwrap();
    });
}

#[test]
fn up_status_down_end_to_end() {
    let moto = Moto::start();
    let dir = TempDir::new("e2e");
    let c = moto.clients();
    set_password_policy(&c);

    // up: creates everything and prints the generated password once, on stdout as asked.
    let up = moto
        .lppg(dir.path(), &["up", "--yes", "--print-password"])
        .run();
    let pw = password_from(&up.stdout);
    assert_eq!(
        strict_rules().check(&pw),
        Ok(()),
        "generated password breaks the policy: {pw}"
    );
    assert_eq!(moto.password_of("lppg-user").as_deref(), Some(pw.as_str()));
    assert_eq!(up.stdout.matches(&pw).count(), 1, "password printed once");
    assert!(!up.stderr.contains(&pw), "password must not reach stderr");
    assert!(up.stderr.contains("Account 123456789012"), "{}", up.dump());

    // Every resource the emulator supports exists.
    block_on(async {
        let attached = c
            .iam
            .list_attached_user_policies()
            .user_name("lppg-user")
            .send()
            .await
            .unwrap();
        let mut names: Vec<String> = attached
            .attached_policies()
            .iter()
            .map(|p| p.policy_name().unwrap().to_string())
            .collect();
        names.sort();
        let mut expected: Vec<String> = (1..=lppg::naming::POLICY_COUNT)
            .map(|i| format!("lppg-policy-{i}"))
            .collect();
        expected.push("lppg-guard".into());
        expected.sort();
        assert_eq!(names, expected);
        let guard = c
            .iam
            .get_policy_version()
            .policy_arn("arn:aws:iam::123456789012:policy/lppg-guard")
            .version_id("v1")
            .send()
            .await
            .unwrap();
        let doc = guard.policy_version().unwrap().document().unwrap();
        assert!(
            doc.contains("Deny") && doc.contains("cloudtrail:StopLogging"),
            "{doc}"
        );
        c.iam
            .get_role()
            .role_name("lppg-generator-role")
            .send()
            .await
            .unwrap();
        c.iam
            .get_role()
            .role_name("lppg-trail-role")
            .send()
            .await
            .unwrap();
        // The function holds exactly the embedded zip.
        let f = c
            .lambda
            .get_function_configuration()
            .function_name("lppg-generator")
            .send()
            .await
            .unwrap();
        let zip = lppg::assets::function_zip().unwrap();
        assert_eq!(
            f.code_sha256().unwrap(),
            lppg::assets::lambda_code_sha256(&zip)
        );
        assert_eq!(f.handler(), Some("handler.lambda_handler"));
        let env = f.environment().unwrap().variables().unwrap();
        assert_eq!(
            env["LPPG_USER_ARN"],
            "arn:aws:iam::123456789012:user/lppg-user"
        );
        assert_eq!(
            env["LPPG_POLICY_ARNS"].split(',').count(),
            lppg::naming::POLICY_COUNT
        );
        let obj =
            c.s3.get_object()
                .bucket("lppg-artifacts-123456789012-us-east-1")
                .key(lppg::assets::function_key(&zip))
                .send()
                .await
                .unwrap();
        assert_eq!(obj.body.collect().await.unwrap().into_bytes().to_vec(), zip);
        for g in ["/aws/lambda/lppg-generator", "/lppg/lppg/cloudtrail"] {
            let r = c
                .logs
                .describe_log_groups()
                .log_group_name_prefix(g)
                .send()
                .await
                .unwrap();
            let lg = r
                .log_groups()
                .iter()
                .find(|x| x.log_group_name() == Some(g))
                .expect(g);
            assert_eq!(lg.retention_in_days(), Some(14), "{g}");
        }
        c.s3.head_bucket()
            .bucket("lppg-trail-123456789012-us-east-1")
            .send()
            .await
            .unwrap();
    });

    // up again: nothing changes, the password is kept and not printed.
    let again = moto
        .lppg(dir.path(), &["up", "--yes", "--print-password"])
        .expect_stderr_contains("up to date")
        .run();
    assert!(again.stdout.trim().is_empty(), "{}", again.dump());
    assert_eq!(moto.password_of("lppg-user").as_deref(), Some(pw.as_str()));

    // Changing the start actions would rewrite policy 1 and lose grants: refused, nothing changed.
    moto.lppg(
        dir.path(),
        &[
            "up",
            "--yes",
            "--no-password",
            "--start-actions",
            "ec2:DescribeInstances,s3:ListAllMyBuckets",
        ],
    )
    .expect_code(2)
    .expect_stderr_contains("lose what was granted")
    .run();
    // A harmless change goes through a change set.
    moto.lppg(
        dir.path(),
        &["up", "--yes", "--no-password", "--log-retention-days", "30"],
    )
    .expect_stderr_contains("UPDATE_COMPLETE")
    .run();
    let params = block_on(c.cfn.describe_stacks().stack_name("lppg").send()).unwrap();
    let p = params.stacks()[0].parameters();
    let get = |k: &str| {
        p.iter()
            .find(|x| x.parameter_key() == Some(k))
            .and_then(|x| x.parameter_value())
            .unwrap_or_default()
            .to_string()
    };
    assert_eq!(get("LogRetentionDays"), "30");
    assert!(
        get("StartActions").contains("ec2:DescribeInstances")
            && !get("StartActions").contains("s3:")
    );

    // status: moto has no trail, so unhealthy (exit 1) and says what to do.
    moto.lppg(dir.path(), &["status"])
        .expect_code(1)
        .expect_stderr_contains("trail")
        .expect_stderr_contains("lppg up")
        .run();
    create_skipped_parts(&c);
    let st = moto.lppg(dir.path(), &["status", "--json"]).run();
    let v: serde_json::Value =
        serde_json::from_str(&st.stdout).unwrap_or_else(|_| panic!("{}", st.dump()));
    assert_eq!(v["healthy"], true, "{}", st.dump());
    assert_eq!(v["actions"], 1);

    // Things CloudFormation cannot remove: credentials, old policy versions, objects.
    block_on(async {
        c.iam
            .create_access_key()
            .user_name("lppg-user")
            .send()
            .await
            .unwrap();
        for i in 0..3 {
            c.iam
                .create_policy_version()
                .policy_arn("arn:aws:iam::123456789012:policy/lppg-policy-1")
                .policy_document(format!(
                    r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"S3","Effect":"Allow","Action":["s3:ListAllMyBuckets","s3:GetObject{i}"],"Resource":"*"}},{{"Sid":"Ec2","Effect":"Allow","Action":["ec2:DescribeInstances"],"Resource":"*"}}]}}"#
                ))
                .set_as_default(true)
                .send()
                .await
                .unwrap();
        }
        c.s3.put_object()
            .bucket("lppg-trail-123456789012-us-east-1")
            .key("AWSLogs/123456789012/CloudTrail/x.json.gz")
            .body(b"x".to_vec().into())
            .send()
            .await
            .unwrap();
    });

    // down without --yes and without a terminal refuses, deleting nothing.
    moto.lppg(dir.path(), &["down"])
        .expect_code(2)
        .expect_stderr_contains("--yes")
        .run();
    assert!(!remaining(&c).is_empty());

    let down = moto.lppg(dir.path(), &["down", "--yes"]).run();
    assert!(
        down.stderr.contains("saved the final policy"),
        "{}",
        down.dump()
    );
    let saved: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("lppg-policy-lppg-")
        })
        .collect();
    assert_eq!(saved.len(), 1, "{}", down.dump());
    let text = std::fs::read_to_string(saved[0].path()).unwrap();
    assert!(
        text.contains("s3:GetObject2") && text.contains("ec2:DescribeInstances"),
        "{text}"
    );
    let left = remaining(&c);
    assert!(left.is_empty(), "left behind: {left:?}\n{}", down.dump());

    // down again: nothing to do, exit 0.
    moto.lppg(dir.path(), &["down", "--yes"])
        .expect_stderr_contains("nothing to do")
        .run();
    // The saved policy still exports after the stack is gone.
    let path = saved[0].path();
    let exported = moto
        .lppg(
            dir.path(),
            &["export-policy", "--from", path.to_str().unwrap()],
        )
        .run();
    assert_eq!(
        exported.stdout, text,
        "round trip through --from gives the same bytes"
    );
}

#[test]
fn refusals_change_nothing() {
    let moto = Moto::start();
    let dir = TempDir::new("refuse");
    let c = moto.clients();
    moto.lppg(dir.path(), &["up", "--no-password"])
        .expect_code(2)
        .expect_stderr_contains("--yes")
        .run();
    moto.lppg(dir.path(), &["up", "--yes"])
        .expect_code(2)
        .expect_stderr_contains("--password-stdin")
        .run();
    moto.lppg(dir.path(), &["--stack-name", "Bad_Name", "up", "--yes"])
        .expect_code(2)
        .expect_stderr_contains("invalid stack name")
        .run();
    moto.lppg(
        dir.path(),
        &["up", "--yes", "--no-password", "--data-events", "rds"],
    )
    .expect_code(2)
    .expect_stderr_contains("--data-events")
    .run();

    // A weak password from stdin is refused before anything is created.
    set_password_policy(&c);
    moto.lppg_stdin(
        dir.path(),
        &["up", "--yes", "--password-stdin"],
        Some("short1!A\n"),
    )
    .expect_code(2)
    .expect_stderr_contains("password policy")
    .run();
    // A user of the same name that the stack does not own.
    block_on(c.iam.create_user().user_name("lppg-user").send()).unwrap();
    moto.lppg(dir.path(), &["up", "--yes", "--no-password"])
        .expect_code(2)
        .expect_stderr_contains("already exists")
        .run();
    let stacks = block_on(c.cfn.list_stacks().send()).unwrap();
    assert!(
        stacks.stack_summaries().is_empty(),
        "nothing may be created"
    );

    // status without a stack says what to do.
    moto.lppg(dir.path(), &["status"])
        .expect_code(1)
        .expect_stderr_contains("lppg up")
        .run();
}

#[test]
fn password_stdin_sets_the_given_password() {
    let moto = Moto::start();
    let dir = TempDir::new("pwstdin");
    let c = moto.clients();
    set_password_policy(&c);
    let good = "Correct-Horse-Battery-Staple-42!x";
    let r = moto
        .lppg_stdin(
            dir.path(),
            &["up", "--yes", "--password-stdin"],
            Some(&format!("{good}\n")),
        )
        .run();
    assert!(
        !r.stdout.contains(good) && !r.stderr.contains(good),
        "a given password is never echoed"
    );
    assert_eq!(moto.password_of("lppg-user").as_deref(), Some(good));
    // --reset-password with a generated one replaces it.
    let r = moto
        .lppg(
            dir.path(),
            &["up", "--yes", "--reset-password", "--print-password"],
        )
        .run();
    let pw = password_from(&r.stdout);
    assert_ne!(pw, good);
    assert_eq!(moto.password_of("lppg-user").as_deref(), Some(pw.as_str()));
}

#[test]
fn unreachable_endpoint_is_explained() {
    let dir = TempDir::new("unreach");
    Test::new()
        .current_dir(dir.path())
        .args(["--endpoint-url", "http://127.0.0.1:9", "status"])
        .expect_code(2)
        .expect_stderr_contains("could not send the request")
        .expect_stderr_contains("endpoint")
        .run();
}

#[test]
fn template_command_writes_a_lint_clean_template_and_the_zip() {
    let dir = TempDir::new("tpl");
    let out = dir.path().join("out");
    let template = || {
        Test::new()
            .current_dir(dir.path())
            .args(["template", "--out", out.to_str().unwrap()])
    };
    template().expect_code(0).run();
    let zip = std::fs::read(out.join("function.zip")).unwrap();
    assert_eq!(zip, lppg::assets::function_zip().unwrap());
    // Refuses to overwrite.
    template()
        .expect_code(2)
        .expect_stderr_contains("--force")
        .run();
    // cfn-lint: no errors and no warnings.
    let lint = std::process::Command::new(crate::common::venv_bin("cfn-lint"))
        .arg(out.join("template.yaml"))
        .output()
        .unwrap();
    assert!(
        lint.status.success(),
        "cfn-lint found problems:\n{}{}",
        String::from_utf8_lossy(&lint.stdout),
        String::from_utf8_lossy(&lint.stderr)
    );
}

/// A stack another operation is still changing (here: one moto leaves in CREATE_IN_PROGRESS because its user
/// name was taken) is explained by `up` and `status`, and `down` removes what is the stack's and nothing else.
#[test]
fn stuck_stack_is_explained_and_down_recovers() {
    let moto = Moto::start();
    let dir = TempDir::new("stuck");
    let c = moto.clients();
    block_on(c.iam.create_user().user_name("lppg-user").send()).unwrap();
    // A log group is created, then the user collides: moto leaves the stack in CREATE_IN_PROGRESS for good.
    let template = "Resources:\n  TrailLogGroup:\n    Type: AWS::Logs::LogGroup\n    Properties:\n      \
                    LogGroupName: /lppg/lppg/cloudtrail\n  User:\n    Type: AWS::IAM::User\n    DependsOn: \
                    TrailLogGroup\n    Properties:\n      UserName: lppg-user\n";
    let created = block_on(
        c.cfn
            .create_stack()
            .stack_name("lppg")
            .template_body(template)
            .send(),
    );
    assert!(created.is_err(), "moto refuses the taken user name");
    let status = block_on(c.cfn.describe_stacks().stack_name("lppg").send())
        .unwrap()
        .stacks()[0]
        .stack_status()
        .unwrap()
        .as_str()
        .to_string();
    assert_eq!(status, "CREATE_IN_PROGRESS");

    moto.lppg(dir.path(), &["up", "--yes", "--no-password"])
        .expect_code(2)
        .expect_stderr_contains("being changed right now")
        .run();
    moto.lppg(dir.path(), &["status"])
        .expect_code(1)
        .expect_stderr_contains("CREATE_IN_PROGRESS")
        .run();
    // The user was not the stack's (the test made it): `down` removes the stack's log group and the stack, and
    // leaves the user alone, saying so.
    moto.lppg(dir.path(), &["down", "--yes"])
        .expect_stderr_contains("left alone")
        .run();
    let left = remaining(&c);
    assert_eq!(left, vec!["user lppg-user".to_string()]);
}

/// Creates a trail directly (the emulator's CloudFormation skips trails), with its own bucket.
fn create_trail(c: &lppg::aws::Clients, name: &str, multi: bool) {
    let bucket = format!("{name}-bucket");
    let mut req = c.s3.create_bucket().bucket(&bucket);
    if c.region != "us-east-1" {
        req = req.create_bucket_configuration(
            aws_sdk_s3::types::CreateBucketConfiguration::builder()
                .location_constraint(c.region.as_str().into())
                .build(),
        );
    }
    block_on(req.send()).unwrap();
    block_on(
        c.trail
            .create_trail()
            .name(name)
            .s3_bucket_name(&bucket)
            .is_multi_region_trail(multi)
            .send(),
    )
    .unwrap();
}

/// CloudTrail allows 5 trails per region, a multi-region trail counting in every region: `up` refuses before
/// creating anything when there is no room, and names the trails. With room, it says that a second copy of
/// management events costs money.
#[test]
fn trail_quota_and_second_copy_cost() {
    let moto = Moto::start();
    let dir = TempDir::new("trails");
    let c = moto.clients();
    create_trail(&c, "audit", false);
    moto.lppg(dir.path(), &["up", "--yes", "--no-password"])
        .expect_stderr_contains("audit already logs management events")
        .expect_stderr_contains("$2 per 100,000 events")
        .run();
    moto.lppg(dir.path(), &["down", "--yes", "--no-save"]).run();

    for i in 1..=3 {
        create_trail(&c, &format!("team-{i}"), false);
    }
    let west = moto.clients_in("eu-west-1");
    create_trail(&west, "org-wide", true);
    let run = moto
        .lppg(dir.path(), &["up", "--yes", "--no-password"])
        .expect_code(2)
        .expect_stderr_contains("5 trails")
        .expect_stderr_contains("org-wide (multi-region, home eu-west-1)")
        .run();
    let stacks = block_on(c.cfn.list_stacks().send()).unwrap();
    assert!(
        stacks
            .stack_summaries()
            .iter()
            .all(|s| s.stack_status().map(|x| x.as_str()) == Some("DELETE_COMPLETE")),
        "nothing may be created: {}",
        run.dump()
    );
}

/// An update without `--user-name` keeps the user the stack was created with (a new name would replace the user
/// and lose its grants): `up` again is "up to date", not a refusal.
#[test]
fn up_again_keeps_a_chosen_user_name() {
    let moto = Moto::start();
    let dir = TempDir::new("username");
    moto.lppg(
        dir.path(),
        &[
            "up",
            "--yes",
            "--no-password",
            "--user-name",
            "alice-observed",
        ],
    )
    .run();
    moto.lppg(dir.path(), &["up", "--yes", "--no-password"])
        .expect_stderr_contains("up to date")
        .run();
    let c = moto.clients();
    assert!(block_on(c.iam.get_user().user_name("alice-observed").send()).is_ok());
    moto.lppg(dir.path(), &["down", "--yes", "--no-save", "--no-wait"])
        .run();
}
