//! Postgres access. Every tenant query goes through a tenant handle.
//!
//! The database has two pools of tables: the registry in `public` and one
//! schema `tenant_<slug>` per tenant holding that tenant's rows. Code reaches
//! tenant tables only through [`TenantHandle::begin`], which opens a
//! transaction whose `search_path` is that one tenant's schema, set with
//! `SET LOCAL` so it ends with the transaction: a pooled connection never
//! carries one tenant's scope into the next user's work, and `public` is not
//! on the path, so unqualified tenant SQL cannot fall through to the
//! registry. The schema name is built only from a validated [`TenantSlug`],
//! never from raw input.
//!
//! Cached prepared statements stay correct across tenants: Postgres
//! re-resolves a cached statement's tables when `search_path` changes.

use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgConnection, PgPool, Postgres, Transaction};
use thiserror::Error;

use crate::core::ids::{ParseIdError, TenantSlug};

pub mod admin;
pub mod booking;
pub mod briefing;
pub mod call_rows;
pub mod catalog_changes;
pub mod conversation;
pub mod crypto;
pub mod embedded;
pub mod handoff;
pub mod inbox;
pub mod migrate;
pub mod onboarding;
pub mod payments;
pub mod reaper;
pub mod registry;
pub mod reminders;
pub mod seed;
pub mod web;

pub use crypto::Vault;
pub use onboarding::{NewTenant, Onboarded, Vertical};
pub use registry::TenantRecord;

/// What went wrong talking to the database, and whose fault it is.
#[derive(Debug, Error)]
pub enum StorageError {
    /// The database could not be reached (operator / environment).
    #[error("database unreachable: {0}")]
    Unreachable(#[source] sqlx::Error),
    /// A query failed in a way the caller could not have caused (our bug or
    /// the database's state).
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// A migration chain failed to apply (our bug or a hand-edited schema).
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The named tenant has no schema (caller asked for an unknown tenant).
    #[error("tenant {0} does not exist")]
    UnknownTenant(TenantSlug),
    /// A unique constraint refused the row (caller supplied a duplicate).
    #[error("already taken: {constraint}")]
    Conflict { constraint: String },
    /// The caller supplied a value the database's rules refuse.
    #[error("invalid input: {0}")]
    Invalid(String),
    /// A value the caller supplied could not be parsed.
    #[error(transparent)]
    Parse(#[from] ParseIdError),
    /// A row held a value our types cannot represent (data corruption or a
    /// schema drift: ours to fix).
    #[error("unexpected value in the database: {0}")]
    Corrupt(String),
    /// Encrypting or decrypting a credential failed.
    #[error(transparent)]
    Crypto(#[from] crypto::CryptoError),
    /// Reading fixture data failed (our bug: fixtures ship with the binary).
    #[error("fixture {name}: {reason}")]
    Fixture { name: &'static str, reason: String },
}

impl StorageError {
    /// Turns unique and check violations into caller-facing errors; other
    /// errors stay database errors.
    pub(crate) fn classify(err: sqlx::Error) -> Self {
        if let sqlx::Error::Database(db) = &err {
            let constraint = db.constraint().unwrap_or("unknown").to_owned();
            if db.is_unique_violation() {
                return Self::Conflict { constraint };
            }
            if db.is_check_violation() || db.is_foreign_key_violation() {
                return Self::Invalid(format!("violates {constraint}"));
            }
        }
        Self::Database(err)
    }
}

/// The connection pool. Cheap to clone (the pool is reference-counted).
#[derive(Clone, Debug)]
pub struct Db {
    pool: PgPool,
}

impl Db {
    /// Connects with the default pool size (16).
    pub async fn connect(url: &str) -> Result<Db, StorageError> {
        Self::connect_with(url, 16).await
    }

    /// Connects and checks the server answers.
    pub async fn connect_with(url: &str, max_connections: u32) -> Result<Db, StorageError> {
        let options: PgConnectOptions = url
            .parse::<PgConnectOptions>()
            .map_err(StorageError::Unreachable)?
            .application_name("ratiba");
        let pool = PgPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await
            .map_err(StorageError::Unreachable)?;
        Ok(Db { pool })
    }

    /// Wraps an existing pool (tests that need a specific pool shape).
    pub fn from_pool(pool: PgPool) -> Db {
        Db { pool }
    }

    /// The raw pool: for registry (`public.*`) queries only.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// A handle on one tenant's schema. Does not touch the database; an
    /// unknown tenant is reported by [`TenantHandle::begin`].
    pub fn tenant(&self, slug: &TenantSlug) -> TenantHandle {
        TenantHandle {
            db: self.clone(),
            slug: slug.clone(),
        }
    }

    /// Whether the database answers a trivial query.
    pub async fn ping(&self) -> Result<(), StorageError> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map_err(StorageError::Unreachable)?;
        Ok(())
    }

    /// Closes every pooled connection (waits for those in use).
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// SQLSTATE of a schema that does not exist.
const INVALID_SCHEMA_NAME: &str = "3F000";

/// `text` as an SQL string literal, for the statements sent with a
/// transaction's scoping in one simple query (which takes no parameters):
/// dollar-quoted with a tag that does not occur in `text` (nor where `text`
/// meets the closing tag), so nothing in it can end the literal early; it
/// needs no escapes and does not depend on `standard_conforming_strings`.
/// NUL characters (which Postgres text cannot hold) are dropped.
pub(crate) fn sql_literal(text: &str) -> String {
    let text = text.replace('\0', "");
    let mut n = 0u64;
    loop {
        let tag = format!("$q{n}$");
        let body = format!("{text}{tag}");
        if body.find(&tag) == Some(text.len()) {
            return format!("{tag}{body}");
        }
        n += 1;
    }
}

/// One tenant's scope. The only way to run SQL against tenant tables.
#[derive(Clone, Debug)]
pub struct TenantHandle {
    db: Db,
    slug: TenantSlug,
}

impl TenantHandle {
    pub fn slug(&self) -> &TenantSlug {
        &self.slug
    }

    /// A transaction whose `search_path` is `tenant_<slug>` only, run as
    /// the tenant's own role (both `SET LOCAL`, so they end with the
    /// transaction and never leak to the next pooled user): unqualified SQL
    /// lands in this tenant's schema, and SQL naming any other schema's
    /// tables is refused by the database. Fails with
    /// [`StorageError::UnknownTenant`] if the tenant's schema does not exist.
    pub async fn begin(&self) -> Result<TenantTx, StorageError> {
        self.begin_with(false, "").await
    }

    /// As [`Self::begin`], and runs `then` (statements built only from
    /// constants and [`sql_literal`]s: the simple query takes no
    /// parameters) in the same round trip.
    pub(in crate::storage) async fn begin_then(
        &self,
        then: &str,
    ) -> Result<TenantTx, StorageError> {
        self.begin_with(false, then).await
    }

    /// Runs `statement` (built as for [`Self::begin_then`]) in a
    /// transaction of its own scoped as [`Self::begin`] does, committed
    /// without waiting for the database to flush it to disk
    /// (`synchronous_commit = off` for it only: a crash of the database
    /// within a fraction of a second after may undo it, never partly; only
    /// for writes whose loss is harmless): all in one round trip (a simple query of several statements is one
    /// transaction; an error undoes it all). Rows affected.
    pub(in crate::storage) async fn run_losable(
        &self,
        statement: &str,
    ) -> Result<u64, StorageError> {
        let sql = format!("{}; {statement}", self.scoping(true));
        let mut conn = self.db.pool.acquire().await?;
        match sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
            .execute(&mut *conn)
            .await
        {
            Ok(done) => Ok(done.rows_affected()),
            Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some(INVALID_SCHEMA_NAME) => {
                Err(StorageError::UnknownTenant(self.slug.clone()))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// The statement scoping a transaction to this tenant. The names are
    /// built from a validated slug (lowercase ASCII, digits, '_'), which
    /// can never carry SQL; the regnamespace cast fails with
    /// invalid_schema_name when the schema does not exist.
    fn scoping(&self, losable: bool) -> String {
        let (schema, role) = (self.slug.schema_name(), self.slug.role_name());
        let unflushed = if losable {
            ", set_config('synchronous_commit', 'off', true)"
        } else {
            ""
        };
        format!(
            "SELECT '{schema}'::regnamespace, set_config('search_path', '{schema}', true), \
             set_config('role', '{role}', true){unflushed}"
        )
    }

    async fn begin_with(&self, losable: bool, then: &str) -> Result<TenantTx, StorageError> {
        // One round trip: BEGIN and the scoping (and `then`) go as one
        // simple query.
        let mut sql = format!("BEGIN; {}", self.scoping(losable));
        if !then.is_empty() {
            sql.push_str("; ");
            sql.push_str(then);
        }
        match self.db.pool.begin_with(sqlx::AssertSqlSafe(sql)).await {
            Ok(tx) => Ok(TenantTx { tx }),
            Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some(INVALID_SCHEMA_NAME) => {
                Err(StorageError::UnknownTenant(self.slug.clone()))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Scopes a transaction already open on the pool (one that has written
    /// registry rows first, for example) to this tenant, as [`Self::begin`]
    /// does: from here on it reaches only this tenant's tables, and what it
    /// did before commits or rolls back with the tenant's rows.
    pub async fn within(
        &self,
        mut tx: Transaction<'static, Postgres>,
    ) -> Result<TenantTx, StorageError> {
        let schema = self.slug.schema_name();
        let exists: bool = sqlx::query_scalar(
            "SELECT CASE WHEN to_regnamespace($1) IS NULL THEN false \
             ELSE set_config('search_path', $1, true) IS NOT NULL \
              AND set_config('role', $2, true) IS NOT NULL END",
        )
        .bind(&schema)
        .bind(self.slug.role_name())
        .fetch_one(&mut *tx)
        .await?;
        if !exists {
            return Err(StorageError::UnknownTenant(self.slug.clone()));
        }
        Ok(TenantTx { tx })
    }
}

/// A transaction scoped to one tenant's schema. Dropping it without
/// [`TenantTx::commit`] rolls back.
#[derive(Debug)]
pub struct TenantTx {
    tx: Transaction<'static, Postgres>,
}

impl TenantTx {
    /// The connection to run unqualified tenant SQL on.
    pub fn conn(&mut self) -> &mut PgConnection {
        &mut self.tx
    }

    /// Starts a savepoint, so a refused write (or a database error) can be
    /// undone by [`TenantTx::end_savepoint`] leaving the rest of the
    /// transaction usable. One at a time (they are not nested).
    pub async fn savepoint(&mut self) -> Result<(), StorageError> {
        sqlx::query("SAVEPOINT tenant_write")
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    /// Ends the savepoint: keeps its writes, or undoes them.
    pub async fn end_savepoint(&mut self, keep: bool) -> Result<(), StorageError> {
        let sql = if keep {
            "RELEASE SAVEPOINT tenant_write"
        } else {
            "ROLLBACK TO SAVEPOINT tenant_write"
        };
        sqlx::query(sql).execute(&mut *self.tx).await?;
        Ok(())
    }

    pub async fn commit(self) -> Result<(), StorageError> {
        self.tx.commit().await?;
        Ok(())
    }

    pub async fn rollback(self) -> Result<(), StorageError> {
        self.tx.rollback().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::sql_literal;

    #[test]
    fn a_literal_ends_only_at_its_closing_tag() {
        for text in [
            "",
            "plain",
            "it's",
            "$q0$",
            "ends with $q0",
            "$q0$ and $q1$ and $q2",
            "$$ $ q0 $",
            "nul\0inside",
            "Habari 😀 '; DROP TABLE interactions; --",
        ] {
            let lit = sql_literal(text);
            let tag_end = lit[1..].find('$').map(|i| i + 2).unwrap();
            let tag = &lit[..tag_end];
            let body = &lit[tag_end..];
            // The body is the text and the closing tag, which occurs there
            // first.
            let clean = text.replace('\0', "");
            assert_eq!(body, format!("{clean}{tag}"), "{text:?}");
            assert_eq!(body.find(tag), Some(clean.len()), "{text:?}");
        }
    }
}
