//! The fast path end to end on the emulator: `up` deploys the generator's EventBridge rule and a forwarder stack in
//! each chosen region (in parallel), `status` shows one line per region, an `up` with other `--regions` adds and
//! removes forwarders, and `down` leaves nothing in any region, checked region by region.
//!
//! moto creates the rules, targets and roles but delivers no CloudTrail event to EventBridge and forwards nothing
//! across regions: what events reach the rules, and that the forwarders deliver to the home bus, rest on the
//! EventBridge User Guide ("Receiving read-only management events from AWS services", "Sending and receiving events
//! between AWS Regions"); the pattern itself is judged against the shared vectors in tests/python/test_fast_path.py.
#![allow(clippy::too_many_lines)] // scenario tests read top to bottom

use crate::common::{block_on, Moto, TempDir};

const HOME: &str = "eu-west-1";
const FORWARDER: &str = "lppg-forwarder";

/// The forwarder stack's status in `region` (`None`: no stack there), and the resources it holds.
fn forwarder_in(moto: &Moto, region: &str) -> Option<(String, Vec<String>)> {
    let c = moto.clients_in(region);
    block_on(async {
        let st = lppg::aws::stack::describe(&c, FORWARDER).await.unwrap()?;
        let resources = lppg::aws::stack::resources(&c, FORWARDER).await.unwrap();
        Some((
            st.status.to_string(),
            resources.values().map(|(kind, _)| kind.clone()).collect(),
        ))
    })
}

#[test]
fn up_deploys_forwarders_per_region_and_down_removes_them_all() {
    let moto = Moto::start();
    let dir = TempDir::new("fast-path");
    let run = |args: &[&str]| {
        moto.test(dir.path())
            .env("AWS_REGION", HOME)
            .args(args)
            .run()
    };

    let up = run(&[
        "up",
        "--yes",
        "--no-password",
        "--no-probe",
        "--regions",
        "us-east-1,ap-southeast-2",
    ]);
    for region in ["us-east-1", "ap-southeast-2"] {
        assert!(
            up.stderr
                .contains(&format!("fast path {region}: forwarder created")),
            "{}",
            up.dump()
        );
        let (status, kinds) = forwarder_in(&moto, region).expect("a forwarder stack");
        assert_eq!(status, "CREATE_COMPLETE");
        assert!(
            kinds.contains(&"AWS::Events::Rule".to_string())
                && kinds.contains(&"AWS::IAM::Role".to_string()),
            "{kinds:?}"
        );
    }
    assert!(
        forwarder_in(&moto, HOME).is_none(),
        "no forwarder in the home region"
    );
    // The home stack remembers the regions; its own rule is there.
    let home = moto.clients_in(HOME);
    let resources = block_on(lppg::aws::stack::resources(&home, "lppg")).unwrap();
    assert_eq!(
        resources.get("FastPathRule").map(|r| r.1.as_str()),
        Some("lppg-fast-path")
    );

    let status = moto
        .test(dir.path())
        .env("AWS_REGION", HOME)
        .args(["status"])
        .expect_code(1) // the emulator creates no trail or subscription: unhealthy
        .run();
    let text = format!("{}{}", status.stdout, status.stderr);
    assert!(text.contains("ok   fast path"), "{}", status.dump());
    for region in ["ap-southeast-2", "us-east-1"] {
        assert!(
            text.contains(&format!(
                "ok   forwarder      {region}: {FORWARDER} CREATE_COMPLETE"
            )),
            "{}",
            status.dump()
        );
    }

    // A forwarder removed by hand: `up` with nothing else to change brings it back.
    let east = moto.clients_in("us-east-1");
    block_on(lppg::aws::stack::delete(&east, FORWARDER)).unwrap();
    assert!(forwarder_in(&moto, "us-east-1").is_none());
    let restored = run(&["up", "--yes", "--no-password", "--no-probe"]);
    assert!(
        restored
            .stderr
            .contains("fast path us-east-1: forwarder created")
            && restored
                .stderr
                .contains("fast path ap-southeast-2: forwarder up to date"),
        "{}",
        restored.dump()
    );

    // An update with other regions: one added, one dropped, one left alone.
    let again = run(&[
        "up",
        "--yes",
        "--no-password",
        "--no-probe",
        "--regions",
        "us-east-1,eu-north-1",
    ]);
    for line in [
        "fast path eu-north-1: forwarder created",
        "fast path ap-southeast-2: forwarder removed (checked: no stack left)",
        "fast path us-east-1: forwarder up to date",
    ] {
        assert!(again.stderr.contains(line), "{line}\n{}", again.dump());
    }
    assert!(forwarder_in(&moto, "ap-southeast-2").is_none());
    assert!(forwarder_in(&moto, "eu-north-1").is_some());

    // down: every region, each checked.
    let down = run(&["down", "--yes", "--no-wait", "--no-save"]);
    for region in ["eu-north-1", "us-east-1"] {
        assert!(
            down.stderr.contains(&format!(
                "fast path {region}: forwarder removed (checked: no stack left)"
            )),
            "{}",
            down.dump()
        );
    }
    for region in ["us-east-1", "ap-southeast-2", "eu-north-1", HOME] {
        assert!(forwarder_in(&moto, region).is_none(), "{region}");
    }
    let roles = block_on(home.iam.list_roles().send()).unwrap();
    let left: Vec<&str> = roles
        .roles()
        .iter()
        .map(|r| r.role_name())
        .filter(|n| n.starts_with("lppg-"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn no_fast_path_deploys_no_rule_and_no_forwarder() {
    let moto = Moto::start();
    let dir = TempDir::new("no-fast-path");
    moto.test(dir.path())
        .env("AWS_REGION", HOME)
        .args([
            "up",
            "--yes",
            "--no-password",
            "--no-probe",
            "--no-fast-path",
        ])
        .run();
    let home = moto.clients_in(HOME);
    let resources = block_on(lppg::aws::stack::resources(&home, "lppg")).unwrap();
    assert!(!resources.contains_key("FastPathRule"), "{resources:?}");
    assert!(!resources.contains_key("FastPathPermission"));
    assert!(forwarder_in(&moto, "us-east-1").is_none());
    let status = moto
        .test(dir.path())
        .env("AWS_REGION", HOME)
        .args(["status"])
        .expect_code(1) // the emulator creates no trail or subscription: unhealthy
        .run();
    assert!(
        format!("{}{}", status.stdout, status.stderr)
            .contains("off (--no-fast-path): denied calls arrive through CloudWatch Logs only"),
        "{}",
        status.dump()
    );
}
