//! Who held which step when, read from a run's log: the evidence that no step was ever
//! leased by two workers at once.

use std::collections::HashMap;

use crate::event::{EventKind, RunEvent};

/// One lease from a run's log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseRecord {
    pub step: String,
    pub worker: String,
    pub fencing_token: u64,
    /// `seq` of the event that granted it.
    pub granted_seq: u64,
}

/// Every lease in `events`, in order. Refused, naming the event, if a step is leased while
/// another lease on it is still open, or a lease ends with a token that is not the open one.
pub fn lease_history(events: &[RunEvent]) -> Result<Vec<LeaseRecord>, String> {
    let mut open: HashMap<&str, (u64, &str)> = HashMap::new();
    let mut history = Vec::new();
    for event in events {
        let ended = match &event.kind {
            EventKind::StepLeased {
                step,
                worker,
                fencing_token,
                ..
            } => {
                if let Some((token, holder)) = open.get(step.as_str()) {
                    return Err(format!(
                        "event {}: step '{step}' leased to {worker} while {holder} still held it \
                         (token {token})",
                        event.seq
                    ));
                }
                open.insert(step, (*fencing_token, worker));
                history.push(LeaseRecord {
                    step: step.clone(),
                    worker: worker.clone(),
                    fencing_token: *fencing_token,
                    granted_seq: event.seq,
                });
                None
            }
            EventKind::StepSucceeded {
                step,
                fencing_token,
                ..
            }
            | EventKind::StepFailed {
                step,
                fencing_token,
                ..
            }
            | EventKind::LeaseExpired {
                step,
                fencing_token,
                ..
            } => Some((step, *fencing_token)),
            _ => None,
        };
        if let Some((step, token)) = ended {
            match open.remove(step.as_str()) {
                Some((held, _)) if held == token => {}
                other => {
                    return Err(format!(
                        "event {}: step '{step}' ended with token {token}, but the open lease was {:?}",
                        event.seq,
                        other.map(|(t, _)| t)
                    ));
                }
            }
        }
    }
    Ok(history)
}
