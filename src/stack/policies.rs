//! The generator's policies: what they grant (each policy's default version, merged), how full they are, and
//! the final policy saved before a teardown.
use super::Generator;
use crate::policy::{self, ActionSet, GeneratedActions, Oversize, Policy, WriteOptions, Writer};
use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};

/// One generator policy as it stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyState {
    pub arn: String,
    /// Its default version (`v1` until the function first writes it).
    pub version: String,
    /// Size in characters, whitespace not counted (as IAM counts it).
    pub size: usize,
}

impl PolicyState {
    /// Whether the function has written it (a spare still holds only its placeholder in `v1`).
    pub fn in_use(&self) -> bool {
        self.version != "v1" || self.arn.ends_with("-policy-1")
    }
}

/// What the generator's policies grant, read from the default version of each.
pub struct Generated {
    pub actions: GeneratedActions,
    /// Each generator policy that exists, in fill order.
    pub policies: Vec<PolicyState>,
}

impl Generated {
    /// Every granted action, the start actions included.
    pub fn granted(&self) -> ActionSet {
        self.actions.merged(true)
    }

    /// The share of the size budget of all generator policies in use (0.0 to 1.0).
    pub fn budget_used(&self) -> f64 {
        let total: usize = self.policies.iter().map(|p| p.size).sum();
        total as f64 / (crate::naming::POLICY_COUNT * policy::MAX_POLICY_SIZE) as f64
    }
}

impl Generator {
    /// Reads and merges every generator policy's default version.
    pub async fn generated(&self) -> Result<Generated> {
        let mut docs = Vec::new();
        let mut policies = Vec::new();
        for arn in self.policy_arns() {
            let Some((version, text)) = crate::aws::iam::default_document(&self.c, &arn).await?
            else {
                continue;
            };
            let p = Policy::parse(&text).with_context(|| {
                format!("the document of {arn} {version} is not a valid policy")
            })?;
            let size = text.chars().filter(|c| !c.is_whitespace()).count();
            policies.push(PolicyState { arn, version, size });
            docs.push(p);
        }
        if policies.is_empty() {
            bail!(
                "none of the generator's policies exist (stack {}): nothing to export",
                self.names.stack
            );
        }
        Ok(Generated {
            actions: GeneratedActions::from_documents(docs.iter()),
            policies,
        })
    }

    /// Saves the final policy to `path` (default: `lppg-policy-<stack>-<time>.json`), never overwriting a file,
    /// through the one [`Writer`]: what the generator's policies grant and every denied call delivered to the
    /// trail's log group that the function has not granted ([`Generator::delivered_gap`]), as one JSON document
    /// whatever its size (a record of what was granted; `lppg export-policy --from FILE --split` splits it).
    pub async fn save_policy(&self, path: Option<&Path>) -> Result<SavedPolicy> {
        let generated = self.generated().await?;
        let granted = generated.granted();
        let gap = self.delivered_gap(&granted).await?.unwrap_or_default();
        let set = granted
            .union(&gap.actions())
            .canonicalize(policy::catalogue()?);
        let path = path.map(Path::to_path_buf).unwrap_or_else(|| {
            crate::naming::saved_policy_file_name(&self.names.stack, std::time::SystemTime::now())
                .into()
        });
        let options = WriteOptions {
            oversize: Oversize::Keep,
            ..WriteOptions::default()
        };
        let writer = Writer::new(set);
        let written = writer.write(&options)?;
        crate::files::write_new_file(&path, &written.text, false)?;
        let document = written.documents.into_iter().next().unwrap_or_default();
        Ok(SavedPolicy {
            path,
            actions: writer.set().clone(),
            gap,
            document,
        })
    }
}

/// What [`Generator::save_policy`] wrote.
pub struct SavedPolicy {
    pub path: PathBuf,
    /// The actions saved, as the catalogue spells them.
    pub actions: ActionSet,
    /// Delivered denied calls the function had not granted, whose actions were added.
    pub gap: crate::reconcile::Gap,
    /// The saved document (for Access Analyzer's check).
    pub document: serde_json::Value,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spare_policies_are_not_in_use_until_written() {
        let p = |arn: &str, v: &str| PolicyState {
            arn: arn.into(),
            version: v.into(),
            size: 10,
        };
        assert!(p("arn:aws:iam::1:policy/x-policy-1", "v1").in_use());
        assert!(!p("arn:aws:iam::1:policy/x-policy-2", "v1").in_use());
        assert!(p("arn:aws:iam::1:policy/x-policy-2", "v3").in_use());
    }
}
