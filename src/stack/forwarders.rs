//! The fast path in other regions: EventBridge is regional, so each region where the procedure may run gets a
//! small forwarder stack (`assets/forwarder.yaml`: a rule with the generator rule's pattern whose target is the
//! generator region's default bus, through a role that may only put events there). Created, updated and removed
//! in parallel, one outcome per region; a region that refuses (an SCP, a region not enabled) is named and skipped.
//! The regions are remembered in the generator stack's `ForwarderRegions` parameter.
use super::Generator;
use crate::aws::{stack, Clients};
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

/// The forwarder regions for `--regions a,b` (checked, without the home region, sorted); without the flag, the
/// stack's remembered list, or for a new stack us-east-1 (where global services' calls — IAM, STS's global
/// endpoint, CloudFront, Route 53 — arrive) unless that is home.
pub fn choose(given: Option<&[String]>, kept: Option<&str>, home: &str) -> Result<Vec<String>> {
    let list: Vec<String> = match (given, kept) {
        (Some(g), _) => g.iter().map(|r| r.trim().to_string()).collect(),
        (None, Some(k)) => k.split(',').map(|r| r.trim().to_string()).collect(),
        (None, None) => vec!["us-east-1".to_string()],
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

impl Generator {
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

async fn collect(mut set: tokio::task::JoinSet<(String, Outcome)>) -> Vec<(String, Outcome)> {
    let mut out = Vec::new();
    while let Some(done) = set.join_next().await {
        match done {
            Ok(pair) => out.push(pair),
            Err(e) => out.push(("?".into(), Outcome::Skipped(format!("task failed: {e}")))),
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
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
        assert_eq!(
            choose(Some(&given), None, "us-east-1").unwrap(),
            vec!["eu-west-1"]
        );
        assert_eq!(
            choose(None, Some("ap-southeast-3,eu-central-1"), "us-east-1").unwrap(),
            vec!["ap-southeast-3", "eu-central-1"]
        );
        assert_eq!(choose(None, None, "eu-west-1").unwrap(), vec!["us-east-1"]);
        assert!(choose(None, None, "us-east-1").unwrap().is_empty());
        assert!(choose(None, Some(""), "eu-west-1").unwrap().is_empty());
        assert!(choose(Some(&["Europe".to_string()]), None, "us-east-1").is_err());
        assert!(is_region_name("us-gov-west-1") && !is_region_name("us-east"));
    }
}
