//! Steps from `lppg mark` markers: which step each action belongs to.

use std::collections::BTreeMap;
use std::time::SystemTime;

use super::actions::{Action, ActionSet};
use super::render::Step;

pub use crate::stack::decisions::Marker;

/// One [`Step`] per marker (a step boundary recorded by `lppg mark`: the step it starts runs until the next
/// marker; an unlabelled one's `Sid` becomes `StepN`), in time order (markers with equal times keep their
/// order), each holding the actions first denied from its marker's time (inclusive)
/// until the next marker's (exclusive).
///
/// Assignment is by the denied call's event time, not by when the event arrived,
/// so late CloudTrail deliveries land in the right step. Actions denied before the
/// first marker, and actions missing from `first_denied`, are in no step. Steps
/// may be empty; [`super::render_policy`] leaves empty steps out.
pub fn steps_from_markers(
    markers: &[Marker],
    first_denied: &BTreeMap<Action, SystemTime>,
) -> Vec<Step> {
    // A marker whose time cannot be read starts no step (the log reader reports it).
    let mut ordered: Vec<(SystemTime, &Marker)> =
        markers.iter().filter_map(|m| Some((m.at()?, m))).collect();
    ordered.sort_by_key(|(time, _)| *time);
    let mut steps: Vec<Step> = ordered
        .iter()
        .map(|(_, m)| Step {
            label: m.label.clone(),
            actions: ActionSet::new(),
        })
        .collect();
    for (action, time) in first_denied {
        // The last marker at or before the time.
        let after = ordered.partition_point(|(t, _)| t <= time);
        if let Some(i) = after.checked_sub(1) {
            steps[i].actions.insert(action.clone());
        }
    }
    steps
}

#[cfg(test)]
mod tests {
    use super::super::render::{render_policy, Grouping};
    use super::*;
    use std::time::Duration;

    fn at(seconds: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_714_557_600 + seconds)
    }

    fn marker(seconds: u64, label: &str) -> Marker {
        Marker {
            time: crate::time::format_secs(at(seconds)),
            label: label.to_string(),
        }
    }

    fn names(step: &Step) -> Vec<String> {
        step.actions.iter().map(Action::to_string).collect()
    }

    #[test]
    fn assigns_actions_by_event_time() {
        let markers = [
            marker(100, "upload"),
            marker(10, "open the bucket"),
            marker(200, ""),
        ];
        // Inserted in arrival order: the late event (denied at 50) arrived last.
        let mut first_denied = BTreeMap::new();
        for (action, time) in [
            ("sts:GetCallerIdentity", 5),
            ("s3:ListAllMyBuckets", 10),
            ("s3:PutObject", 150),
            ("s3:DeleteObject", 250),
            ("s3:ListBucket", 50),
        ] {
            first_denied.insert(Action::parse(action).unwrap(), at(time));
        }
        let steps = steps_from_markers(&markers, &first_denied);
        let labels: Vec<&str> = steps.iter().map(|s| s.label.as_str()).collect();
        assert_eq!(labels, ["open the bucket", "upload", ""]);
        assert_eq!(names(&steps[0]), ["s3:ListAllMyBuckets", "s3:ListBucket"]);
        assert_eq!(names(&steps[1]), ["s3:PutObject"]);
        assert_eq!(names(&steps[2]), ["s3:DeleteObject"]);

        let all: ActionSet = first_denied.keys().cloned().collect();
        let document = render_policy(&all, Grouping::ByStep(&steps));
        let sids: Vec<&str> = document["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["Sid"].as_str().unwrap())
            .collect();
        assert_eq!(sids, ["OpenTheBucket", "Upload", "Step3", "Unassigned"]);
    }

    #[test]
    fn no_markers_no_steps() {
        let mut first_denied = BTreeMap::new();
        first_denied.insert(Action::parse("s3:GetObject").unwrap(), at(1));
        assert!(steps_from_markers(&[], &first_denied).is_empty());
        let steps = steps_from_markers(&[marker(0, "a"), marker(0, "b")], &first_denied);
        assert!(steps[0].actions.is_empty());
        assert_eq!(names(&steps[1]), ["s3:GetObject"]);
    }
}
