//! Time series: numeric points per series, rolled up as they arrive.
//!
//! Each appended point is folded into a 1 s, a 1 min and a 1 h bucket (count, sum, min, max,
//! and the latest value with its time). A query picks the coarsest resolution that fits its
//! step and merges those buckets into steps, so reading a day at 1 min steps touches 1,440
//! rows, not every point. Appends are batched: one statement per few thousand buckets.

use std::collections::BTreeMap;

use switchyard_db::Database;

/// Bucket widths, finest first.
pub const RESOLUTIONS_S: [i64; 3] = [1, 60, 3_600];

/// One measurement.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    pub at_ms: i64,
    pub value: f64,
}

/// The points of one step of a query.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bucket {
    pub start_ms: i64,
    pub count: u64,
    pub sum: f64,
    pub min: f64,
    pub max: f64,
    /// The latest point's value, and when it was taken.
    pub last: f64,
    pub last_at_ms: i64,
}

impl Bucket {
    fn of(start_ms: i64, point: Point) -> Self {
        Self {
            start_ms,
            count: 1,
            sum: point.value,
            min: point.value,
            max: point.value,
            last: point.value,
            last_at_ms: point.at_ms,
        }
    }

    fn merge(&mut self, other: &Self) {
        self.count += other.count;
        self.sum += other.sum;
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
        if other.last_at_ms >= self.last_at_ms {
            self.last = other.last;
            self.last_at_ms = other.last_at_ms;
        }
    }

    pub fn mean(&self) -> f64 {
        self.sum / self.count as f64
    }
}

/// The latest time a point may have: the end of year 9999, in milliseconds since 1970.
pub const MAX_AT_MS: i64 = 253_402_300_799_999;

fn bucket_start(at_ms: i64, width_ms: i64) -> i64 {
    at_ms.div_euclid(width_ms) * width_ms
}

/// Why an append or a query was refused before touching the database.
#[derive(Debug, thiserror::Error)]
pub enum SeriesError {
    #[error("point at {at_ms} ms has a value that is not a finite number")]
    NotFinite { at_ms: i64 },
    #[error("point at {at_ms} ms is outside 0 to {MAX_AT_MS} ms (1970 to the end of year 9999)")]
    Time { at_ms: i64 },
    #[error("step must be at least 1000 ms, got {0}")]
    Step(i64),
    #[error("the database failed: {0}")]
    Db(#[from] sqlx::Error),
}

type Key = (i64, i64); // (resolution_s, bucket_ms)

/// Folds `points` into `series`' buckets at every resolution.
pub async fn append(db: &Database, series: &str, points: &[Point]) -> Result<(), SeriesError> {
    if let Some(bad) = points.iter().find(|p| !p.value.is_finite()) {
        return Err(SeriesError::NotFinite { at_ms: bad.at_ms });
    }
    if let Some(bad) = points.iter().find(|p| !(0..=MAX_AT_MS).contains(&p.at_ms)) {
        return Err(SeriesError::Time { at_ms: bad.at_ms });
    }
    let mut buckets: BTreeMap<Key, Bucket> = BTreeMap::new();
    for point in points {
        for resolution in RESOLUTIONS_S {
            let start = bucket_start(point.at_ms, resolution * 1_000);
            let fresh = Bucket::of(start, *point);
            buckets
                .entry((resolution, start))
                .and_modify(|b| b.merge(&fresh))
                .or_insert(fresh);
        }
    }
    let rows: Vec<(Key, Bucket)> = buckets.into_iter().collect();
    let (least, greatest) = match db {
        Database::Sqlite(_) => ("min", "max"),
        Database::Postgres(_) => ("LEAST", "GREATEST"),
    };
    let conflict = format!(
        " ON CONFLICT (series, resolution_s, bucket_ms) DO UPDATE SET \
         count = store_series.count + excluded.count, sum = store_series.sum + excluded.sum, \
         min = {least}(store_series.min, excluded.min), \
         max = {greatest}(store_series.max, excluded.max), \
         last = CASE WHEN excluded.last_at_ms >= store_series.last_at_ms \
                THEN excluded.last ELSE store_series.last END, \
         last_at_ms = {greatest}(store_series.last_at_ms, excluded.last_at_ms)"
    );
    on_pool!(db, pool => {
        let mut tx = pool.begin().await?;
        for chunk in rows.chunks(3_000) {
            let mut insert = sqlx::QueryBuilder::new(
                "INSERT INTO store_series (series, resolution_s, bucket_ms, count, sum, min, max, \
                 last, last_at_ms) ",
            );
            insert.push_values(chunk, |mut row, ((resolution, start), b)| {
                row.push_bind(series)
                    .push_bind(*resolution)
                    .push_bind(*start)
                    .push_bind(b.count as i64)
                    .push_bind(b.sum)
                    .push_bind(b.min)
                    .push_bind(b.max)
                    .push_bind(b.last)
                    .push_bind(b.last_at_ms);
            });
            insert.push(&conflict);
            insert.build().execute(&mut *tx).await?;
        }
        tx.commit().await?;
    });
    Ok(())
}

type Row = (i64, i64, f64, f64, f64, f64, i64);

/// `series` between `from_ms` (inclusive) and `to_ms` (exclusive) in steps of `step_ms`,
/// read from the coarsest rollup that fits the step; steps with no points are left out.
pub async fn query(
    db: &Database,
    series: &str,
    from_ms: i64,
    to_ms: i64,
    step_ms: i64,
) -> Result<Vec<Bucket>, SeriesError> {
    if step_ms < 1_000 {
        return Err(SeriesError::Step(step_ms));
    }
    let resolution = RESOLUTIONS_S
        .iter()
        .rev()
        .copied()
        .find(|r| r * 1_000 <= step_ms && step_ms % (r * 1_000) == 0)
        .unwrap_or(1);
    const SQL: &str = "SELECT bucket_ms, count, sum, min, max, last, last_at_ms FROM store_series \
                       WHERE series = $1 AND resolution_s = $2 AND bucket_ms >= $3 AND bucket_ms < $4 \
                       ORDER BY bucket_ms";
    let from = bucket_start(from_ms, resolution * 1_000);
    let rows: Vec<Row> = on_pool!(db, pool => sqlx::query_as(SQL)
        .bind(series)
        .bind(resolution)
        .bind(from)
        .bind(to_ms)
        .fetch_all(pool)
        .await?);
    let mut steps: BTreeMap<i64, Bucket> = BTreeMap::new();
    for (bucket_ms, count, sum, min, max, last, last_at_ms) in rows {
        let start = from_ms + (bucket_ms.max(from_ms) - from_ms).div_euclid(step_ms) * step_ms;
        let bucket = Bucket {
            start_ms: start,
            count: count as u64,
            sum,
            min,
            max,
            last,
            last_at_ms,
        };
        steps
            .entry(start)
            .and_modify(|b| b.merge(&bucket))
            .or_insert(bucket);
    }
    Ok(steps.into_values().collect())
}

/// The most recent point of `series`.
pub async fn latest(db: &Database, series: &str) -> Result<Option<Point>, SeriesError> {
    const SQL: &str = "SELECT last_at_ms, last FROM store_series \
                       WHERE series = $1 AND resolution_s = 1 ORDER BY bucket_ms DESC LIMIT 1";
    let row: Option<(i64, f64)> =
        on_pool!(db, pool => sqlx::query_as(SQL).bind(series).fetch_optional(pool).await?);
    Ok(row.map(|(at_ms, value)| Point { at_ms, value }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_merge_and_start_on_their_boundary() {
        assert_eq!(bucket_start(61_500, 60_000), 60_000);
        assert_eq!(bucket_start(-1, 1_000), -1_000);
        let mut a = Bucket::of(
            0,
            Point {
                at_ms: 10,
                value: 2.0,
            },
        );
        a.merge(&Bucket::of(
            0,
            Point {
                at_ms: 5,
                value: 8.0,
            },
        ));
        assert_eq!(
            (a.count, a.sum, a.min, a.max, a.last),
            (2, 10.0, 2.0, 8.0, 2.0)
        );
        assert_eq!(a.mean(), 5.0);
    }
}
