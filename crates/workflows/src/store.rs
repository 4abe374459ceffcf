//! The `workflow_templates` and `workflow_runs` tables, on SQLite or PostgreSQL.
//!
//! A save never changes a stored version: it adds the next one (1, 2, …). Two saves of one
//! name at once both land, one after the other (the one that loses the race for a version
//! number takes the next).

use serde_json::Value;
use switchyard_db::{Database, on_pool};

/// One version of a template, as stored.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Template {
    pub name: String,
    pub version: i64,
    /// Where its runs go; only the project's members see it.
    pub project: String,
    pub description: String,
    /// JSON Schema of the parameters (an object).
    pub params_schema: Value,
    /// The plan, with `{{params.…}}` references, as saved.
    pub plan: Value,
    pub created_by: String,
    pub created_at_ms: i64,
}

/// What a save stores.
#[derive(Debug, Clone)]
pub struct NewTemplate<'a> {
    pub name: &'a str,
    pub project: &'a str,
    pub description: &'a str,
    pub params_schema: &'a Value,
    pub plan: &'a Value,
    pub created_by: &'a str,
}

#[derive(sqlx::FromRow)]
struct Row {
    name: String,
    version: i64,
    project: String,
    description: String,
    params_schema: String,
    plan: String,
    created_by: String,
    created_at_ms: i64,
}

impl Row {
    fn template(self) -> Template {
        Template {
            name: self.name,
            version: self.version,
            project: self.project,
            description: self.description,
            params_schema: serde_json::from_str(&self.params_schema).unwrap_or(Value::Null),
            plan: serde_json::from_str(&self.plan).unwrap_or(Value::Null),
            created_by: self.created_by,
            created_at_ms: self.created_at_ms,
        }
    }
}

const COLUMNS: &str =
    "name, version, project, description, params_schema, plan, created_by, created_at_ms";

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// Stores `new` as the next version of its name and returns it.
pub async fn save(db: &Database, new: &NewTemplate<'_>) -> Result<Template, sqlx::Error> {
    const SQL: &str = "INSERT INTO workflow_templates (name, version, project, description, \
                       params_schema, plan, created_by, created_at_ms) \
                       SELECT $1, COALESCE(MAX(version), 0) + 1, $2, $3, $4, $5, $6, $7 \
                       FROM workflow_templates WHERE name = $1 \
                       RETURNING version";
    let params_schema = new.params_schema.to_string();
    let plan = new.plan.to_string();
    let created_at_ms = now_ms();
    let mut tries = 0;
    let version: i64 = loop {
        tries += 1;
        let inserted = on_pool!(db, pool => {
            sqlx::query_scalar(SQL)
                .bind(new.name)
                .bind(new.project)
                .bind(new.description)
                .bind(&params_schema)
                .bind(&plan)
                .bind(new.created_by)
                .bind(created_at_ms)
                .fetch_one(pool)
                .await
        });
        match inserted {
            Ok(version) => break version,
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() && tries < 5 => continue,
            Err(e) => return Err(e),
        }
    };
    Ok(Template {
        name: new.name.to_owned(),
        version,
        project: new.project.to_owned(),
        description: new.description.to_owned(),
        params_schema: new.params_schema.clone(),
        plan: new.plan.clone(),
        created_by: new.created_by.to_owned(),
        created_at_ms,
    })
}

/// The newest version of `name`, or version `version` of it.
pub async fn get(
    db: &Database,
    name: &str,
    version: Option<i64>,
) -> Result<Option<Template>, sqlx::Error> {
    let row: Option<Row> = match version {
        Some(version) => {
            let sql = format!(
                "SELECT {COLUMNS} FROM workflow_templates WHERE name = $1 AND version = $2"
            );
            on_pool!(db, pool => sqlx::query_as(&sql).bind(name).bind(version).fetch_optional(pool).await)?
        }
        None => {
            let sql = format!(
                "SELECT {COLUMNS} FROM workflow_templates WHERE name = $1 \
                 ORDER BY version DESC LIMIT 1"
            );
            on_pool!(db, pool => sqlx::query_as(&sql).bind(name).fetch_optional(pool).await)?
        }
    };
    Ok(row.map(Row::template))
}

/// The newest version of every template, by name.
pub async fn list(db: &Database) -> Result<Vec<Template>, sqlx::Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM workflow_templates t WHERE version = \
         (SELECT MAX(version) FROM workflow_templates u WHERE u.name = t.name) ORDER BY name"
    );
    let rows: Vec<Row> = on_pool!(db, pool => sqlx::query_as(&sql).fetch_all(pool).await)?;
    Ok(rows.into_iter().map(Row::template).collect())
}

/// How many versions `name` has.
pub async fn versions(db: &Database, name: &str) -> Result<i64, sqlx::Error> {
    const SQL: &str = "SELECT COUNT(*) FROM workflow_templates WHERE name = $1";
    on_pool!(db, pool => sqlx::query_scalar(SQL).bind(name).fetch_one(pool).await)
}

/// Records that run `run_id` was started from version `version` of `name`.
pub async fn link_run(
    db: &Database,
    run_id: &str,
    name: &str,
    version: i64,
) -> Result<(), sqlx::Error> {
    const SQL: &str = "INSERT INTO workflow_runs (run_id, name, version) VALUES ($1, $2, $3) \
                       ON CONFLICT (run_id) DO NOTHING";
    on_pool!(db, pool => {
        sqlx::query(SQL).bind(run_id).bind(name).bind(version).execute(pool).await?;
    });
    Ok(())
}

/// The template and version that started run `run_id`, if one did.
pub async fn run_origin(db: &Database, run_id: &str) -> Result<Option<(String, i64)>, sqlx::Error> {
    const SQL: &str = "SELECT name, version FROM workflow_runs WHERE run_id = $1";
    on_pool!(db, pool => sqlx::query_as(SQL).bind(run_id).fetch_optional(pool).await)
}

/// The newest runs of `name` (run ids are time-ordered), at most `limit`.
pub async fn runs_of(db: &Database, name: &str, limit: i64) -> Result<Vec<String>, sqlx::Error> {
    const SQL: &str =
        "SELECT run_id FROM workflow_runs WHERE name = $1 ORDER BY run_id DESC LIMIT $2";
    on_pool!(db, pool => sqlx::query_scalar(SQL).bind(name).bind(limit).fetch_all(pool).await)
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use switchyard_db::testing;

    use super::*;

    async fn exercise(db: &Database) {
        let schema = json!({"type": "object"});
        let plan = json!({"steps": []});
        let new = NewTemplate {
            name: "onboard",
            project: "default",
            description: "first",
            params_schema: &schema,
            plan: &plan,
            created_by: "tester",
        };
        assert_eq!(save(db, &new).await.unwrap().version, 1);
        let second = save(
            db,
            &NewTemplate {
                description: "second",
                ..new.clone()
            },
        )
        .await
        .unwrap();
        assert_eq!(second.version, 2);
        save(
            db,
            &NewTemplate {
                name: "other",
                ..new.clone()
            },
        )
        .await
        .unwrap();
        let newest = get(db, "onboard", None).await.unwrap().unwrap();
        assert_eq!((newest.version, newest.description.as_str()), (2, "second"));
        assert_eq!(newest.params_schema, schema);
        let first = get(db, "onboard", Some(1)).await.unwrap().unwrap();
        assert_eq!(first.description, "first");
        assert!(get(db, "missing", None).await.unwrap().is_none());
        let names: Vec<(String, i64)> = list(db)
            .await
            .unwrap()
            .into_iter()
            .map(|t| (t.name, t.version))
            .collect();
        assert_eq!(names, [("onboard".to_owned(), 2), ("other".to_owned(), 1)]);
        assert_eq!(versions(db, "onboard").await.unwrap(), 2);
        link_run(db, "run-1", "onboard", 2).await.unwrap();
        link_run(db, "run-1", "onboard", 2).await.unwrap();
        link_run(db, "run-2", "onboard", 1).await.unwrap();
        assert_eq!(
            run_origin(db, "run-1").await.unwrap(),
            Some(("onboard".to_owned(), 2))
        );
        assert_eq!(run_origin(db, "run-3").await.unwrap(), None);
        assert_eq!(
            runs_of(db, "onboard", 10).await.unwrap(),
            ["run-2", "run-1"]
        );
    }

    #[tokio::test]
    async fn versions_and_run_links_on_sqlite() {
        let dir = tempfile::tempdir().unwrap();
        let db = testing::sqlite_in(dir.path()).await;
        exercise(&db).await;
    }

    #[tokio::test]
    async fn versions_and_run_links_on_postgres() {
        let pg = testing::TempPostgres::create().await;
        let db = pg.database().await;
        exercise(&db).await;
        db.close().await;
        pg.drop_database().await;
    }
}
