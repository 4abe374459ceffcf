//! Work the service does on its own while it runs: recording every inference request's
//! figures as time series, and moving data down the store's tiers.

use switchyard_inference::Host;
use switchyard_store::{Maintained, Policy, Store};
use tokio_util::sync::CancellationToken;

/// Every finished inference request's figures, as time series in the store:
/// `inference/MODEL/{ttft_ms, decode_tok_s, prompt_tok_s, queue_wait_ms, completion_tokens}`.
pub async fn record_usage(host: Host, store: Store) {
    let mut usage = host.subscribe_usage();
    loop {
        let u = match usage.recv().await {
            Ok(u) => u,
            Err(tokio::sync::broadcast::error::RecvError::Lagged(missed)) => {
                tracing::warn!(missed, "usage figures dropped: the store fell behind");
                continue;
            }
            Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
        };
        let at_ms = chrono::Utc::now().timestamp_millis();
        let figures = [
            ("ttft_ms", u.ttft_ms),
            ("decode_tok_s", u.decode_tok_s),
            ("prompt_tok_s", u.prompt_tok_s),
            ("queue_wait_ms", u.queue_wait_ms),
            ("completion_tokens", u.completion_tokens as f64),
        ];
        for (name, value) in figures {
            let series = format!("inference/{}/{name}", u.model);
            let point = switchyard_store::series::Point { at_ms, value };
            if let Err(e) = store.append(&series, &[point]).await {
                tracing::warn!(error = %e, %series, "could not record an inference figure");
            }
        }
    }
}

/// Every `interval`: probes the object store (so health notices an outage even while
/// nothing reads), then runs the store's policy once: retention deletes, moves by age and by
/// size, removal of emptied objects. A failure (object storage unreachable, say) is logged
/// and shows in health; the pass is tried again next time, and the data stays where it is,
/// readable, with nothing lost.
pub async fn maintain(
    store: Store,
    policy: Policy,
    interval: std::time::Duration,
    stop: CancellationToken,
) {
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(interval) => {}
        }
        if let Err(e) = store.probe_objects().await {
            tracing::warn!(error = %e, "object store probe failed; tiering waits");
            continue;
        }
        match store.maintain(&policy).await {
            Ok(done) => {
                if done != Maintained::default() {
                    tracing::info!(
                        tiered = done.tiered.records,
                        archived = done.archived.records,
                        expired_l2 = done.expired[0],
                        expired_l3 = done.expired[1],
                        expired_l4 = done.expired[2],
                        objects_removed = done.objects_removed,
                        "store maintenance"
                    );
                }
            }
            Err(e) => tracing::warn!(error = %e, "store maintenance failed; will retry"),
        }
    }
}
