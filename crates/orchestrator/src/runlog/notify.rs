//! What a commit tells the other engines on a PostgreSQL database (`LISTEN/NOTIFY`).
//!
//! Every committing transaction sends, on [`CHANNEL`], which runs it changed and which event
//! sequence numbers it added. A notification is delivered only if the transaction commits, and
//! in commit order. Payloads are small text (PostgreSQL caps one at 8,000 bytes), so a big
//! batch becomes several notifications:
//!
//! ```text
//! writer-id
//! run-id first-seq last-seq flag      (flag: `u` = a new run nobody owns yet, `-` otherwise)
//! …
//! ```
//!
//! An engine that stops gives its runs up and says so with a `release` line, so the others
//! claim them at once instead of waiting for its heartbeat to lapse. Receivers read the events
//! themselves from `run_events`: the notification only says where to look.

use super::RunChange;

/// The PostgreSQL channel engines listen on.
pub const CHANNEL: &str = "switchyard_runs";
/// Stay under PostgreSQL's 8,000-byte payload limit.
const MAX_PAYLOAD: usize = 7_500;

/// One run's events added by one commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub run_id: String,
    pub first_seq: u64,
    pub last_seq: u64,
    /// A new run created without an owner: any engine with room should claim it.
    pub unowned: bool,
}

/// One notification, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// The engine that committed (`-` for a writer outside any engine).
    pub writer: String,
    pub changes: Vec<Change>,
    /// The writer stopped and gave up its runs.
    pub released: bool,
}

impl Change {
    /// What `change` adds; `None` for a change without events.
    pub fn of(change: &RunChange) -> Option<Self> {
        Some(Self {
            run_id: change.run_id.clone(),
            first_seq: change.events.first()?.seq,
            last_seq: change.events.last()?.seq,
            unowned: change.expected_seq == 0 && change.owner.is_none(),
        })
    }
}

/// The notifications announcing `changes`, each within the payload limit.
pub fn payloads(writer: &str, changes: impl IntoIterator<Item = Change>) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::from(writer);
    for change in changes {
        let line = format!(
            "\n{} {} {} {}",
            change.run_id,
            change.first_seq,
            change.last_seq,
            if change.unowned { 'u' } else { '-' }
        );
        if current.len() + line.len() > MAX_PAYLOAD && current.len() > writer.len() {
            out.push(std::mem::replace(&mut current, String::from(writer)));
        }
        current.push_str(&line);
    }
    if current.len() > writer.len() {
        out.push(current);
    }
    out
}

/// The notification an engine sends when it stops and releases its runs.
pub fn release(writer: &str) -> String {
    format!("{writer}\nrelease")
}

/// Reads a payload; `None` if it is not one of ours.
pub fn parse(payload: &str) -> Option<Notice> {
    let mut lines = payload.lines();
    let writer = lines.next()?.to_owned();
    let mut notice = Notice {
        writer,
        changes: Vec::new(),
        released: false,
    };
    for line in lines {
        if line == "release" {
            notice.released = true;
            continue;
        }
        let mut parts = line.split(' ');
        let run_id = parts.next()?.to_owned();
        let first_seq = parts.next()?.parse().ok()?;
        let last_seq = parts.next()?.parse().ok()?;
        let unowned = parts.next()? == "u";
        notice.changes.push(Change {
            run_id,
            first_seq,
            last_seq,
            unowned,
        });
    }
    Some(notice)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(run_id: &str, expected_seq: u64, owner: Option<&str>) -> Change {
        Change {
            run_id: run_id.into(),
            first_seq: expected_seq + 1,
            last_seq: expected_seq + 3,
            unowned: expected_seq == 0 && owner.is_none(),
        }
    }

    #[test]
    fn payloads_round_trip_and_mark_unowned_new_runs() {
        let changes = [
            change("a", 0, None),
            change("b", 0, Some("w1")),
            change("c", 4, None),
        ];
        let payloads = payloads("w1", changes);
        assert_eq!(payloads.len(), 1);
        let notice = parse(&payloads[0]).unwrap();
        assert_eq!(notice.writer, "w1");
        assert!(!notice.released);
        let flags: Vec<_> = notice
            .changes
            .iter()
            .map(|c| (c.run_id.as_str(), c.first_seq, c.unowned))
            .collect();
        assert_eq!(flags, [("a", 1, true), ("b", 1, false), ("c", 5, false)]);
    }

    #[test]
    fn big_batches_split_under_the_payload_limit() {
        let changes: Vec<_> = (0..1_000)
            .map(|i| change(&format!("0193aaaa-bbbb-7ccc-8ddd-{i:012}"), 7, Some("w")))
            .collect();
        let payloads = payloads("w", changes);
        assert!(payloads.len() > 1);
        assert!(payloads.iter().all(|p| p.len() <= MAX_PAYLOAD));
        let total: usize = payloads
            .iter()
            .map(|p| parse(p).unwrap().changes.len())
            .sum();
        assert_eq!(total, 1_000);
    }

    #[test]
    fn release_and_garbage() {
        assert!(parse(&release("w")).unwrap().released);
        assert_eq!(parse("w\nrun x 2 -"), None);
    }
}
