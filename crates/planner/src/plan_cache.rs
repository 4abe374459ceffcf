//! The semantic plan cache: a goal that means the same as one planned before reuses its plan
//! with the new goal's parameters, skipping the model.
//!
//! 1. **Normalise.** The goal becomes a template plus parameters. What varies between
//!    otherwise equal requests is taken out, by kind and in order of appearance: quoted text
//!    (`{TEXT1}`), URLs (`{URL1}`), e-mail addresses (`{EMAIL1}`), dates (`{DATE1}`), numbers
//!    (`{NUMBER1}`) and names — capitalised words not starting the goal, runs of them kept
//!    together (`{NAME1}`). The rest is lower-cased with whitespace collapsed:
//!    "Book a flight to New York on 2026-12-01" → "book a flight to {NAME1} on {DATE1}".
//! 2. **Embed.** The template becomes a unit vector of hashed word, word-pair and
//!    character-trigram features (512 dimensions): a small local embedding that needs no
//!    model, is the same on every machine, and scores rephrasings close and different goals
//!    apart.
//! 3. **Match.** The cached entry with the highest cosine similarity, at or above the
//!    threshold (default 0.85), with the same placeholders, and not expired (default 24 h),
//!    is a hit. Its plan — stored with the original parameters replaced by placeholders — gets
//!    the new parameters injected, and is validated like any plan.
//!
//! Hits and misses are counted; [`PlanCache::stats`] reports the hit rate.

use std::collections::BTreeSet;
use std::hash::{Hash, Hasher};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Dimensions of a template's embedding.
const DIMENSIONS: usize = 512;

/// How the cache behaves.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlanCacheSettings {
    /// Cosine similarity at or above which a cached template matches (0–1).
    pub threshold: f32,
    /// How long an entry is reused.
    pub ttl: Duration,
    /// Entries kept; the oldest goes first.
    pub capacity: usize,
}

impl Default for PlanCacheSettings {
    fn default() -> Self {
        Self {
            threshold: 0.85,
            ttl: Duration::from_secs(24 * 3_600),
            capacity: 1_000,
        }
    }
}

/// A goal as a template and the parameters taken out of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Normalised {
    pub template: String,
    /// `(placeholder, value)` in order of appearance, e.g. `("{NAME1}", "Paris")`.
    pub params: Vec<(String, String)>,
}

/// What a lookup found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CacheHit {
    /// The plan with this goal's parameters injected.
    pub plan: Value,
    /// The cached template it matched, and how closely.
    pub matched: String,
    pub similarity: f32,
}

/// Counters for health.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CacheStats {
    pub entries: usize,
    pub hits: u64,
    pub misses: u64,
    /// hits / (hits + misses); 0 before any lookup.
    pub hit_rate: f64,
}

struct Entry {
    template: String,
    placeholders: BTreeSet<String>,
    embedding: Vec<f32>,
    /// The plan with parameter values replaced by their placeholders.
    plan: Value,
    stored: Instant,
}

/// The cache. Short critical sections under a std mutex, never held across an `.await`.
pub struct PlanCache {
    settings: PlanCacheSettings,
    entries: Mutex<Vec<Entry>>,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl std::fmt::Debug for PlanCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PlanCache")
            .field("settings", &self.settings)
            .field("stats", &self.stats())
            .finish()
    }
}

impl PlanCache {
    pub fn new(settings: PlanCacheSettings) -> Self {
        Self {
            settings,
            entries: Mutex::new(Vec::new()),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    /// The best live entry for `goal`, its plan filled with `goal`'s parameters; counts a
    /// hit or a miss.
    pub fn lookup(&self, goal: &Normalised) -> Option<CacheHit> {
        let found = self.best(goal);
        let counter = if found.is_some() {
            &self.hits
        } else {
            &self.misses
        };
        counter.fetch_add(1, Ordering::Relaxed);
        found
    }

    fn best(&self, goal: &Normalised) -> Option<CacheHit> {
        let embedding = embed(&goal.template);
        let placeholders: BTreeSet<String> = goal.params.iter().map(|(p, _)| p.clone()).collect();
        let mut entries = self.entries.lock().expect("plan cache lock");
        entries.retain(|e| e.stored.elapsed() < self.settings.ttl);
        let (similarity, entry) = entries
            .iter()
            .filter(|e| e.placeholders == placeholders)
            .map(|e| (cosine(&embedding, &e.embedding), e))
            .max_by(|a, b| a.0.total_cmp(&b.0))?;
        if similarity < self.settings.threshold {
            return None;
        }
        Some(CacheHit {
            plan: inject(&entry.plan, &goal.params),
            matched: entry.template.clone(),
            similarity,
        })
    }

    /// Keeps `plan`, made for `goal`, for goals like it.
    pub fn store(&self, goal: &Normalised, plan: &Value) {
        let entry = Entry {
            template: goal.template.clone(),
            placeholders: goal.params.iter().map(|(p, _)| p.clone()).collect(),
            embedding: embed(&goal.template),
            plan: extract(plan, &goal.params),
            stored: Instant::now(),
        };
        let mut entries = self.entries.lock().expect("plan cache lock");
        entries.retain(|e| e.template != entry.template);
        if entries.len() >= self.settings.capacity.max(1) {
            entries.remove(0);
        }
        entries.push(entry);
    }

    pub fn stats(&self) -> CacheStats {
        let hits = self.hits.load(Ordering::Relaxed);
        let misses = self.misses.load(Ordering::Relaxed);
        let lookups = hits + misses;
        CacheStats {
            entries: self.entries.lock().expect("plan cache lock").len(),
            hits,
            misses,
            hit_rate: if lookups == 0 {
                0.0
            } else {
                hits as f64 / lookups as f64
            },
        }
    }
}

/// Splits a goal into its template and parameters (see the module doc for the rules).
pub fn normalise(goal: &str) -> Normalised {
    let mut params: Vec<(String, String)> = Vec::new();
    let mut counts: std::collections::BTreeMap<&'static str, usize> = Default::default();
    let mut take = |kind: &'static str, value: &str| -> String {
        let n = counts.entry(kind).or_insert(0);
        *n += 1;
        let placeholder = format!("{{{kind}{n}}}");
        params.push((placeholder.clone(), value.to_owned()));
        placeholder
    };
    let mut words: Vec<String> = Vec::new();
    let mut rest = goal.trim();
    // A run of capitalised words being collected as one name.
    let mut name: Vec<&str> = Vec::new();
    let mut sentence_start = true;
    while !rest.is_empty() {
        // Quoted text is one parameter, spaces and all.
        let quoted = rest
            .chars()
            .next()
            .filter(|c| matches!(c, '"' | '\'' | '“'));
        if let Some(quote) = quoted {
            let close = if quote == '“' { '”' } else { quote };
            if let Some(end) = rest[quote.len_utf8()..].find(close) {
                flush(&mut name, &mut words, &mut take);
                let start = quote.len_utf8();
                words.push(take("TEXT", &rest[start..start + end]));
                rest = rest[start + end + close.len_utf8()..].trim_start();
                sentence_start = false;
                continue;
            }
        }
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        let raw = &rest[..end];
        rest = rest[end..].trim_start();
        let word = raw.trim_end_matches(['.', ',', ';', ':', '!', '?', ')']);
        let trailing = &raw[word.len()..];
        let word = word.trim_start_matches('(');
        let kind = classify(word);
        let capitalised = word.chars().next().is_some_and(char::is_uppercase)
            && word
                .chars()
                .skip(1)
                .all(|c| c.is_alphanumeric() || c == '-' || c == '\'');
        if kind.is_none() && capitalised && !sentence_start {
            name.push(word);
        } else {
            flush(&mut name, &mut words, &mut take);
            match kind {
                Some(kind) => words.push(take(kind, word)),
                None if !word.is_empty() => words.push(word.to_lowercase()),
                None => {}
            }
        }
        // After a sentence ends, a capital starts a sentence rather than a name.
        sentence_start = trailing.contains(['.', '!', '?', ':']);
        if !trailing.is_empty() {
            flush(&mut name, &mut words, &mut take);
        }
    }
    flush(&mut name, &mut words, &mut take);
    Normalised {
        template: words.join(" "),
        params,
    }
}

/// Ends a run of capitalised words: it becomes one `{NAMEn}` parameter.
fn flush(
    name: &mut Vec<&str>,
    words: &mut Vec<String>,
    take: &mut impl FnMut(&'static str, &str) -> String,
) {
    if !name.is_empty() {
        let value = name.join(" ");
        words.push(take("NAME", &value));
        name.clear();
    }
}

/// The kind of parameter a word is, if it is one.
fn classify(word: &str) -> Option<&'static str> {
    if word.starts_with("http://") || word.starts_with("https://") {
        return Some("URL");
    }
    if word.contains('@') && word.contains('.') && !word.starts_with('@') {
        return Some("EMAIL");
    }
    let digits = word.chars().filter(char::is_ascii_digit).count();
    if digits == 0 {
        return None;
    }
    let dateish = word
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '-' | '/'))
        && word.matches(['-', '/']).count() == 2;
    if dateish {
        return Some("DATE");
    }
    let numeric = word
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '.' | ',' | '%' | '$' | '€' | '£' | '-'));
    numeric.then_some("NUMBER")
}

/// A unit vector of hashed features: words, word pairs, and character trigrams of each word.
pub fn embed(template: &str) -> Vec<f32> {
    let mut v = vec![0f32; DIMENSIONS];
    let words: Vec<&str> = template.split_whitespace().collect();
    let mut add = |feature: &str, weight: f32| {
        let mut h = std::hash::DefaultHasher::new();
        feature.hash(&mut h);
        let hash = h.finish();
        let index = (hash % DIMENSIONS as u64) as usize;
        // The hash's top bit picks the sign, so collisions cancel out rather than add up.
        let sign = if hash >> 63 == 0 { 1.0 } else { -1.0 };
        v[index] += sign * weight;
    };
    for w in &words {
        add(&format!("w:{w}"), 1.0);
        let padded: Vec<char> = format!("<{w}>").chars().collect();
        for tri in padded.windows(3) {
            add(&format!("c:{}", tri.iter().collect::<String>()), 0.5);
        }
    }
    for pair in words.windows(2) {
        add(&format!("p:{} {}", pair[0], pair[1]), 1.0);
    }
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
    v
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// `plan` with every occurrence of a parameter value (in any string) replaced by its
/// placeholder; longer values first, so "New York City" is not cut by "New York".
fn extract(plan: &Value, params: &[(String, String)]) -> Value {
    let mut ordered: Vec<&(String, String)> = params.iter().collect();
    ordered.sort_by_key(|(_, value)| std::cmp::Reverse(value.len()));
    map_strings(plan, &|s| {
        ordered
            .iter()
            .filter(|(_, value)| !value.is_empty())
            .fold(s.to_owned(), |s, (placeholder, value)| {
                s.replace(value.as_str(), placeholder)
            })
    })
}

/// `plan` with placeholders replaced by this goal's values.
fn inject(plan: &Value, params: &[(String, String)]) -> Value {
    map_strings(plan, &|s| {
        params.iter().fold(s.to_owned(), |s, (placeholder, value)| {
            s.replace(placeholder.as_str(), value)
        })
    })
}

fn map_strings(value: &Value, f: &dyn Fn(&str) -> String) -> Value {
    match value {
        Value::String(s) => Value::String(f(s)),
        Value::Array(items) => Value::Array(items.iter().map(|v| map_strings(v, f)).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), map_strings(v, f)))
                .collect(),
        ),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn goals_become_templates_and_parameters() {
        let n = normalise("Book a flight to Paris");
        assert_eq!(n.template, "book a flight to {NAME1}");
        assert_eq!(n.params, vec![("{NAME1}".into(), "Paris".into())]);

        let n = normalise("Book a flight to New York on 2026-12-01 for 2 people.");
        assert_eq!(
            n.template,
            "book a flight to {NAME1} on {DATE1} for {NUMBER1} people"
        );
        assert_eq!(n.params[0].1, "New York");
        assert_eq!(n.params[1].1, "2026-12-01");
        assert_eq!(n.params[2].1, "2");

        let n = normalise("Email ada@example.com the report \"Q3 numbers\" from https://x.io/r");
        assert_eq!(n.template, "email {EMAIL1} the report {TEXT1} from {URL1}");
        assert_eq!(n.params[1].1, "Q3 numbers");
    }

    #[test]
    fn similar_templates_score_high_and_different_ones_low() {
        let a = embed("book a flight to {NAME1}");
        assert!((cosine(&a, &a) - 1.0).abs() < 1e-5);
        let rephrased = embed("please book a flight to {NAME1}");
        let other = embed("delete every log file older than {NUMBER1} days");
        assert!(cosine(&a, &rephrased) >= 0.85, "{}", cosine(&a, &rephrased));
        assert!(cosine(&a, &other) < 0.3, "{}", cosine(&a, &other));
    }

    fn plan_for(city: &str) -> Value {
        json!({"steps": [{"key": "s1", "agent": "default", "tool": "noop",
                          "input": {"note": format!("fly to {city}")}, "depends_on": []}]})
    }

    #[test]
    fn a_hit_injects_the_new_parameters_and_counts() {
        let cache = PlanCache::new(PlanCacheSettings::default());
        let paris = normalise("Book a flight to Paris");
        assert!(cache.lookup(&paris).is_none());
        cache.store(&paris, &plan_for("Paris"));

        let london = normalise("Book a flight to London");
        let hit = cache.lookup(&london).expect("same template");
        assert_eq!(hit.plan, plan_for("London"));
        assert!(hit.similarity > 0.999);

        let unrelated = normalise("Archive the logs of Monday");
        assert!(cache.lookup(&unrelated).is_none(), "a different template");
        let more = normalise("Book a flight to Rome on 2026-01-02");
        assert!(
            cache.lookup(&more).is_none(),
            "other placeholders cannot be filled"
        );

        let stats = cache.stats();
        assert_eq!((stats.hits, stats.misses, stats.entries), (1, 3, 1));
        assert!((stats.hit_rate - 0.25).abs() < 1e-9);
    }

    #[test]
    fn entries_expire_and_the_threshold_is_respected() {
        let cache = PlanCache::new(PlanCacheSettings {
            ttl: Duration::ZERO,
            ..PlanCacheSettings::default()
        });
        let paris = normalise("Book a flight to Paris");
        cache.store(&paris, &plan_for("Paris"));
        assert!(cache.lookup(&paris).is_none(), "expired at once");

        let strict = PlanCache::new(PlanCacheSettings {
            threshold: 0.999,
            ..PlanCacheSettings::default()
        });
        strict.store(&paris, &plan_for("Paris"));
        let rephrased = normalise("Please book a flight to Paris");
        assert!(strict.lookup(&rephrased).is_none());
        let loose = PlanCache::new(PlanCacheSettings {
            threshold: 0.8,
            ..PlanCacheSettings::default()
        });
        loose.store(&paris, &plan_for("Paris"));
        assert!(loose.lookup(&rephrased).is_some());
    }
}
