//! The two migration chains: `migrations/public` (the registry) and
//! `migrations/tenant` (replayed into every `tenant_<slug>` schema).
//!
//! Both chains are embedded in the binary. Each schema keeps its own history
//! table (`public._sqlx_migrations`, `tenant_<slug>._sqlx_migrations`), so a
//! tenant can be migrated alone. sqlx records history in the first schema on
//! the search path unless told otherwise, so the history table is always
//! named with its schema, and the chain runs in a transaction whose
//! `search_path` is that schema only: the chain's unqualified SQL lands
//! there and nowhere else. The whole chain of one schema is one transaction
//! (each migration a savepoint inside it), guarded by a transaction-scoped
//! advisory lock, so a failed chain leaves nothing behind and two nodes
//! migrating the same schema at once take turns.

use sqlx::migrate::Migrator;
use sqlx::{PgConnection, Row};

use super::{Db, StorageError};
use crate::core::ids::TenantSlug;

static PUBLIC_CHAIN: Migrator = sqlx::migrate!("./migrations/public");
static TENANT_CHAIN: Migrator = sqlx::migrate!("./migrations/tenant");

/// What [`migrate_all`] did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct MigrationReport {
    /// Versions newly applied to `public`.
    pub public_applied: Vec<i64>,
    /// Tenants whose chain was checked, with the versions newly applied.
    pub tenants: Vec<(TenantSlug, Vec<i64>)>,
}

/// The versions in the tenant chain, oldest first.
pub fn tenant_chain_versions() -> Vec<i64> {
    TENANT_CHAIN.iter().map(|m| m.version).collect()
}

/// The versions in the public chain, oldest first.
pub fn public_chain_versions() -> Vec<i64> {
    PUBLIC_CHAIN.iter().map(|m| m.version).collect()
}

/// Applies the public chain; returns the versions it newly applied.
pub async fn migrate_public(db: &Db) -> Result<Vec<i64>, StorageError> {
    let mut tx = db.pool().begin().await?;
    let applied = run_chain(&mut tx, &PUBLIC_CHAIN, "public").await?;
    tx.commit().await?;
    Ok(applied)
}

/// Applies the tenant chain to one existing tenant schema.
pub async fn migrate_tenant(db: &Db, slug: &TenantSlug) -> Result<Vec<i64>, StorageError> {
    let mut tx = db.pool().begin().await?;
    let exists: bool = sqlx::query_scalar("SELECT to_regnamespace($1) IS NOT NULL")
        .bind(slug.schema_name())
        .fetch_one(&mut *tx)
        .await?;
    if !exists {
        return Err(StorageError::UnknownTenant(slug.clone()));
    }
    let applied = run_chain(&mut tx, &TENANT_CHAIN, &slug.schema_name()).await?;
    grant_tenant_role(&mut tx, slug).await?;
    tx.commit().await?;
    Ok(applied)
}

/// Makes the tenant's role (if missing) and grants it its own schema's
/// tables and sequences, and nothing else. Run after every tenant chain, so
/// tables a later migration adds are granted too. Roles are cluster-wide:
/// two databases (or two onboardings racing) creating the same one is
/// expected, and whoever loses the race finds it made.
pub(crate) async fn grant_tenant_role(
    conn: &mut PgConnection,
    slug: &TenantSlug,
) -> Result<(), StorageError> {
    let (role, schema) = (slug.role_name(), slug.schema_name());
    // Identifiers are spliced: both come from a validated slug.
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DO $$ BEGIN \
           BEGIN CREATE ROLE {role} NOLOGIN; \
           EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END; \
           BEGIN GRANT {role} TO CURRENT_USER; \
           EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END; \
         END $$"
    )))
    .execute(&mut *conn)
    .await?;
    for grant in [
        format!("GRANT USAGE ON SCHEMA {schema} TO {role}"),
        format!("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {role}"),
        format!("GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA {schema} TO {role}"),
    ] {
        sqlx::query(sqlx::AssertSqlSafe(grant))
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Creates the tenant's schema if needed and applies the tenant chain, on a
/// connection already inside a transaction (onboarding uses this so the
/// registry row, the schema and the chain commit or roll back together).
pub(crate) async fn create_and_migrate_tenant_in(
    conn: &mut PgConnection,
    slug: &TenantSlug,
) -> Result<Vec<i64>, StorageError> {
    let schema = slug.schema_name();
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "CREATE SCHEMA IF NOT EXISTS {schema}"
    )))
    .execute(&mut *conn)
    .await?;
    let applied = run_chain(conn, &TENANT_CHAIN, &schema).await?;
    grant_tenant_role(conn, slug).await?;
    Ok(applied)
}

/// The public chain, then every live tenant's chain.
pub async fn migrate_all(db: &Db) -> Result<MigrationReport, StorageError> {
    let public_applied = migrate_public(db).await?;
    let rows = sqlx::query(
        "SELECT slug FROM public.tenants \
         WHERE schema_name IS NOT NULL AND slug IS NOT NULL \
           AND status IS DISTINCT FROM 'deleted' \
         ORDER BY slug",
    )
    .fetch_all(db.pool())
    .await?;
    let mut tenants = Vec::with_capacity(rows.len());
    for row in rows {
        let raw: String = row.try_get("slug")?;
        let slug = TenantSlug::parse(&raw)
            .map_err(|e| StorageError::Corrupt(format!("registry slug: {e}")))?;
        let applied = migrate_tenant(db, &slug).await?;
        tenants.push((slug, applied));
    }
    Ok(MigrationReport {
        public_applied,
        tenants,
    })
}

/// Runs `chain` into `schema` on a connection inside a transaction. Returns
/// the versions newly applied.
async fn run_chain(
    conn: &mut PgConnection,
    chain: &Migrator,
    schema: &str,
) -> Result<Vec<i64>, StorageError> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext('ratiba-migrate:' || $1))")
        .bind(schema)
        .execute(&mut *conn)
        .await?;
    sqlx::query("SELECT set_config('search_path', $1, true)")
        .bind(schema)
        .execute(&mut *conn)
        .await?;
    let history = format!("{schema}._sqlx_migrations");
    let before = applied_versions(conn, schema).await?;

    let mut migrator = Migrator::with_migrations(chain.iter().cloned().collect());
    migrator.dangerous_set_table_name(history);
    // The advisory lock above is transaction-scoped; sqlx's own lock is
    // session-scoped and would outlive a failed chain on a pooled connection.
    migrator.set_locking(false);
    migrator.run(&mut *conn).await?;

    let after = applied_versions(conn, schema).await?;
    Ok(after.into_iter().filter(|v| !before.contains(v)).collect())
}

async fn applied_versions(conn: &mut PgConnection, schema: &str) -> Result<Vec<i64>, StorageError> {
    let has_table: bool = sqlx::query_scalar("SELECT to_regclass($1) IS NOT NULL")
        .bind(format!("{schema}._sqlx_migrations"))
        .fetch_one(&mut *conn)
        .await?;
    if !has_table {
        return Ok(Vec::new());
    }
    let versions = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT version FROM {schema}._sqlx_migrations WHERE success ORDER BY version"
    )))
    .fetch_all(&mut *conn)
    .await?;
    Ok(versions)
}
