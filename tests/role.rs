//! Role mode end to end through the binary against moto: `up --principal role` run from an assumed-role session
//! (moto's STS gives credentials whose GetCallerIdentity is `assumed-role/<role>/<session>`), the role it creates
//! (resolved trust, attached policies, tags, session length), `credentials` and `exec` giving sessions of the
//! generator role, refusals that change nothing, and `down` leaving nothing. moto does not evaluate trust policies
//! and shows no console: the trust is checked as the document lppg sends, the switch-role link as the text printed.
#![allow(clippy::too_many_lines)] // scenario tests read top to bottom
use crate::common::{block_on, venv_bin, Moto, TempDir, Test};

const ACCOUNT: &str = "123456789012";

/// Creates `role` under `path` and returns credentials of a session of it (as `env` pairs for the binary).
fn session_of(
    c: &lppg::aws::Clients,
    role: &str,
    path: &str,
    session: &str,
) -> Vec<(String, String)> {
    block_on(async {
        let trust = format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{ACCOUNT}:root"}},"Action":"sts:AssumeRole"}}]}}"#
        );
        let arn = c
            .iam
            .create_role()
            .role_name(role)
            .path(path)
            .assume_role_policy_document(trust)
            .send()
            .await
            .unwrap()
            .role()
            .unwrap()
            .arn()
            .to_string();
        let r = c
            .sts
            .assume_role()
            .role_arn(arn)
            .role_session_name(session)
            .send()
            .await
            .unwrap();
        let cr = r.credentials().unwrap();
        vec![
            ("AWS_ACCESS_KEY_ID".into(), cr.access_key_id().to_string()),
            (
                "AWS_SECRET_ACCESS_KEY".into(),
                cr.secret_access_key().to_string(),
            ),
            ("AWS_SESSION_TOKEN".into(), cr.session_token().to_string()),
        ]
    })
}

fn as_session(moto: &Moto, dir: &std::path::Path, env: &[(String, String)]) -> Test {
    env.iter().fold(moto.test(dir), |t, (k, v)| t.env(k, v))
}

fn stack_parameter(c: &lppg::aws::Clients, stack: &str, key: &str) -> Option<String> {
    let s = block_on(c.cfn.describe_stacks().stack_name(stack).send()).ok()?;
    s.stacks()[0]
        .parameters()
        .iter()
        .find(|p| p.parameter_key() == Some(key))
        .and_then(|p| {
            p.parameter_value()
                .map(lppg::aws::stack::normalize_list_value)
        })
}

#[test]
fn role_mode_end_to_end() {
    let moto = Moto::start();
    let dir = TempDir::new("role");
    let c = moto.clients();
    let alice = session_of(&c, "Deployer", "/team/", "alice");

    // up from an assumed-role session: the trust names the session's role with its path.
    let up = as_session(&moto, dir.path(), &alice)
        .args(["up", "--yes", "--principal", "role"])
        .expect_code(0)
        .run();
    assert!(
        up.stderr
            .contains("caller arn:aws:sts::123456789012:assumed-role/Deployer/alice"),
        "{}",
        up.dump()
    );
    assert!(up.stderr.contains(
        "https://signin.aws.amazon.com/switchrole?account=123456789012&roleName=lppg-role&displayName=lppg%20lppg"
    ));
    assert!(up.stderr.contains("one hour"), "{}", up.dump());
    assert!(up
        .stderr
        .contains("[profile lppg-lppg]\n# your own credentials: the default chain"));
    assert!(up.stderr.contains(
        "\ncredential_process = lppg credentials --stack-name lppg --region us-east-1\n"
    ));
    assert!(!up.stderr.contains("Password"), "{}", up.dump());
    block_on(async {
        let role = c
            .iam
            .get_role()
            .role_name("lppg-role")
            .send()
            .await
            .unwrap();
        let role = role.role().unwrap();
        assert_eq!(role.max_session_duration(), Some(43200));
        let tags: Vec<_> = role.tags().iter().map(|t| (t.key(), t.value())).collect();
        assert!(tags.contains(&("lppg:stack", "lppg")), "{tags:?}");
        let doc = urlencoding::decode(role.assume_role_policy_document().unwrap())
            .unwrap()
            .into_owned();
        let doc: serde_json::Value = serde_json::from_str(&doc).unwrap();
        let st = &doc["Statement"][0];
        assert_eq!(
            st["Principal"]["AWS"],
            serde_json::json!(["arn:aws:iam::123456789012:root"])
        );
        assert_eq!(
            st["Condition"]["ArnLike"]["aws:PrincipalArn"],
            serde_json::json!(["arn:aws:iam::123456789012:role/team/Deployer"])
        );
        let attached = c
            .iam
            .list_attached_role_policies()
            .role_name("lppg-role")
            .send()
            .await
            .unwrap();
        let mut names: Vec<&str> = attached
            .attached_policies()
            .iter()
            .filter_map(|p| p.policy_name())
            .collect();
        names.sort_unstable();
        let mut want: Vec<String> = (1..=9).map(|i| format!("lppg-policy-{i}")).collect();
        want.push("lppg-guard".into());
        want.sort();
        assert_eq!(names, want);
        assert!(c
            .iam
            .get_user()
            .user_name("lppg-user")
            .send()
            .await
            .is_err());
        let env = c
            .lambda
            .get_function_configuration()
            .function_name("lppg-generator")
            .send()
            .await
            .unwrap();
        let vars = env.environment().unwrap().variables().unwrap();
        assert_eq!(
            vars["LPPG_USER_ARN"],
            "arn:aws:iam::123456789012:role/lppg-role"
        );
        let guard: serde_json::Value = serde_json::from_str(&vars["LPPG_GUARD"]).unwrap();
        assert_eq!(guard["arns"][0], "arn:aws:iam::123456789012:role/lppg-role");
        assert!(guard["names"]["roleName"]
            .as_array()
            .unwrap()
            .contains(&serde_json::json!("lppg-role")));
    });
    // The deployed template follows the role's sessions (moto skips the filter resource; the parameters and the
    // template are what CloudFormation resolves: tests/python/test_template_rules.py resolves them).
    assert_eq!(
        stack_parameter(&c, "lppg", "Principal").as_deref(),
        Some("role")
    );
    let body = block_on(c.cfn.get_template().stack_name("lppg").send()).unwrap();
    assert!(body
        .template_body()
        .unwrap()
        .contains("$.userIdentity.sessionContext.sessionIssuer.arn = \"${RoleArn}\""));

    // credentials: credential_process JSON only, of a session of the generator role.
    let creds = as_session(&moto, dir.path(), &alice)
        .args(["credentials"])
        .expect_code(0)
        .run();
    let v: serde_json::Value =
        serde_json::from_str(creds.stdout.trim()).unwrap_or_else(|_| panic!("{}", creds.dump()));
    assert_eq!(v["Version"], 1);
    for k in [
        "AccessKeyId",
        "SecretAccessKey",
        "SessionToken",
        "Expiration",
    ] {
        assert!(v[k].as_str().is_some_and(|s| !s.is_empty()), "{k}: {v}");
    }
    assert_eq!(creds.stdout.lines().count(), 1);
    let who = caller_of(&moto, &v);
    assert_eq!(
        who,
        "arn:aws:sts::123456789012:assumed-role/lppg-role/lppg-alice"
    );

    // exec: a child sees a session of the generator role, no profile, and its exit code comes back.
    let script = "import boto3, os, sys\n\
                  print(boto3.client('sts').get_caller_identity()['Arn'])\n\
                  print('profile', os.environ.get('AWS_PROFILE'))\n\
                  sys.exit(3)";
    let python = venv_bin("python");
    let run = as_session(&moto, dir.path(), &alice)
        .env("AWS_PROFILE", "someone-else")
        .args(["exec", "--", python.to_str().unwrap(), "-c", script])
        .expect_code(3)
        .run();
    assert!(
        run.stdout
            .contains("arn:aws:sts::123456789012:assumed-role/lppg-role/lppg-alice"),
        "{}",
        run.dump()
    );
    assert!(run.stdout.contains("profile None"), "{}", run.dump());
    assert!(
        run.stderr.contains("re-run it once `lppg watch`"),
        "{}",
        run.dump()
    );
    as_session(&moto, dir.path(), &alice)
        .args(["exec", "true"])
        .expect_code(0)
        .run();

    // Issue 24, defect 3: the child's SDKs get the role's credentials from lppg's loopback container-credentials
    // endpoint (AWS_CONTAINER_CREDENTIALS_FULL_URI + AWS_CONTAINER_AUTHORIZATION_TOKEN, as the SDKs' container
    // provider reads them), which refuses a wrong token, and is gone when the command ends. boto3 here; the Rust SDK
    // below (lppg itself as the child). Renewal before expiry is tested with a fake clock in credential_server.rs.
    let script = "import boto3, os, urllib.request, urllib.error\n\
                  print(boto3.client('sts').get_caller_identity()['Arn'])\n\
                  uri = os.environ['AWS_CONTAINER_CREDENTIALS_FULL_URI']\n\
                  print('uri', uri)\n\
                  print('static', os.environ.get('AWS_ACCESS_KEY_ID'))\n\
                  req = urllib.request.Request(uri, headers={'Authorization': 'wrong'})\n\
                  try:\n    urllib.request.urlopen(req); print('wrong token accepted')\n\
                  except urllib.error.HTTPError as e:\n    print('wrong token', e.code)\n";
    let run = as_session(&moto, dir.path(), &alice)
        .args(["exec", "--", python.to_str().unwrap(), "-c", script])
        .expect_code(0)
        .run();
    assert!(
        run.stdout
            .contains("arn:aws:sts::123456789012:assumed-role/lppg-role/lppg-alice"),
        "{}",
        run.dump()
    );
    assert!(run.stdout.contains("static None"), "{}", run.dump());
    assert!(run.stdout.contains("wrong token 403"), "{}", run.dump());
    let uri = run
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("uri "))
        .unwrap()
        .to_string();
    assert!(uri.starts_with("http://127.0.0.1:"), "loopback only: {uri}");
    let addr = uri.trim_start_matches("http://").trim_end_matches('/');
    assert!(
        std::net::TcpStream::connect(addr).is_err(),
        "the endpoint outlived the command"
    );
    // The Rust SDK as the child: lppg itself, whose caller is then the endpoint's session of the role.
    let inner = as_session(&moto, dir.path(), &alice)
        .args([
            "exec",
            "--",
            env!("CARGO_BIN_EXE_lppg"),
            "credentials",
            "--no-cache",
        ])
        .expect_code(0)
        .run();
    let v: serde_json::Value =
        serde_json::from_str(inner.stdout.trim()).unwrap_or_else(|_| panic!("{}", inner.dump()));
    let who = caller_of(&moto, &v);
    // Named after its caller, the endpoint's session lppg-alice.
    assert_eq!(
        who,
        "arn:aws:sts::123456789012:assumed-role/lppg-role/lppg-lppg-alice"
    );
    // SIGTERM sent to lppg reaches the command, whose exit status comes back.
    let mut cmd = crate::common::lppg_command(dir.path());
    cmd.env("AWS_ENDPOINT_URL", &moto.url);
    for (k, v) in &alice {
        cmd.env(k, v);
    }
    let mut child = cmd
        .args([
            "exec",
            "--",
            "sh",
            "-c",
            "trap 'exit 42' TERM; echo ready; while :; do sleep 0.1; done",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut ready = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.take().unwrap()),
        &mut ready,
    )
    .unwrap();
    assert_eq!(ready.trim(), "ready");
    std::process::Command::new("kill")
        .args(["-s", "TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert_eq!(child.wait().unwrap().code(), Some(42));

    // Refusals: exit 2 and nothing changes.
    let template_before = stack_parameter(&c, "lppg", "TrustPrincipalArns");
    as_session(&moto, dir.path(), &alice)
        .args(["up", "--yes", "--principal", "user", "--no-password"])
        .expect_code(2)
        .expect_stderr_contains("`lppg down` and `lppg up --principal user`")
        .run();
    as_session(&moto, dir.path(), &alice)
        .args(["up", "--yes", "--password-stdin"])
        .stdin("Secret-Passw0rd!")
        .expect_code(2)
        .expect_stderr_contains("--password-stdin cannot be used with --principal role")
        .run();
    as_session(&moto, dir.path(), &alice)
        .args([
            "up",
            "--yes",
            "--principal",
            "role",
            "--stack-name",
            "other",
            "--trust",
        ])
        .arg(format!("arn:aws:iam::{ACCOUNT}:role/nobody"))
        .expect_code(2)
        .expect_stderr_contains("no such IAM role in account 123456789012")
        .run();
    as_session(&moto, dir.path(), &alice)
        .args([
            "up",
            "--yes",
            "--principal",
            "role",
            "--stack-name",
            "other",
            "--trust",
        ])
        .arg("arn:aws:sts::123456789012:federated-user/bob")
        .expect_code(2)
        .run();
    assert!(block_on(c.cfn.describe_stacks().stack_name("other").send()).is_err());
    assert_eq!(
        stack_parameter(&c, "lppg", "TrustPrincipalArns"),
        template_before
    );
    assert_eq!(
        stack_parameter(&c, "lppg", "Principal").as_deref(),
        Some("role")
    );

    // An update keeps the trust; status names the role.
    let again = as_session(&moto, dir.path(), &alice)
        .args(["up", "--yes"])
        .expect_code(0)
        .run();
    assert!(again.stderr.contains("up to date"), "{}", again.dump());
    let status = moto.lppg(dir.path(), &["status"]).expect_code(1).run();
    assert!(
        status
            .stderr
            .contains("role arn:aws:iam::123456789012:role/lppg-role"),
        "{}",
        status.dump()
    );

    // mark, watch and export-policy work as for a user; watch names the principal it follows.
    moto.lppg(dir.path(), &["mark", "Deploy"]).run();
    let watch = moto
        .test(dir.path())
        .args(["watch", "--once", "--since", "1h"])
        .expect_code(0)
        .run();
    assert!(
        watch
            .stderr
            .contains("following the role arn:aws:iam::123456789012:role/lppg-role"),
        "{}",
        watch.dump()
    );
    moto.test(dir.path())
        .args(["export-policy"])
        .expect_code(0)
        .expect_stdout_contains("ec2:DescribeInstances")
        .run();

    // down leaves nothing of the generator (the caller's own role stays), including what blocks deleting a role
    // that CloudFormation does not manage: the inline policy of "revoke active sessions", a policy attached by hand.
    block_on(async {
        c.iam
            .put_role_policy()
            .role_name("lppg-role")
            .policy_name("AWSRevokeOlderSessions")
            .policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"DateLessThan":{"aws:TokenIssueTime":"2026-01-01T00:00:00Z"}}}]}"#)
            .send()
            .await
            .unwrap();
        let extra = c
            .iam
            .create_policy()
            .policy_name("team-extra")
            .policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListAllMyBuckets","Resource":"*"}]}"#)
            .send()
            .await
            .unwrap();
        c.iam
            .attach_role_policy()
            .role_name("lppg-role")
            .policy_arn(extra.policy().unwrap().arn().unwrap())
            .send()
            .await
            .unwrap();
    });
    let down = moto.lppg(dir.path(), &["down", "--yes", "--no-wait"]).run();
    assert!(
        down.stderr
            .contains("inline policy AWSRevokeOlderSessions of role lppg-role")
            && down
                .stderr
                .contains("policy/team-extra attached to role lppg-role"),
        "{}",
        down.dump()
    );
    block_on(async {
        assert!(c
            .iam
            .get_role()
            .role_name("lppg-role")
            .send()
            .await
            .is_err());
        for p in 1..=9 {
            let arn = format!("arn:aws:iam::{ACCOUNT}:policy/lppg-policy-{p}");
            assert!(c.iam.get_policy().policy_arn(arn).send().await.is_err());
        }
        assert!(c.iam.get_role().role_name("Deployer").send().await.is_ok());
        let extra = format!("arn:aws:iam::{ACCOUNT}:policy/team-extra");
        assert!(
            c.iam.get_policy().policy_arn(extra).send().await.is_ok(),
            "not the generator's"
        );
        assert!(c
            .cfn
            .describe_stacks()
            .stack_name("lppg")
            .send()
            .await
            .is_err());
    });
    assert!(std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(Result::ok)
        .any(|e| e
            .file_name()
            .to_string_lossy()
            .starts_with("lppg-policy-lppg-")));
}

#[test]
fn role_mode_trusts_given_principals_and_identity_center_roles() {
    let moto = Moto::start();
    let dir = TempDir::new("role-trust");
    let c = moto.clients();
    // An Identity Center permission set's role: trusted through a pattern that survives re-provisioning.
    let sso = session_of(
        &c,
        "AWSReservedSSO_Developer_0a1b2c3d4e5f6a7b",
        "/aws-reserved/sso.amazonaws.com/eu-west-1/",
        "alice@example.com",
    );
    block_on(c.iam.create_user().user_name("ci").send()).unwrap();
    as_session(&moto, dir.path(), &sso)
        .args([
            "up",
            "--yes",
            "--principal",
            "role",
            "--role-name",
            "observed",
        ])
        .expect_code(0)
        .expect_stderr_contains("roleName=observed")
        .run();
    assert_eq!(
        stack_parameter(&c, "lppg", "TrustPrincipalArns").as_deref(),
        Some("arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/*AWSReservedSSO_Developer_*")
    );
    // An update without flags keeps the role's name and its trust.
    as_session(&moto, dir.path(), &sso)
        .args(["up", "--yes"])
        .expect_code(0)
        .expect_stderr_contains("up to date")
        .run();
    assert_eq!(
        stack_parameter(&c, "lppg", "RoleName").as_deref(),
        Some("observed")
    );
    moto.lppg(dir.path(), &["down", "--yes", "--no-wait"]).run();
    assert!(block_on(c.iam.get_role().role_name("observed").send()).is_err());

    // --trust replaces the caller; a user is trusted as it is.
    moto.test(dir.path())
        .args(["up", "--yes", "--principal", "role", "--trust"])
        .arg(format!("arn:aws:iam::{ACCOUNT}:user/ci"))
        .expect_code(0)
        .run();
    assert_eq!(
        stack_parameter(&c, "lppg", "TrustPrincipalArns").as_deref(),
        Some("arn:aws:iam::123456789012:user/ci")
    );
    assert_eq!(
        stack_parameter(&c, "lppg", "TrustAccounts").as_deref(),
        Some("arn:aws:iam::123456789012:root")
    );
    // A stack observing a user has no role credentials to give.
    moto.lppg(dir.path(), &["down", "--yes", "--no-wait"]).run();
    moto.lppg(dir.path(), &["up", "--yes", "--no-password"])
        .run();
    moto.test(dir.path())
        .args(["credentials"])
        .expect_code(2)
        .expect_stdout("")
        .expect_stderr_contains("observes the IAM user")
        .run();
    moto.test(dir.path())
        .args(["up", "--yes", "--principal", "role"])
        .expect_code(2)
        .expect_stderr_contains("lose what was granted")
        .run();
    assert_eq!(
        stack_parameter(&c, "lppg", "Principal").as_deref(),
        Some("user")
    );

    // With the stack gone, `down --role-name` finds a straggling role of the generator by its tags.
    moto.lppg(dir.path(), &["down", "--yes", "--no-wait"]).run();
    block_on(async {
        let tag = |k: &str, v: &str| {
            aws_sdk_iam::types::Tag::builder()
                .key(k)
                .value(v)
                .build()
                .unwrap()
        };
        c.iam
            .create_role()
            .role_name("observed")
            .assume_role_policy_document(r#"{"Version":"2012-10-17","Statement":[]}"#)
            .tags(tag("lppg:stack", "lppg"))
            .tags(tag("lppg:region", "us-east-1"))
            .send()
            .await
            .unwrap();
    });
    moto.test(dir.path())
        .args(["down", "--yes", "--no-wait", "--role-name", "observed"])
        .expect_code(0)
        .expect_stderr_contains("observed")
        .run();
    assert!(block_on(c.iam.get_role().role_name("observed").send()).is_err());
}

/// Runs the project's Python with only the variables given (plus PATH), killed after 60 s: a credential_process
/// that starts itself without end shows as a timeout, not a hung test.
fn python_tool(dir: &std::path::Path, env: &[(&str, String)], script: &str) -> crate::common::Run {
    let mut cmd = std::process::Command::new("timeout");
    cmd.args(["60", venv_bin("python").to_str().unwrap(), "-c", script])
        .current_dir(dir)
        .env_clear();
    if let Some(p) = std::env::var_os("PATH") {
        cmd.env("PATH", p);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    crate::common::run(cmd, None)
}

/// Issue 24, defect 2. The profile `up` prints, put in a real config file and exported as AWS_PROFILE (what `up`
/// suggests), used by a boto3 client: `lppg credentials` inherits AWS_PROFILE and must not load that profile (whose
/// credential_process is itself: aws/aws-cli#7398) but the caller's own credentials (here the default chain's
/// [default] profile). The role session is cached in a file only the user can read (the AWS CLI keeps its own
/// under ~/.aws/cli/cache the same way) and reused until about 5 minutes before it expires; `--no-cache` starts a
/// new one. A profile that names itself explicitly is refused instead of starting itself again.
#[test]
fn credentials_through_an_exported_profile_never_run_themselves_and_are_cached() {
    let moto = Moto::start();
    let dir = TempDir::new("role-profile");
    let c = moto.clients();
    let alice = session_of(&c, "Deployer", "/team/", "alice");
    as_session(&moto, dir.path(), &alice)
        .args(["up", "--yes", "--principal", "role", "--no-probe"])
        .expect_code(0)
        .run();
    let bin = env!("CARGO_BIN_EXE_lppg");
    let key = |k: &str| alice.iter().find(|(n, _)| n == k).unwrap().1.clone();
    std::fs::write(
        dir.path().join("credentials"),
        format!(
            "[default]\naws_access_key_id = {}\naws_secret_access_key = {}\naws_session_token = {}\n",
            key("AWS_ACCESS_KEY_ID"),
            key("AWS_SECRET_ACCESS_KEY"),
            key("AWS_SESSION_TOKEN")
        ),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("config"),
        format!(
            "[default]\nregion = us-east-1\n\n\
             [profile lppg-lppg]\ncredential_process = {bin} credentials --stack-name lppg --region us-east-1\n\
             region = us-east-1\n\n\
             [profile itself]\ncredential_process = {bin} credentials --stack-name lppg --region us-east-1 \
             --profile itself\nregion = us-east-1\n"
        ),
    )
    .unwrap();
    let d = |name: &str| dir.path().join(name).to_string_lossy().into_owned();
    let env = vec![
        ("HOME", d(".")),
        ("AWS_CONFIG_FILE", d("config")),
        ("AWS_SHARED_CREDENTIALS_FILE", d("credentials")),
        ("AWS_PROFILE", "lppg-lppg".to_string()),
        ("AWS_ENDPOINT_URL", moto.url.clone()),
        ("AWS_EC2_METADATA_DISABLED", "true".to_string()),
        ("XDG_CACHE_HOME", d("cache")),
    ];
    let script = "import boto3\n\
                  for _ in range(2):\n\
                  \x20   s = boto3.session.Session()\n\
                  \x20   print(s.client('sts').get_caller_identity()['Arn'], s.get_credentials().access_key)\n";
    let run = python_tool(dir.path(), &env, script);
    assert_eq!(run.code, 0, "{}", run.dump());
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{}", run.dump());
    let (who, first_key) = lines[0].split_once(' ').unwrap();
    assert_eq!(
        who,
        "arn:aws:sts::123456789012:assumed-role/lppg-role/lppg-alice"
    );
    assert_eq!(lines[1].split_once(' ').unwrap().1, first_key, "cached");

    // The cache: one file, the user's alone, holding that session.
    let cache = dir.path().join("cache/lppg");
    let files: Vec<_> = std::fs::read_dir(&cache)
        .unwrap()
        .filter_map(Result::ok)
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    use std::os::unix::fs::PermissionsExt;
    let mode = files[0].metadata().unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    assert!(files[0]
        .file_name()
        .to_string_lossy()
        .starts_with("credentials-123456789012-us-east-1-lppg-"));

    // --no-cache: a new session.
    let fresh = python_tool(
        dir.path(),
        &env,
        &format!(
            "import subprocess, json\n\
             out = subprocess.run([{bin:?}, 'credentials', '--stack-name', 'lppg', '--region', 'us-east-1', \
             '--no-cache'], capture_output=True, text=True)\n\
             print(json.loads(out.stdout)['AccessKeyId'])\n"
        ),
    );
    assert_eq!(fresh.code, 0, "{}", fresh.dump());
    assert_ne!(fresh.stdout.trim(), first_key);

    // A profile that names itself: refused with the way out, not started again and again.
    let mut own = env.clone();
    own.retain(|(k, _)| *k != "AWS_PROFILE");
    own.push(("AWS_PROFILE", "itself".to_string()));
    let looped = python_tool(
        dir.path(),
        &own,
        "import boto3\nprint(boto3.client('sts').get_caller_identity()['Arn'])\n",
    );
    assert_ne!(looped.code, 0, "{}", looped.dump());
    assert_ne!(
        looped.code,
        124,
        "timed out: the profile ran itself\n{}",
        looped.dump()
    );
    assert!(
        looped
            .stderr
            .contains("started by its own profile's credential_process"),
        "{}",
        looped.dump()
    );
}

/// Who the emulator says the `credential_process` JSON `v` (AccessKeyId, SecretAccessKey, SessionToken) is, asked
/// with the Rust SDK through lppg's own HTTPS client.
fn caller_of(moto: &Moto, v: &serde_json::Value) -> String {
    block_on(async {
        let conf = lppg::aws::config_loader()
            .region(aws_config::Region::new("us-east-1"))
            .endpoint_url(format!("http://127.0.0.1:{}", moto.port))
            .credentials_provider(aws_sdk_sts::config::Credentials::new(
                v["AccessKeyId"].as_str().unwrap(),
                v["SecretAccessKey"].as_str().unwrap(),
                v["SessionToken"].as_str().map(str::to_string),
                None,
                "lppg",
            ))
            .load()
            .await;
        aws_sdk_sts::Client::new(&conf)
            .get_caller_identity()
            .send()
            .await
            .unwrap()
            .arn()
            .unwrap()
            .to_string()
    })
}
