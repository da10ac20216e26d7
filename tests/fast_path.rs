//! The fast path end to end on the emulator: `up` deploys the generator's EventBridge rule and a forwarder stack in
//! each chosen region (in parallel), `status` shows one line per region, an `up` with other `--regions` adds and
//! removes forwarders, and `down` leaves nothing in any region, checked region by region.
//!
//! moto creates the rules, targets and roles but delivers no CloudTrail event to EventBridge and forwards nothing
//! across regions: what events reach the rules, and that the forwarders deliver to the home bus, rest on the
//! EventBridge User Guide ("Receiving read-only management events from AWS services", "Sending and receiving events
//! between AWS Regions"); the pattern itself is judged against the shared vectors in tests/python/test_fast_path.py.
#![allow(clippy::too_many_lines)] // scenario tests read top to bottom

use crate::common::{block_on, FastPathBoundary, Moto, TempDir};
use serde_json::json;

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

/// A region as the Account API Reference's ListRegions answers it.
fn region(name: &str, status: &str) -> serde_json::Value {
    json!({"RegionName": name, "RegionOptStatus": status})
}

/// Issue 22: without `--regions`, a new stack's fast path covers every region enabled in the account, opted-in ones
/// too, and us-east-1 always (account:ListRegions, `RegionOptStatusContains` ENABLED and ENABLED_BY_DEFAULT, paged;
/// Account API Reference, ListRegions). moto has no ListRegions: the boundary answers it. Refused, the default is
/// the home region and us-east-1, with one warning naming the permission and `--regions`.
#[test]
fn up_forwards_from_every_enabled_region_by_default() {
    let moto = Moto::start();
    let dir = TempDir::new("fast-path-regions");
    let boundary = FastPathBoundary::start(
        &moto,
        json!({"page_size": 2, "regions": [
            region(HOME, "ENABLED_BY_DEFAULT"),
            region("us-west-2", "ENABLED_BY_DEFAULT"),
            region("me-south-1", "DISABLED"),
            region("ap-east-1", "ENABLED"),
        ]}),
    );
    let up = boundary
        .env(moto.test(dir.path()))
        .env("AWS_REGION", HOME)
        .args(["up", "--yes", "--no-password", "--no-probe"])
        .expect_stderr_lacks("ListRegions")
        .run();
    for r in ["ap-east-1", "us-east-1", "us-west-2"] {
        assert!(
            up.stderr
                .contains(&format!("fast path {r}: forwarder created")),
            "{}",
            up.dump()
        );
        assert!(forwarder_in(&moto, r).is_some(), "{r}");
    }
    assert!(
        forwarder_in(&moto, "me-south-1").is_none(),
        "a disabled region"
    );
    let asked = boundary.requests("ListRegions");
    assert_eq!(asked.len(), 2, "two pages: {asked:?}");
    assert_eq!(
        asked[0]["body"]["RegionOptStatusContains"],
        json!(["ENABLED", "ENABLED_BY_DEFAULT"])
    );
    assert!(asked[0]["body"].get("NextToken").is_none());
    assert_eq!(asked[1]["body"]["NextToken"], "2");
    // The stack remembers them: the next `up` does not ask again.
    boundary
        .env(moto.test(dir.path()))
        .env("AWS_REGION", HOME)
        .args(["up", "--yes", "--no-password", "--no-probe"])
        .expect_stderr_contains("fast path ap-east-1: forwarder up to date")
        .run();
    assert_eq!(boundary.requests("ListRegions").len(), 2);

    // Refused: the home region and us-east-1, said once.
    boundary.configure(json!({"deny_account": true}));
    let refused = boundary
        .env(moto.test(dir.path()))
        .env("AWS_REGION", HOME)
        .env("LPPG_STACK_NAME", "other")
        .args(["up", "--yes", "--no-password", "--no-probe"])
        .run();
    let warnings: Vec<&str> = refused
        .stderr
        .lines()
        .filter(|l| l.starts_with("warning:") && l.contains("account:ListRegions"))
        .collect();
    assert_eq!(warnings.len(), 1, "{}", refused.dump());
    assert!(
        refused
            .stderr
            .contains("the fast path covers eu-west-1 and us-east-1 only")
            && refused.stderr.contains("--regions")
            && refused
                .stderr
                .contains("fast path us-east-1: forwarder created")
            && !refused.stderr.contains("fast path us-west-2"),
        "{}",
        refused.dump()
    );
}

/// Issue 22: the home stack, which remembers the forwarder regions, is gone (deleted by hand, or a `down`
/// interrupted after deleting it): `down` looks for the forwarder stack in every region enabled in the account
/// (ListRegions at the boundary) and removes those that carry this generator's mark, checked region by region; a
/// stack of that name forwarding to another home region is named and left alone.
#[test]
fn down_finds_forwarders_when_the_home_stack_is_gone() {
    let moto = Moto::start();
    let dir = TempDir::new("fast-path-orphans");
    let enabled: Vec<serde_json::Value> = [
        "us-east-1",
        HOME,
        "ap-southeast-2",
        "eu-north-1",
        "sa-east-1",
    ]
    .map(|r| region(r, "ENABLED_BY_DEFAULT"))
    .into();
    let boundary = FastPathBoundary::start(&moto, json!({ "regions": enabled }));
    let run = |args: &[&str]| {
        boundary
            .env(moto.test(dir.path()))
            .env("AWS_REGION", HOME)
            .args(args)
            .run()
    };
    run(&[
        "up",
        "--yes",
        "--no-password",
        "--no-probe",
        "--regions",
        "us-east-1,ap-southeast-2",
    ]);
    // Another home's forwarder of a generator with the same name, in a region of its own.
    let north = moto.clients_in("eu-north-1");
    let params: std::collections::BTreeMap<String, String> = [
        ("GeneratorStack", "lppg"),
        ("HomeRegion", "ap-south-1"),
        ("Principal", "user"),
        ("PrincipalArn", "arn:aws:iam::123456789012:user/someone"),
    ]
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .into();
    let template = lppg::assets::render_forwarder().unwrap();
    block_on(lppg::aws::stack::create(
        &north, FORWARDER, &template, &params,
    ))
    .unwrap();
    // The home stack deleted behind lppg's back. moto answers DeleteConflict (the user's managed policies are
    // attached) but the stack is gone all the same (emulator notes, "delete_stack").
    let home = moto.clients_in(HOME);
    let _ = block_on(lppg::aws::stack::delete(&home, "lppg"));
    assert!(block_on(lppg::aws::stack::describe(&home, "lppg"))
        .unwrap()
        .is_none());

    let down = run(&["down", "--yes", "--no-wait", "--no-save"]);
    assert!(
        down.stderr
            .contains("forwarder  lppg-forwarder in ap-southeast-2, us-east-1"),
        "{}",
        down.dump()
    );
    for r in ["ap-southeast-2", "us-east-1"] {
        assert!(
            down.stderr.contains(&format!(
                "fast path {r}: forwarder removed (checked: no stack left)"
            )),
            "{}",
            down.dump()
        );
        assert!(forwarder_in(&moto, r).is_none(), "{r}");
    }
    assert!(
        down.stderr.contains(
            "stack lppg-forwarder in eu-north-1 is not the forwarder of generator lppg in eu-west-1 (it forwards \
             to generator lppg in ap-south-1): left alone"
        ),
        "{}",
        down.dump()
    );
    assert!(forwarder_in(&moto, "eu-north-1").is_some());
    assert_eq!(boundary.requests("ListRegions").len(), 1);
}
