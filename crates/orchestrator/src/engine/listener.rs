//! PostgreSQL `LISTEN`: what other engines committed reaches this one.
//!
//! One task per engine holds a listening connection. For each notification from another
//! engine it republishes that engine's new events on this engine's bus (read from
//! `run_events`, and only when someone here is subscribed), then hands the notice to the
//! coordinator (reload runs it owns that changed, claim what was offered). After the
//! connection drops and comes back, notifications may have been missed, so the coordinator is
//! told to look again at everything.

use std::time::Duration;

use sqlx::postgres::{PgListener, PgPool};
use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use super::Msg;
use crate::runlog::RunLog;
use crate::runlog::notify::{self, Notice};

/// Starts listening; the returned receiver fires once the first `LISTEN` is in place, so an
/// engine can start only when it will hear every commit from then on.
pub(super) fn spawn(
    pool: PgPool,
    store: RunLog,
    me: String,
    tx: mpsc::UnboundedSender<Msg>,
    events: Arc<super::bus::Bus>,
    stop: CancellationToken,
) -> oneshot::Receiver<()> {
    let (listening, heard) = oneshot::channel();
    tokio::spawn(async move {
        tokio::select! {
            () = listen(pool, store, me, tx, events, listening) => {}
            () = stop.cancelled() => {}
        }
    });
    heard
}

async fn listen(
    pool: PgPool,
    store: RunLog,
    me: String,
    tx: mpsc::UnboundedSender<Msg>,
    events: Arc<super::bus::Bus>,
    listening: oneshot::Sender<()>,
) {
    let mut listening = Some(listening);
    loop {
        let mut listener = match connect(&pool).await {
            Ok(listener) => listener,
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for other engines; retrying in 1 s");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        if let Some(listening) = listening.take() {
            let _ = listening.send(());
        }
        events.release_held();
        if tx.send(Msg::Resync).is_err() {
            return;
        }
        loop {
            match listener.try_recv().await {
                Ok(Some(notification)) => {
                    let Some(notice) = notify::parse(notification.payload()) else {
                        continue;
                    };
                    if notice.writer == me {
                        continue;
                    }
                    republish(&store, &events, &notice).await;
                    if tx.send(Msg::Remote(notice)).is_err() {
                        return;
                    }
                }
                // The connection dropped; the next call reconnects and listens again.
                Ok(None) => {
                    events.release_held();
                    if tx.send(Msg::Resync).is_err() {
                        return;
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "lost the listening connection; reconnecting");
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    break;
                }
            }
        }
    }
}

async fn connect(pool: &PgPool) -> Result<PgListener, sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(notify::CHANNEL).await?;
    Ok(listener)
}

/// Another engine's events, published here in order, for this process's subscribers.
async fn republish(store: &RunLog, events: &super::bus::Bus, notice: &Notice) {
    if events.receiver_count() == 0 {
        return;
    }
    for change in &notice.changes {
        match store
            .events(&change.run_id, change.first_seq.saturating_sub(1))
            .await
        {
            Ok(found) => {
                for event in found.into_iter().filter(|e| e.seq <= change.last_seq) {
                    events.publish(&change.run_id, event);
                }
            }
            Err(e) => {
                tracing::warn!(run_id = %change.run_id, error = %e, "cannot read another engine's events");
            }
        }
    }
}
