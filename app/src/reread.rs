//! Reading something again after it changed, without a flood of reads: the pages that follow
//! a run or the approvals keep what the server rendered, then read it again in the browser
//! each time their live signals say it changed.

use leptos::prelude::*;

/// In the browser: each time `changes` gives something new, `read` again and put what it
/// answers into `latest` (a failed read, `None`, leaves it as it was). The first pass reads
/// nothing: what is on screen is already current. One read at a time: changes that arrive
/// while one is under way (a burst of events) ask for one more read after it, not one each.
pub fn reread_on_change<T, V, Fut>(
    changes: impl Fn() -> T + 'static,
    read: impl Fn() -> Fut + Copy + 'static,
    latest: RwSignal<Option<V>>,
) where
    T: PartialEq + 'static,
    V: Send + Sync + 'static,
    Fut: std::future::Future<Output = Option<V>> + 'static,
{
    #[cfg(feature = "hydrate")]
    {
        // (a read is under way, a change came since it started)
        let reading = StoredValue::new((false, false));
        Effect::new(move |seen: Option<T>| {
            let now = changes();
            if seen.is_none() {
                return now;
            }
            let idle = reading.with_value(|r| !r.0);
            reading.set_value((true, true));
            if idle {
                leptos::task::spawn_local(async move {
                    while reading.with_value(|r| r.1) {
                        reading.update_value(|r| r.1 = false);
                        if let Some(value) = read().await {
                            latest.set(Some(value));
                        }
                    }
                    reading.update_value(|r| r.0 = false);
                });
            }
            now
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (changes, read, latest);
}
