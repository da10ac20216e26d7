//! One worker's tallies: what each record adds, folded per event, action and principal.
use super::*;

#[derive(Debug, Default)]
pub(super) struct EventTally {
    pub(super) count: u64,
    pub(super) first: Option<String>,
    pub(super) last: Option<String>,
}

impl EventTally {
    pub(super) fn see(&mut self, time: Option<&str>) {
        self.count += 1;
        if let Some(t) = time {
            if self.first.as_deref().is_none_or(|f| t < f) {
                set(&mut self.first, t);
            }
            if self.last.as_deref().is_none_or(|l| t > l) {
                set(&mut self.last, t);
            }
        }
    }

    pub(super) fn merge(&mut self, other: &EventTally) {
        self.count += other.count;
        if let Some(t) = other.first.as_deref() {
            if self.first.as_deref().is_none_or(|f| t < f) {
                self.first = Some(t.to_owned());
            }
        }
        if let Some(t) = other.last.as_deref() {
            if self.last.as_deref().is_none_or(|l| t > l) {
                self.last = Some(t.to_owned());
            }
        }
    }
}

/// One worker's tallies.
#[derive(Default)]
pub(super) struct Local {
    pub(super) files: u64,
    pub(super) records: u64,
    pub(super) bytes: u64,
    pub(super) matched: u64,
    pub(super) selected: u64,
    pub(super) not_permission: u64,
    pub(super) principals: HashMap<String, u64>,
    /// Used calls: event source → event name → tally.
    pub(super) events: HashMap<String, HashMap<String, EventTally>>,
    pub(super) granted: BTreeMap<String, ActionTally>,
    pub(super) explicit: BTreeMap<String, ActionTally>,
    pub(super) refused: BTreeMap<(String, Refusal), ActionTally>,
    pub(super) problems: Vec<Problem>,
}

impl Local {
    pub(super) fn record(&mut self, filter: &Filter, record: &Record) {
        self.records += 1;
        let principal = record.principal();
        if let Some(p) = principal {
            match self.principals.get_mut(p) {
                Some(c) => *c += 1,
                None => {
                    self.principals.insert(p.to_owned(), 1);
                }
            }
        }
        if !filter.principals.is_empty() && !filter.principals.iter().any(|p| record.made_by(p)) {
            return;
        }
        self.matched += 1;
        if !filter.in_window(record) {
            return;
        }
        self.selected += 1;
        match filter.mode {
            Mode::Used => {
                if record.error_code.as_deref().is_some_and(|c| !c.is_empty()) {
                    return;
                }
                if !matches!(record.event_type.as_deref(), None | Some("AwsApiCall")) {
                    return;
                }
                let (source, name) = (record.event_source(), record.event_name());
                if source.is_empty() || name.is_empty() {
                    return;
                }
                let names = match self.events.get_mut(source) {
                    Some(n) => n,
                    None => self.events.entry(source.to_owned()).or_default(),
                };
                let tally = match names.get_mut(name) {
                    Some(t) => t,
                    None => names.entry(name.to_owned()).or_default(),
                };
                tally.see(record.event_time.as_deref());
            }
            Mode::Denied => {
                let decision = classify_denied(record, None, filter.catalogue);
                let time = record.event_time.as_deref();
                let derived = decision.derived_from.unwrap_or(Derivation::Event);
                match decision.outcome {
                    Outcome::Grant => {
                        let evidence = record.evidence(decision.resource.as_deref());
                        add_evidence(&mut self.granted, &decision.actions, &evidence);
                        add_actions(&mut self.granted, decision.actions, derived, time);
                    }
                    Outcome::ExplicitDeny | Outcome::Blocked => {
                        if let Some(refusal) = &decision.refusal {
                            add_refused(
                                &mut self.refused,
                                &decision.actions,
                                refusal,
                                derived,
                                time,
                            );
                        }
                        if decision.outcome == Outcome::ExplicitDeny {
                            add_actions(&mut self.explicit, decision.actions, derived, time);
                        }
                    }
                    Outcome::NotPermission | Outcome::Error => self.not_permission += 1,
                    Outcome::Withheld
                    | Outcome::NotDenied
                    | Outcome::OtherPrincipal
                    | Outcome::Used => {}
                }
            }
        }
    }
}

pub(super) fn add_actions(
    into: &mut BTreeMap<String, ActionTally>,
    actions: Vec<Action>,
    derived: Derivation,
    time: Option<&str>,
) {
    for action in actions {
        into.entry(action.to_string())
            .or_insert_with(|| ActionTally::new(action))
            .add(1, derived, time, time);
    }
}

/// Adds a refused record's actions under the policy that refused them.
pub(super) fn add_refused(
    into: &mut BTreeMap<(String, Refusal), ActionTally>,
    actions: &[Action],
    refusal: &Refusal,
    derived: Derivation,
    time: Option<&str>,
) {
    for action in actions {
        into.entry((action.to_string(), refusal.clone()))
            .or_insert_with(|| ActionTally::new(action.clone()))
            .add(1, derived, time, time);
    }
}

/// Adds a record's resource evidence to the actions it grants.
pub(super) fn add_evidence(
    into: &mut BTreeMap<String, ActionTally>,
    actions: &[Action],
    evidence: &[String],
) {
    if evidence.is_empty() {
        return;
    }
    for action in actions {
        into.entry(action.to_string())
            .or_insert_with(|| ActionTally::new(action.clone()))
            .evidence
            .add(evidence.iter().map(String::as_str));
    }
}
