//! Projects: runs and API keys belong to one; users are members of some. Admins see every
//! project; anyone else sees the projects they are a member of; an API key sees its own.
//! What a caller may see is a [`Visibility`], computed once per request.

use switchyard_db::Database;

/// The project everything belongs to unless told otherwise (created by the migration).
pub const DEFAULT: &str = "default";

/// The longest project name.
pub const MAX_NAME: usize = 63;

/// A project and its members' emails.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Project {
    pub name: String,
    pub created_by: String,
    pub created_at_ms: i64,
    pub members: Vec<String>,
}

/// Why a project operation was refused.
#[derive(Debug, thiserror::Error)]
pub enum ProjectError {
    #[error(
        "invalid project name '{0}': expected 1 to {MAX_NAME} lowercase letters, digits, '-' or '_', starting with a letter or digit"
    )]
    BadName(String),
    #[error("a project named {0} already exists")]
    Exists(String),
    #[error("no project named {0}")]
    NotFound(String),
    #[error("no user with id {0}")]
    NoUser(String),
    #[error("the database failed: {0}")]
    Db(#[from] sqlx::Error),
}

/// Which projects a caller sees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Visibility {
    /// Every project (admins, the local operator).
    All,
    /// These projects only (members, API keys).
    Only(Vec<String>),
}

impl Visibility {
    /// Whether a resource in `project` is visible.
    pub fn sees(&self, project: &str) -> bool {
        match self {
            Self::All => true,
            Self::Only(projects) => projects.iter().any(|p| p == project),
        }
    }

    /// As a listing filter: `None` for all.
    pub fn filter(&self) -> Option<&[String]> {
        match self {
            Self::All => None,
            Self::Only(projects) => Some(projects),
        }
    }
}

/// Checks a project name.
pub fn check_name(name: &str) -> Result<(), ProjectError> {
    let ok = !name.is_empty()
        && name.len() <= MAX_NAME
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
        && name
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphanumeric());
    if ok {
        Ok(())
    } else {
        Err(ProjectError::BadName(name.to_owned()))
    }
}

/// Creates a project.
pub async fn create(db: &Database, name: &str, created_by: &str) -> Result<(), ProjectError> {
    check_name(name)?;
    const SQL: &str = "INSERT INTO projects (name, created_by, created_at_ms) VALUES ($1, $2, $3) \
                       ON CONFLICT (name) DO NOTHING";
    let inserted = on_pool!(db, pool => sqlx::query(SQL)
        .bind(name)
        .bind(created_by)
        .bind(crate::now_ms())
        .execute(pool)
        .await?
        .rows_affected());
    if inserted == 0 {
        return Err(ProjectError::Exists(name.to_owned()));
    }
    Ok(())
}

/// Whether project `name` exists.
pub async fn exists(db: &Database, name: &str) -> Result<bool, ProjectError> {
    let found: Option<String> = on_pool!(db, pool => sqlx::query_scalar(
        "SELECT name FROM projects WHERE name = $1")
        .bind(name)
        .fetch_optional(pool)
        .await?);
    Ok(found.is_some())
}

/// [`ProjectError::NotFound`] unless project `name` exists.
pub async fn require(db: &Database, name: &str) -> Result<(), ProjectError> {
    if exists(db, name).await? {
        Ok(())
    } else {
        Err(ProjectError::NotFound(name.to_owned()))
    }
}

/// Every project with its members, by name.
pub async fn list(db: &Database) -> Result<Vec<Project>, ProjectError> {
    let projects: Vec<(String, String, i64)> = on_pool!(db, pool => sqlx::query_as(
        "SELECT name, created_by, created_at_ms FROM projects ORDER BY name")
        .fetch_all(pool)
        .await?);
    let members: Vec<(String, String)> = on_pool!(db, pool => sqlx::query_as(
        "SELECT m.project, u.email FROM project_members m JOIN users u ON u.id = m.user_id \
         ORDER BY u.email")
        .fetch_all(pool)
        .await?);
    Ok(projects
        .into_iter()
        .map(|(name, created_by, created_at_ms)| Project {
            members: members
                .iter()
                .filter(|(project, _)| *project == name)
                .map(|(_, email)| email.clone())
                .collect(),
            name,
            created_by,
            created_at_ms,
        })
        .collect())
}

/// Makes user `user_id` a member of `project` (already one: no change).
pub async fn add_member(db: &Database, project: &str, user_id: &str) -> Result<(), ProjectError> {
    require(db, project).await?;
    if crate::users::by_id(db, user_id)
        .await
        .map_err(|e| match e {
            crate::UserError::Db(e) => ProjectError::Db(e),
            other => ProjectError::NoUser(other.to_string()),
        })?
        .is_none()
    {
        return Err(ProjectError::NoUser(user_id.to_owned()));
    }
    const SQL: &str = "INSERT INTO project_members (project, user_id) VALUES ($1, $2) \
                       ON CONFLICT (project, user_id) DO NOTHING";
    on_pool!(db, pool => sqlx::query(SQL).bind(project).bind(user_id).execute(pool).await.map(|_| ())?);
    Ok(())
}

/// Takes user `user_id` out of `project` (not a member: no change).
pub async fn remove_member(
    db: &Database,
    project: &str,
    user_id: &str,
) -> Result<(), ProjectError> {
    require(db, project).await?;
    on_pool!(db, pool => sqlx::query(
        "DELETE FROM project_members WHERE project = $1 AND user_id = $2")
        .bind(project)
        .bind(user_id)
        .execute(pool)
        .await
        .map(|_| ())?);
    Ok(())
}

/// The projects user `user_id` is a member of, by name.
pub async fn of_user(db: &Database, user_id: &str) -> Result<Vec<String>, ProjectError> {
    Ok(on_pool!(db, pool => sqlx::query_scalar(
        "SELECT project FROM project_members WHERE user_id = $1 ORDER BY project")
        .bind(user_id)
        .fetch_all(pool)
        .await?))
}

/// What user `user` sees: everything for an admin, its projects otherwise.
pub async fn visibility_of(db: &Database, user: &crate::User) -> Result<Visibility, ProjectError> {
    if user.role == crate::Role::Admin {
        return Ok(Visibility::All);
    }
    Ok(Visibility::Only(of_user(db, &user.id).await?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_slugs_and_visibility_filters() {
        for good in ["default", "team-a", "x", "ops_2"] {
            assert!(check_name(good).is_ok(), "{good}");
        }
        for bad in ["", "Team", "-a", "a b", "a/b", &"a".repeat(64)] {
            assert!(
                matches!(check_name(bad), Err(ProjectError::BadName(_))),
                "{bad}"
            );
        }
        let only = Visibility::Only(vec!["a".into()]);
        assert!(only.sees("a") && !only.sees("b"));
        assert!(Visibility::All.sees("b"));
        assert_eq!(Visibility::All.filter(), None);
        assert_eq!(only.filter(), Some(&["a".to_owned()][..]));
    }
}
