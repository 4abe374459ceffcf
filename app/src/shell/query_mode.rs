//! The panel's query mode: each question is a search of the index over runs, datasets and
//! agents' log lines in the person's projects; the answers list what was found, best first,
//! with its score, the part of its text that matched (the words marked) and a link to its page.
//! Questions and their answers stay in this tab.

use leptos::prelude::*;
use leptos_router::components::A;
use switchyard_protocol::query::{QueryHit, QueryResults};

use crate::pages::server_message;
use crate::server_fns::system::query_index;

/// One question and what it found.
#[derive(Debug, Clone)]
struct Asked {
    id: usize,
    text: String,
    answer: Option<Result<QueryResults, String>>,
}

/// The questions asked in this tab.
#[derive(Clone, Copy)]
pub struct QueryState {
    asked: RwSignal<Vec<Asked>>,
    next: StoredValue<usize>,
}

impl QueryState {
    pub fn new() -> Self {
        Self {
            asked: RwSignal::new(Vec::new()),
            next: StoredValue::new(0),
        }
    }

    /// Asks the index `text`.
    pub fn ask(self, text: String) {
        let id = self.next.get_value();
        self.next.set_value(id + 1);
        self.asked.update(|a| {
            a.push(Asked {
                id,
                text: text.clone(),
                answer: None,
            })
        });
        leptos::task::spawn_local(async move {
            let answer = query_index(text).await.map_err(|e| server_message(&e));
            self.asked.update(|a| {
                if let Some(q) = a.iter_mut().find(|q| q.id == id) {
                    q.answer = Some(answer);
                }
            });
        });
    }
}

impl Default for QueryState {
    fn default() -> Self {
        Self::new()
    }
}

#[component]
pub fn QueryMode(query: QueryState) -> impl IntoView {
    view! {
        <ol class="message-list" id="query-list" aria-live="polite" aria-label="Questions">
            <Show when=move || query.asked.with(Vec::is_empty)>
                <li class="message-empty">
                    <p>
                        "Search runs (goals, step outputs and errors), datasets and agents' log lines "
                        "in your projects. Every word must match; the best matches come first."
                    </p>
                </li>
            </Show>
            <For
                each=move || query.asked.get()
                key=|q| (q.id, q.answer.is_some())
                let(asked)
            >
                <li class="message message-you">
                    <span class="message-meta">"You · Query"</span>
                    // Markdown, sanitised, as everywhere a person's or a model's text shows.
                    <div
                        class="message-text markdown"
                        inner_html=crate::markdown::to_safe_html(&asked.text)
                    ></div>
                </li>
                <li class="message message-system query-answer">
                    {match asked.answer {
                        None => view! { <p class="muted small">"Searching…"</p> }.into_any(),
                        Some(Err(message)) => {
                            view! { <p class="error-text">{message}</p> }.into_any()
                        }
                        Some(Ok(found)) => view! { <Answer found /> }.into_any(),
                    }}
                </li>
            </For>
        </ol>
    }
}

#[component]
fn Answer(found: QueryResults) -> impl IntoView {
    let summary = match found.hits.len() {
        0 if found.words.is_empty() => {
            "No words to search for: use words of two or more letters or digits.".to_owned()
        }
        0 => format!("Nothing has every word ({:.1} ms).", found.took_ms),
        1 => format!("1 match ({:.1} ms)", found.took_ms),
        n => format!("{n} matches, best first ({:.1} ms)", found.took_ms),
    };
    view! {
        <span class="message-meta">"Switchyard · Query"</span>
        <p class="muted small query-summary">{summary}</p>
        <ol class="query-hits">
            {found.hits.into_iter().map(|hit| view! { <Hit hit /> }).collect_view()}
        </ol>
    }
}

/// A score as it reads best: two decimals, or two significant digits when it is tiny (bm25
/// gives a word found in most documents almost no weight).
fn score(value: f64) -> String {
    if value.abs() >= 0.01 || value == 0.0 {
        format!("{value:.2}")
    } else {
        format!("{value:.1e}")
    }
}

#[component]
fn Hit(hit: QueryHit) -> impl IntoView {
    view! {
        <li class="query-hit" data-kind=hit.kind.clone()>
            <div class="query-hit-head">
                <span class="kind-chip">{hit.kind.clone()}</span>
                <A href=hit.href.clone()>{hit.title.clone()}</A>
                <span class="query-score" title="Relevance (higher is better)">
                    {score(hit.score)}
                </span>
            </div>
            <p class="query-snippet">
                {hit
                    .snippet
                    .into_iter()
                    .map(|f| {
                        if f.hit {
                            view! { <mark>{f.text}</mark> }.into_any()
                        } else {
                            view! { <span>{f.text}</span> }.into_any()
                        }
                    })
                    .collect_view()}
            </p>
            <span class="muted small">"project " {hit.project}</span>
        </li>
    }
}

#[cfg(test)]
mod tests {
    use super::score;

    #[test]
    fn scores_keep_their_digits() {
        assert_eq!(score(3.0496), "3.05");
        assert_eq!(score(1.6627e-6), "1.7e-6");
        assert_eq!(score(0.0), "0.00");
    }
}
