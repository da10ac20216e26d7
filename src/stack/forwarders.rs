//! The fast path in other regions: EventBridge is regional, so each region where the procedure may run gets a
//! small forwarder stack (`assets/forwarder.yaml`: a rule with the generator rule's pattern whose target is the
//! generator region's default bus, through a role that may only put events there). Created, updated and removed
//! in parallel, one outcome per region; a region that refuses (an SCP, a region not enabled) is named and skipped.
//! The regions are remembered in the generator stack's `ForwarderRegions` parameter; a new stack's default is every
//! region enabled in the account (Account API Reference, ListRegions). When the home stack is gone, `down` finds
//! the forwarders left behind by looking in every enabled region ([`Generator::find_forwarders`]).
use super::Generator;
use crate::aws::ownership::{mark_of_tags, Mark};
use crate::aws::{account, stack, Clients};
use crate::state::StackStatus;
use anyhow::{bail, Result};
use std::collections::{BTreeMap, BTreeSet, HashSet};

/// The home stack's parameter that lists the forwarder regions.
pub const REGIONS_PARAMETER: &str = "ForwarderRegions";

/// The forwarder stack's name (the same in every region).
pub fn stack_name(generator: &str) -> String {
    format!("{generator}-forwarder")
}

/// Whether a region name has the shape AWS region names have (`eu-west-1`, `us-gov-west-1`, `ap-southeast-3`).
fn is_region_name(r: &str) -> bool {
    let parts: Vec<&str> = r.split('-').collect();
    parts.len() >= 3
        && parts[0].len() == 2
        && parts.iter().all(|p| !p.is_empty())
        && parts[..parts.len() - 1]
            .iter()
            .all(|p| p.chars().all(|c| c.is_ascii_lowercase()))
        && parts[parts.len() - 1].chars().all(|c| c.is_ascii_digit())
}

/// The region where calls to global services (IAM, STS's global endpoint, CloudFront, Route 53, Organizations)
/// reach EventBridge: always covered by default.
pub const GLOBAL_REGION: &str = "us-east-1";

/// The forwarder regions for `--regions a,b` (checked, without the home region, sorted); without the flag, the
/// stack's remembered list, or for a new stack (or one turning the fast path on) every region `enabled` in the
/// account plus us-east-1 (where global services' calls arrive), the home region left out. `enabled` is empty when
/// the account's regions could not be listed: then us-east-1 alone.
pub fn choose(
    given: Option<&[String]>,
    kept: Option<&str>,
    enabled: &[String],
    home: &str,
) -> Result<Vec<String>> {
    let list: Vec<String> = match (given, kept) {
        (Some(g), _) => g.iter().map(|r| r.trim().to_string()).collect(),
        (None, Some(k)) => k.split(',').map(|r| r.trim().to_string()).collect(),
        (None, None) => enabled
            .iter()
            .cloned()
            .chain([GLOBAL_REGION.to_string()])
            .collect(),
    };
    let mut out = BTreeSet::new();
    for r in list.into_iter().filter(|r| !r.is_empty()) {
        if !is_region_name(&r) {
            bail!("--regions: {r:?} is not a region name (e.g. eu-west-1)");
        }
        if r != home {
            out.insert(r);
        }
    }
    Ok(out.into_iter().collect())
}

/// What happened in one region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Created,
    Updated,
    UpToDate,
    Removed,
    /// Nothing there (a removal found no stack).
    Absent,
    /// The region refused or failed: the reason; the rest go on.
    Skipped(String),
}

impl Outcome {
    pub fn describe(&self) -> String {
        match self {
            Outcome::Created => "forwarder created".into(),
            Outcome::Updated => "forwarder updated".into(),
            Outcome::UpToDate => "forwarder up to date".into(),
            Outcome::Removed => "forwarder removed (checked: no stack left)".into(),
            Outcome::Absent => "no forwarder".into(),
            Outcome::Skipped(why) => format!("skipped: {why}"),
        }
    }
}

/// One region's forwarder: create it or bring it in step, and wait.
async fn deploy_one(
    c: Clients,
    name: String,
    template: String,
    p: BTreeMap<String, String>,
) -> Outcome {
    let run = async {
        let existing = stack::describe(&c, &name).await?;
        let (id, created) = match existing {
            None => (stack::create(&c, &name, &template, &p).await?, true),
            Some(st) => {
                if st.parameters == p && stack::current_template(&c, &name).await? == template {
                    return Ok(Outcome::UpToDate);
                }
                match stack::update(&c, &name, &template, &p, &[]).await? {
                    stack::UpdateOutcome::Started(_) => (st.id.clone(), false),
                    _ => return Ok(Outcome::UpToDate),
                }
            }
        };
        let done = stack::wait(&c, &id, &mut HashSet::new(), |_| {}).await?;
        if !done.status.succeeded() {
            bail!("stack {name} is {}", done.status);
        }
        Ok::<_, anyhow::Error>(if created {
            Outcome::Created
        } else {
            Outcome::Updated
        })
    };
    run.await
        .unwrap_or_else(|e| Outcome::Skipped(format!("{e:#}")))
}

/// One region's forwarder removed, then checked gone.
async fn remove_one(c: Clients, name: String) -> Outcome {
    let run = async {
        let Some(st) = stack::describe(&c, &name).await? else {
            return Ok(Outcome::Absent);
        };
        stack::delete(&c, &name).await?;
        stack::wait(&c, &st.id, &mut HashSet::new(), |_| {}).await?;
        if let Some(left) = stack::describe(&c, &name).await? {
            bail!("stack {name} is still there ({})", left.status);
        }
        Ok::<_, anyhow::Error>(Outcome::Removed)
    };
    run.await
        .unwrap_or_else(|e| Outcome::Skipped(format!("{e:#}")))
}

/// A forwarder stack found in a region by [`Generator::find_forwarders`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    /// lppg's forwarder of this generator: its tag names it, its parameters name this generator and home region.
    Ours,
    /// A stack of that name that is not provably this generator's: why it is left alone.
    NotOurs(String),
    /// The region could not be searched: why.
    Unreadable(String),
}

/// Whether a stack called [`stack_name`] is this generator's forwarder: lppg tags each stack it creates with
/// `lppg:stack` = the stack's name (checked as the rest of teardown checks ownership, [`mark_of_tags`]), and the
/// forwarder's parameters name the generator and its home region (a generator of the same name elsewhere has a
/// forwarder of the same name, and is not ours to remove).
fn forwarder_owner(
    st: &stack::StackInfo,
    generator: &str,
    home: &str,
    region: &str,
) -> Result<(), String> {
    let name = stack_name(generator);
    let tags = st.tags.iter().map(|(k, v)| (k.as_str(), v.as_str()));
    if mark_of_tags(tags, &name, region, true) != Mark::Ours {
        return Err(format!(
            "it has no {} = {name} tag",
            crate::aws::ownership::TAG_KEY
        ));
    }
    let param = |k: &str| st.parameters.get(k).map(String::as_str).unwrap_or_default();
    if param("GeneratorStack") != generator {
        return Err(format!(
            "it forwards for stack {:?}",
            param("GeneratorStack")
        ));
    }
    if param("HomeRegion") != home {
        return Err(format!(
            "it forwards to generator {generator} in {}",
            param("HomeRegion")
        ));
    }
    Ok(())
}

/// One region searched for a forwarder: `None` when there is none.
async fn search_one(c: Clients, generator: String, home: String) -> Option<Found> {
    let name = stack_name(&generator);
    match stack::describe(&c, &name).await {
        Err(e) => Some(Found::Unreadable(format!("{e:#}"))),
        Ok(None) => None,
        Ok(Some(st)) => Some(match forwarder_owner(&st, &generator, &home, &c.region) {
            Ok(()) => Found::Ours,
            Err(why) => Found::NotOurs(why),
        }),
    }
}

impl Generator {
    /// Every region enabled in the account (enabled by default or opted in), from account:ListRegions.
    pub async fn enabled_regions(&self) -> Result<Vec<String>> {
        account::enabled_regions(&self.c).await
    }

    /// Whether the deployed stack has the fast path on (`false` without a stack, or after `--no-fast-path`).
    pub fn fast_path_on(&self) -> bool {
        self.stack
            .as_ref()
            .is_some_and(|st| st.parameters.get("FastPath").map(String::as_str) != Some("false"))
    }

    /// The forwarder regions the stack remembers for `up`: its `ForwarderRegions` while its fast path is on; `None`
    /// without a stack, or when the fast path was off (turning it on takes the default regions).
    pub fn remembered_regions(&self) -> Option<String> {
        if !self.fast_path_on() {
            return None;
        }
        self.stack
            .as_ref()?
            .parameters
            .get(REGIONS_PARAMETER)
            .cloned()
    }

    /// Looks for this generator's forwarder stack in each of `regions` at once (the home region is left out): the
    /// regions that have one, and whether it is ours. `down` uses it when the home stack, which remembers the
    /// regions, is gone.
    pub async fn find_forwarders(&self, regions: &[String]) -> Vec<(String, Found)> {
        let mut set = tokio::task::JoinSet::new();
        for r in regions.iter().filter(|r| **r != self.c.region) {
            let (c, g, h, r) = (
                self.c.in_region(r),
                self.names.stack.clone(),
                self.c.region.clone(),
                r.clone(),
            );
            set.spawn(async move { (r, search_one(c, g, h).await) });
        }
        super::joined(set, |why| ("?".into(), Some(Found::Unreadable(why))))
            .await
            .into_iter()
            .filter_map(|(r, found)| Some((r, found?)))
            .collect()
    }

    /// The forwarder regions the generator stack remembers (empty without a stack or a fast path).
    pub fn forwarder_regions(&self) -> Vec<String> {
        let Some(st) = &self.stack else {
            return Vec::new();
        };
        st.parameters
            .get(REGIONS_PARAMETER)
            .map(|v| {
                v.split(',')
                    .map(str::trim)
                    .filter(|r| !r.is_empty())
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The forwarder stack's parameters: the generator, its region and the observed principal.
    fn forwarder_parameters(&self) -> Result<BTreeMap<String, String>> {
        let mut p = BTreeMap::new();
        p.insert("GeneratorStack".into(), self.names.stack.clone());
        p.insert("HomeRegion".into(), self.c.region.clone());
        p.insert("Principal".into(), self.principal().as_str().into());
        let arn = self
            .stack
            .as_ref()
            .and_then(|s| s.output("PrincipalArn"))
            .map(str::to_string);
        let Some(arn) = arn else {
            bail!("the generator stack has no PrincipalArn output yet");
        };
        p.insert("PrincipalArn".into(), arn);
        Ok(p)
    }

    /// Brings the forwarders in step: every region of `want` created or updated, every region of `had` not in
    /// `want` removed; in parallel, one outcome per region (sorted by region).
    pub async fn sync_forwarders(
        &self,
        want: &[String],
        had: &[String],
    ) -> Result<Vec<(String, Outcome)>> {
        let template = crate::assets::render_forwarder()?;
        let p = self.forwarder_parameters()?;
        let name = stack_name(&self.names.stack);
        let mut set = tokio::task::JoinSet::new();
        for r in want {
            let (c, n, t, p, r) = (
                self.c.in_region(r),
                name.clone(),
                template.clone(),
                p.clone(),
                r.clone(),
            );
            set.spawn(async move { (r, deploy_one(c, n, t, p).await) });
        }
        for r in had.iter().filter(|r| !want.contains(r)) {
            let (c, n, r) = (self.c.in_region(r), name.clone(), r.clone());
            set.spawn(async move { (r, remove_one(c, n).await) });
        }
        Ok(collect(set).await)
    }

    /// Removes the forwarder of every region, in parallel, each checked gone.
    pub async fn remove_forwarders(&self, regions: &[String]) -> Vec<(String, Outcome)> {
        let name = stack_name(&self.names.stack);
        let mut set = tokio::task::JoinSet::new();
        for r in regions {
            let (c, n, r) = (self.c.in_region(r), name.clone(), r.clone());
            set.spawn(async move { (r, remove_one(c, n).await) });
        }
        collect(set).await
    }

    /// Each forwarder region's stack status (`None`: no stack there), or why it could not be read.
    pub async fn forwarder_states(&self) -> Vec<(String, Result<Option<StackStatus>, String>)> {
        let name = stack_name(&self.names.stack);
        let mut out = Vec::new();
        for r in self.forwarder_regions() {
            let c = self.c.in_region(&r);
            let state = stack::describe(&c, &name)
                .await
                .map(|s| s.map(|s| s.status))
                .map_err(|e| format!("{e:#}"));
            out.push((r, state));
        }
        out
    }
}

async fn collect(set: tokio::task::JoinSet<(String, Outcome)>) -> Vec<(String, Outcome)> {
    super::joined(set, |why| ("?".into(), Outcome::Skipped(why))).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_are_checked_and_home_left_out() {
        let given = vec![
            "eu-west-1".to_string(),
            " us-east-1".into(),
            "eu-west-1".into(),
        ];
        let enabled: Vec<String> = ["ap-east-1", "eu-west-1", "us-west-2"]
            .map(String::from)
            .into();
        assert_eq!(
            choose(Some(&given), None, &enabled, "us-east-1").unwrap(),
            vec!["eu-west-1"]
        );
        assert_eq!(
            choose(
                None,
                Some("ap-southeast-3,eu-central-1"),
                &enabled,
                "us-east-1"
            )
            .unwrap(),
            vec!["ap-southeast-3", "eu-central-1"]
        );
        // The default: every enabled region (opted-in ones too) and us-east-1 always, home left out.
        assert_eq!(
            choose(None, None, &enabled, "eu-west-1").unwrap(),
            vec!["ap-east-1", "us-east-1", "us-west-2"]
        );
        // The regions could not be listed: us-east-1 alone.
        assert_eq!(
            choose(None, None, &[], "eu-west-1").unwrap(),
            vec!["us-east-1"]
        );
        assert!(choose(None, None, &[], "us-east-1").unwrap().is_empty());
        assert!(choose(None, Some(""), &enabled, "eu-west-1")
            .unwrap()
            .is_empty());
        assert!(choose(Some(&["Europe".to_string()]), None, &enabled, "us-east-1").is_err());
        assert!(is_region_name("us-gov-west-1") && !is_region_name("us-east"));
    }

    /// A forwarder stack is removed only when its tag and parameters name this generator and its home region.
    #[test]
    fn a_forwarder_is_ours_only_by_its_mark_and_home() {
        let st = |tag: Option<&str>, generator: &str, home: &str| stack::StackInfo {
            id: "id".into(),
            status: StackStatus::CreateComplete,
            reason: None,
            outputs: BTreeMap::new(),
            parameters: [("GeneratorStack", generator), ("HomeRegion", home)]
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .into(),
            termination_protection: false,
            tags: tag
                .map(|t| ("lppg:stack".to_string(), t.to_string()))
                .into_iter()
                .collect(),
        };
        let ours = st(Some("lppg-forwarder"), "lppg", "eu-west-1");
        assert_eq!(
            forwarder_owner(&ours, "lppg", "eu-west-1", "us-east-1"),
            Ok(())
        );
        let e = forwarder_owner(
            &st(None, "lppg", "eu-west-1"),
            "lppg",
            "eu-west-1",
            "us-east-1",
        );
        assert!(e
            .unwrap_err()
            .contains("no lppg:stack = lppg-forwarder tag"));
        let e = forwarder_owner(&ours, "lppg", "ap-south-1", "us-east-1").unwrap_err();
        assert!(e.contains("generator lppg in eu-west-1"), "{e}");
        let other = st(Some("lppg-forwarder"), "other", "eu-west-1");
        assert!(forwarder_owner(&other, "lppg", "eu-west-1", "us-east-1").is_err());
    }
}
