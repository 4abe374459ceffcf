//! The top bar's search: runs whose id holds the text (ids are not words), then what the search
//! index finds for it ([`crate::query`]: runs, datasets, log lines, ranked), then workflow
//! templates by name or description; each only where the caller may see it. (The product's
//! sections are matched in the browser.)

use switchyard_auth::Permission;
use switchyard_protocol::SearchHit;

use crate::Service;
use crate::brief::{clipped, short_run_id};
use crate::error::ServiceError;
use crate::principal::Principal;
use crate::runs::read::ListRuns;

/// The most characters of a title or snippet a hit shows.
const TITLE_CHARS: usize = 80;
/// Most hits of each source.
pub const MAX_HITS: usize = 5;

impl Service {
    /// Runs whose id contains `text`, the index's best hits, and templates whose name or
    /// description contains it (any case), at most [`MAX_HITS`] of each source, a thing once;
    /// what the caller may not read is left out rather than refused. Text shorter than two
    /// characters finds nothing.
    pub async fn search(
        &self,
        who: &Principal,
        text: &str,
    ) -> Result<Vec<SearchHit>, ServiceError> {
        let text = text.trim().to_lowercase();
        if text.chars().count() < 2 {
            return Ok(Vec::new());
        }
        let mut hits: Vec<SearchHit> = Vec::new();
        if who.may(Permission::ReadRuns) {
            let by_id = self
                .list_runs(
                    who,
                    ListRuns {
                        status: None,
                        limit: Some(MAX_HITS as u32),
                        before: None,
                        project: None,
                        id_part: Some(text.clone()),
                        text: None,
                    },
                )
                .await?;
            hits.extend(by_id.runs.into_iter().map(|run| SearchHit {
                kind: "run".into(),
                detail: format!(
                    "{} · {} · project {}",
                    short_run_id(&run.id),
                    run.status.as_str(),
                    run.project
                ),
                href: format!("/runs/{}", run.id),
                title: match run.goal {
                    Some(goal) => clipped(&goal, TITLE_CHARS),
                    None => run.id,
                },
            }));
            let found = self.query(who, &text, MAX_HITS as u32).await?;
            for hit in found.hits {
                if hits.iter().any(|h| h.href == hit.href) {
                    continue;
                }
                let snippet: String = hit.snippet.iter().map(|f| f.text.as_str()).collect();
                hits.push(SearchHit {
                    detail: format!("{} · {}", hit.kind, clipped(snippet.trim(), TITLE_CHARS)),
                    kind: hit.kind,
                    href: hit.href,
                    title: clipped(&hit.title, TITLE_CHARS),
                });
            }
        }
        if let Ok(templates) = self.templates(who).await {
            hits.extend(
                templates
                    .into_iter()
                    .filter(|t| {
                        t.name.contains(&text) || t.description.to_lowercase().contains(&text)
                    })
                    .take(MAX_HITS)
                    .map(|t| SearchHit {
                        kind: "workflow".into(),
                        href: format!("/workflows/{}", t.name),
                        detail: if t.description.is_empty() {
                            format!("workflow · project {}", t.project)
                        } else {
                            t.description
                        },
                        title: t.name,
                    }),
            );
        }
        Ok(hits)
    }
}
