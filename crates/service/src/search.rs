//! The top bar's search: runs by part of their id or goal, workflow templates by name or description,
//! datasets by name or file name, each only where the caller may see it. (The product's sections are matched in the browser.)

use switchyard_auth::Permission;
use switchyard_protocol::SearchHit;

use crate::Service;
use crate::brief::{clipped, short_run_id};
use crate::error::ServiceError;
use crate::principal::Principal;
use crate::runs::read::ListRuns;

/// The most characters of a goal a hit's title shows.
const GOAL_CHARS: usize = 80;
/// Most hits of each kind.
pub const MAX_HITS: usize = 5;

impl Service {
    /// Runs whose id or goal contains `text` (newest first) and templates whose name or description
    /// contains it (any case), at most [`MAX_HITS`] of each; what the caller may not read is
    /// left out rather than refused. Text shorter than two characters finds nothing.
    pub async fn search(
        &self,
        who: &Principal,
        text: &str,
    ) -> Result<Vec<SearchHit>, ServiceError> {
        let text = text.trim().to_lowercase();
        if text.chars().count() < 2 {
            return Ok(Vec::new());
        }
        let mut hits = Vec::new();
        if who.may(Permission::ReadRuns) {
            let page = self
                .list_runs(
                    who,
                    ListRuns {
                        status: None,
                        limit: Some(MAX_HITS as u32),
                        before: None,
                        project: None,
                        id_part: None,
                        text: Some(text.clone()),
                    },
                )
                .await?;
            hits.extend(page.runs.into_iter().map(|run| SearchHit {
                kind: "run".into(),
                detail: match &run.goal {
                    Some(_) => format!(
                        "{} · {} · project {}",
                        short_run_id(&run.id),
                        run.status.as_str(),
                        run.project
                    ),
                    None => format!("{} · project {}", run.status.as_str(), run.project),
                },
                href: format!("/runs/{}", run.id),
                title: match run.goal {
                    Some(goal) => clipped(&goal, GOAL_CHARS),
                    None => run.id,
                },
            }));
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
        if who.may(Permission::ReadRuns) {
            let query = crate::datasets::ListDatasets {
                text: Some(text.clone()),
                limit: Some(MAX_HITS as u32),
                ..Default::default()
            };
            hits.extend(
                self.list_datasets(who, query)
                    .await?
                    .into_iter()
                    .map(|d| SearchHit {
                        kind: "dataset".into(),
                        href: format!("/datasets/{}", d.id),
                        detail: format!(
                            "dataset · {} rows · project {}",
                            d.rows_written, d.project
                        ),
                        title: d.name,
                    }),
            );
        }
        Ok(hits)
    }
}
