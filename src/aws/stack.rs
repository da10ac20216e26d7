//! CloudFormation: find, create, update (change sets), wait with live events, delete.
use super::{code, explain, Clients};
use crate::state::{ResourcePhase, StackStatus};
use anyhow::{bail, Result};
use aws_sdk_cloudformation::types::{Capability, ChangeSetType, Parameter};
use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

/// What lppg knows about a stack.
#[derive(Debug, Clone)]
pub struct StackInfo {
    pub id: String,
    pub status: StackStatus,
    pub reason: Option<String>,
    pub outputs: BTreeMap<String, String>,
    pub parameters: BTreeMap<String, String>,
    /// CloudFormation refuses to delete the stack while this is on.
    pub termination_protection: bool,
    /// The stack's own tags (lppg tags every stack it creates with `lppg:stack`).
    pub tags: BTreeMap<String, String>,
}

impl StackInfo {
    pub fn output(&self, key: &str) -> Option<&str> {
        self.outputs.get(key).map(String::as_str)
    }
}

/// Describes the stack, `None` when it does not exist.
pub async fn describe(c: &Clients, name: &str) -> Result<Option<StackInfo>> {
    let r = match c.cfn.describe_stacks().stack_name(name).send().await {
        Ok(r) => r,
        Err(e) => {
            let gone = code(&e) == Some("ValidationError")
                && e.as_service_error()
                    .and_then(|s| aws_sdk_cloudformation::error::ProvideErrorMetadata::message(s))
                    .is_some_and(|m| m.contains("does not exist"));
            if gone {
                return Ok(None);
            }
            return Err(explain(e, &format!("describing stack {name}")));
        }
    };
    let Some(s) = r.stacks().first() else {
        return Ok(None);
    };
    let status = StackStatus::parse(s.stack_status().map(|x| x.as_str()).unwrap_or_default());
    if status == StackStatus::DeleteComplete {
        return Ok(None);
    }
    Ok(Some(StackInfo {
        id: s.stack_id().unwrap_or_default().to_string(),
        status,
        reason: s.stack_status_reason().map(str::to_string),
        termination_protection: s.enable_termination_protection().unwrap_or(false),
        tags: s
            .tags()
            .iter()
            .filter_map(|t| Some((t.key()?.to_string(), t.value()?.to_string())))
            .collect(),
        outputs: s
            .outputs()
            .iter()
            .filter_map(|o| Some((o.output_key()?.to_string(), o.output_value()?.to_string())))
            .collect(),
        parameters: s
            .parameters()
            .iter()
            .filter_map(|p| {
                Some((
                    p.parameter_key()?.to_string(),
                    normalize_list_value(p.parameter_value().unwrap_or_default()),
                ))
            })
            .collect(),
    }))
}

/// The local emulator reports a `CommaDelimitedList` parameter as a Python list literal (`['a', 'b']`);
/// CloudFormation reports `a,b`. Accept both.
pub fn normalize_list_value(v: &str) -> String {
    let t = v.trim();
    if t.starts_with('[') && t.ends_with(']') {
        t[1..t.len() - 1]
            .split(',')
            .map(|x| x.trim().trim_matches(|c| c == '\'' || c == '"'))
            .filter(|x| !x.is_empty())
            .collect::<Vec<_>>()
            .join(",")
    } else {
        v.to_string()
    }
}

fn params(p: &BTreeMap<String, String>) -> Vec<Parameter> {
    p.iter()
        .map(|(k, v)| {
            Parameter::builder()
                .parameter_key(k)
                .parameter_value(v)
                .build()
        })
        .collect()
}

/// Starts creating the stack; returns its id.
pub async fn create(
    c: &Clients,
    name: &str,
    template: &str,
    p: &BTreeMap<String, String>,
) -> Result<String> {
    let r = c
        .cfn
        .create_stack()
        .stack_name(name)
        .template_body(template)
        .set_parameters(Some(params(p)))
        .capabilities(Capability::CapabilityNamedIam)
        .tags(
            aws_sdk_cloudformation::types::Tag::builder()
                .key("lppg:stack")
                .value(name)
                .build(),
        )
        .send()
        .await
        .map_err(|e| explain(e, &format!("creating stack {name}")))?;
    Ok(r.stack_id().unwrap_or(name).to_string())
}

/// The template body CloudFormation holds for the stack.
pub async fn current_template(c: &Clients, name: &str) -> Result<String> {
    let r = c
        .cfn
        .get_template()
        .stack_name(name)
        .send()
        .await
        .map_err(|e| explain(e, &format!("reading the template of stack {name}")))?;
    Ok(r.template_body().unwrap_or_default().to_string())
}

/// Outcome of an update attempt.
#[derive(Debug, PartialEq, Eq)]
pub enum UpdateOutcome {
    /// Nothing differs: nothing was changed.
    UpToDate,
    /// A change set was executed; the stack is updating.
    Started(Vec<String>),
    /// The change set would modify or remove protected resources; it was discarded, nothing changed.
    Refused(Vec<String>),
}

/// Updates the stack through a change set (always with an explicit `ChangeSetType`), so the changes can be shown
/// before they are applied. A change set without changes is removed and reported as up to date; one that would
/// modify or remove a resource whose logical id is in `protected` is removed and refused.
pub async fn update(
    c: &Clients,
    name: &str,
    template: &str,
    p: &BTreeMap<String, String>,
    protected: &[&str],
) -> Result<UpdateOutcome> {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let cs_name = format!("lppg-{secs}");
    c.cfn
        .create_change_set()
        .stack_name(name)
        .change_set_name(&cs_name)
        .change_set_type(ChangeSetType::Update)
        .template_body(template)
        .set_parameters(Some(params(p)))
        .capabilities(Capability::CapabilityNamedIam)
        .send()
        .await
        .map_err(|e| explain(e, &format!("creating a change set for stack {name}")))?;
    let changes = match computed_changes(c, name, &cs_name).await? {
        Some(changes) => changes,
        None => return Ok(UpdateOutcome::UpToDate),
    };
    let blocked: Vec<String> = changes
        .iter()
        .filter(|(action, id, _)| {
            (action == "Modify" || action == "Remove") && protected.contains(&id.as_str())
        })
        .map(|(_, id, _)| id.clone())
        .collect();
    if !blocked.is_empty() {
        discard_change_set(c, name, &cs_name).await;
        return Ok(UpdateOutcome::Refused(blocked));
    }
    c.cfn
        .execute_change_set()
        .stack_name(name)
        .change_set_name(&cs_name)
        .send()
        .await
        .map_err(|e| explain(e, "executing the change set"))?;
    let lines = changes
        .into_iter()
        .map(|(a, id, t)| format!("{a} {id} ({t})"))
        .collect();
    Ok(UpdateOutcome::Started(lines))
}

/// Waits for a change set to be computed: its changes as (action, logical id, type), or `None` when it holds no
/// change (it is then removed).
async fn computed_changes(
    c: &Clients,
    name: &str,
    cs_name: &str,
) -> Result<Option<Vec<(String, String, String)>>> {
    let mut polls =
        crate::clock::Backoff::unbounded(Duration::from_millis(200), Duration::from_secs(5))
            .start(crate::clock::system());
    loop {
        let d = c
            .cfn
            .describe_change_set()
            .stack_name(name)
            .change_set_name(cs_name)
            .send()
            .await
            .map_err(|e| explain(e, "reading the change set"))?;
        let status = d
            .status()
            .map(|s| s.as_str().to_string())
            .unwrap_or_default();
        match status.as_str() {
            "CREATE_COMPLETE" => {
                let changes = d
                    .changes()
                    .iter()
                    .filter_map(|ch| ch.resource_change())
                    .map(|rc| {
                        (
                            rc.action().map(|a| a.as_str()).unwrap_or("?").to_string(),
                            rc.logical_resource_id().unwrap_or("?").to_string(),
                            rc.resource_type().unwrap_or("?").to_string(),
                        )
                    })
                    .collect();
                return Ok(Some(changes));
            }
            "FAILED" => {
                let reason = d.status_reason().unwrap_or_default().to_string();
                discard_change_set(c, name, cs_name).await;
                if reason.contains("didn't contain changes") || reason.contains("No updates") {
                    return Ok(None);
                }
                bail!("CloudFormation could not prepare the update of stack {name}: {reason}");
            }
            _ => {
                polls.wait().await;
            }
        }
    }
}

/// Removes a change set that will not be executed; a failure here leaves only an unused change set behind.
async fn discard_change_set(c: &Clients, name: &str, cs_name: &str) {
    let _ = c
        .cfn
        .delete_change_set()
        .stack_name(name)
        .change_set_name(cs_name)
        .send()
        .await;
}

/// Starts deleting the stack.
pub async fn delete(c: &Clients, name: &str) -> Result<()> {
    c.cfn
        .delete_stack()
        .stack_name(name)
        .send()
        .await
        .map_err(|e| explain(e, &format!("deleting stack {name}")))?;
    Ok(())
}

/// Whether a failed DeleteStack was a refusal (termination protection, or no permission) rather than something
/// removing the stack's resources could fix.
pub fn is_delete_refusal(e: &anyhow::Error) -> bool {
    super::ErrorKind::of_error(e) == super::ErrorKind::AccessDenied
        || format!("{e}").contains("TerminationProtection")
}

/// One resource event, for progress lines and failure reasons.
#[derive(Debug, Clone)]
pub struct Event {
    pub id: String,
    pub logical_id: String,
    pub resource_type: String,
    pub status: String,
    pub reason: Option<String>,
}

/// The ids of the stack's events so far, so a later [`wait`] prints only what happens after this point.
pub async fn event_ids(c: &Clients, stack_id: &str) -> Result<HashSet<String>> {
    Ok(events(c, stack_id)
        .await?
        .into_iter()
        .map(|e| e.id)
        .collect())
}

/// Every event of the stack (all pages, at most 20), oldest first.
async fn events(c: &Clients, stack_id: &str) -> Result<Vec<Event>> {
    let mut v = Vec::new();
    let mut token: Option<String> = None;
    for _ in 0..20 {
        let r = c
            .cfn
            .describe_stack_events()
            .stack_name(stack_id)
            .set_next_token(token.clone())
            .send()
            .await
            .map_err(|e| explain(e, "reading the stack's events"))?;
        v.extend(r.stack_events().iter().map(|e| {
            Event {
                id: e.event_id().unwrap_or_default().to_string(),
                logical_id: e.logical_resource_id().unwrap_or_default().to_string(),
                resource_type: e.resource_type().unwrap_or_default().to_string(),
                status: e
                    .resource_status()
                    .map(|s| s.as_str().to_string())
                    .unwrap_or_default(),
                reason: e.resource_status_reason().map(str::to_string),
            }
        }));
        token = r.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    v.reverse(); // oldest first
    Ok(v)
}

/// How a wait ended.
#[derive(Debug)]
pub struct WaitResult {
    pub status: StackStatus,
    /// Resource failures, oldest first: (logical id, type, status, reason).
    pub failures: Vec<Event>,
}

/// What a wait reports as it goes: a resource event the first time it is seen, or the stack's status.
pub enum WaitNote<'a> {
    Event(&'a Event),
    Status(&'a StackStatus),
}

/// Polls the stack (by id, so a deleted stack can still be read) until its status is terminal, reporting each new
/// resource event and the status through `report`. Never prints; a caller that wants Ctrl-C races it.
pub async fn wait(
    c: &Clients,
    stack_id: &str,
    seen: &mut HashSet<String>,
    mut report: impl FnMut(WaitNote<'_>),
) -> Result<WaitResult> {
    let mut polls =
        crate::clock::Backoff::unbounded(Duration::from_millis(250), Duration::from_secs(5))
            .start(crate::clock::system());
    // Only this operation's failures: an earlier operation's events were seen before the wait began.
    let mut failures = Vec::new();
    loop {
        let evs = events(c, stack_id).await.unwrap_or_default();
        for e in evs {
            if seen.insert(e.id.clone()) {
                report(WaitNote::Event(&e));
                if ResourcePhase::of(&e.status) == ResourcePhase::Failed
                    && e.resource_type != "AWS::CloudFormation::Stack"
                {
                    failures.push(e);
                }
            }
        }
        let status = status_of(c, stack_id).await?;
        report(WaitNote::Status(&status));
        if status.is_terminal() {
            return Ok(WaitResult { status, failures });
        }
        polls.wait().await;
    }
}

/// The stack's status, by name or id; `DELETE_COMPLETE` when it is gone.
async fn status_of(c: &Clients, stack_id: &str) -> Result<StackStatus> {
    let r = c
        .cfn
        .describe_stacks()
        .stack_name(stack_id)
        .send()
        .await
        .map_err(|e| explain(e, "reading the stack's status"))?;
    Ok(r.stacks()
        .first()
        .and_then(|s| s.stack_status())
        .map_or(StackStatus::DeleteComplete, |s| {
            StackStatus::parse(s.as_str())
        }))
}

/// Logical id → physical id of every materialised resource (skipping the blank rows the emulator returns).
pub async fn resources(c: &Clients, name: &str) -> Result<BTreeMap<String, (String, String)>> {
    let r = c
        .cfn
        .describe_stack_resources()
        .stack_name(name)
        .send()
        .await
        .map_err(|e| explain(e, "listing the stack's resources"))?;
    Ok(r.stack_resources()
        .iter()
        .filter(|x| !x.logical_resource_id().unwrap_or_default().is_empty())
        .map(|x| {
            (
                x.logical_resource_id().unwrap_or_default().to_string(),
                (
                    x.resource_type().unwrap_or_default().to_string(),
                    x.physical_resource_id().unwrap_or_default().to_string(),
                ),
            )
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_parameters() {
        assert_eq!(normalize_list_value("['a:B', 'c:D']"), "a:B,c:D");
        assert_eq!(normalize_list_value("a:B,c:D"), "a:B,c:D");
        assert_eq!(normalize_list_value(""), "");
    }
}
