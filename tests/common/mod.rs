//! Test harness: a fresh, migrated Postgres database per test.
//!
//! The server is, in order: `DATABASE_URL` if set; else
//! `postgres://postgres@127.0.0.1:5432` if something listens there; else a
//! throwaway cluster this process starts under a temporary directory (via
//! the embedded-Postgres code) and stops when the process exits. Every
//! [`TestDb`] creates its own database on that server, applies the public
//! chain, and drops the database when it goes out of scope — unless the test
//! is panicking, in which case the database is kept and its name printed so
//! the failure can be inspected with psql. `RATIBA_TEST_PG=throwaway`
//! forces the throwaway cluster.
//!
//! ```ignore
//! mod common;
//! let db = common::TestDb::new().await;
//! let acme = db.create_tenant("acme").await;   // TenantHandle
//! let demo = db.seed_demo().await;             // TenantHandle for "demo"
//! let mut tx = acme.begin().await.unwrap();
//! ```
#![allow(dead_code)]

pub mod admin;
pub mod browser;
pub mod calls;
pub mod widget;

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

use ratiba::config::{Secret, Settings, Source};
use ratiba::core::ids::TenantSlug;
use ratiba::storage::embedded::EmbeddedPostgres;
use ratiba::storage::{Db, NewTenant, TenantHandle, Vault, Vertical, migrate, seed};
use sqlx::Connection;

/// A fixed Fernet key for tests (never used outside them).
pub const TEST_FERNET_KEY: &str = "dGVzdC1rZXktZm9yLXJhdGliYS10ZXN0cy0xMjM0NTY=";

/// A fresh database with the public chain applied.
pub struct TestDb {
    db: Db,
    name: String,
    url: String,
    vault: Vault,
}

impl TestDb {
    pub async fn new() -> TestDb {
        let server = server();
        let name = format!(
            "ratiba_test_{}_{}_{:08x}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed),
            rand::random::<u32>()
        );
        let mut admin = sqlx::PgConnection::connect(&server.admin_url)
            .await
            .unwrap_or_else(|e| panic!("test Postgres at {} unreachable: {e}", server.describe));
        sweep_leftovers(&mut admin, server.local).await;
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut admin)
            .await
            .expect("create test database");
        // A test database need not survive a crash of the server: commits
        // stop waiting for the WAL flush (the same SQL, several times faster
        // to seed). Tests of crash durability run a cluster of their own.
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "ALTER DATABASE {name} SET synchronous_commit = off"
        )))
        .execute(&mut admin)
        .await
        .expect("test database settings");
        admin.close().await.ok();

        let url = with_database(&server.admin_url, &name);
        let db = Db::connect_with(&url, 8)
            .await
            .expect("connect test database");
        migrate::migrate_public(&db).await.expect("public chain");
        let vault = Vault::new(&Secret::new(TEST_FERNET_KEY)).expect("test key");
        TestDb {
            db,
            name,
            url,
            vault,
        }
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    /// The URL of this test's database.
    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// A vault with [`TEST_FERNET_KEY`].
    pub fn vault(&self) -> &Vault {
        &self.vault
    }

    /// Default settings pointing at this database, with the test key.
    pub fn settings(&self) -> Settings {
        let mut src = Source::default();
        src.set("DATABASE_URL", &self.url)
            .set("RATIBA_FERNET_KEY", TEST_FERNET_KEY);
        Settings::from_source(&src).expect("test settings")
    }

    /// Onboards a salon tenant with this slug (registry row, schema, chain).
    pub async fn create_tenant(&self, slug: &str) -> TenantHandle {
        let slug = TenantSlug::parse(slug).expect("valid test slug");
        let new = NewTenant::new(slug.clone(), format!("Test {slug}"), Vertical::Salon);
        self.db.onboard_tenant(&new).await.expect("onboard tenant");
        self.db.tenant(&slug)
    }

    /// Seeds the demo tenant from fixtures/demo and returns its handle.
    pub async fn seed_demo(&self) -> TenantHandle {
        let report = seed::seed_demo(&self.db, Some(&self.vault))
            .await
            .expect("seed demo");
        self.db.tenant(&report.tenant.slug)
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "test failed: keeping database {} for inspection ({})",
                self.name, self.url
            );
            return;
        }
        let admin_url = server().admin_url.clone();
        let name = self.name.clone();
        // Drop runs inside the test's runtime; do the async work on a
        // runtime of our own in a plain thread.
        let dropper = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async {
                if let Ok(mut admin) = sqlx::PgConnection::connect(&admin_url).await {
                    let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                    )))
                    .execute(&mut admin)
                    .await;
                    let _ = admin.close().await;
                }
            });
        });
        let _ = dropper.join();
    }
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

struct Server {
    /// URL of the maintenance database (`postgres`) on the server.
    admin_url: String,
    describe: String,
    /// Whether test databases of dead local processes may be swept.
    local: bool,
}

static SERVER: OnceLock<Server> = OnceLock::new();
static CLUSTER: OnceLock<EmbeddedPostgres> = OnceLock::new();

fn server() -> &'static Server {
    SERVER.get_or_init(|| {
        // RATIBA_TEST_PG=throwaway forces the last resort (to exercise it).
        if std::env::var("RATIBA_TEST_PG").as_deref() == Ok("throwaway") {
            let cluster = start_throwaway_cluster();
            return Server {
                describe: format!("throwaway cluster {}", cluster.pgdata().display()),
                admin_url: cluster.url_for("postgres"),
                local: true,
            };
        }
        if let Ok(url) = std::env::var("DATABASE_URL")
            && !url.trim().is_empty()
        {
            return Server {
                admin_url: with_database(&url, "postgres"),
                describe: "DATABASE_URL".into(),
                local: false,
            };
        }
        let default = "127.0.0.1:5432".parse().expect("static address");
        if std::net::TcpStream::connect_timeout(&default, std::time::Duration::from_secs(2)).is_ok()
        {
            return Server {
                admin_url: "postgres://postgres@127.0.0.1:5432/postgres".into(),
                describe: "127.0.0.1:5432".into(),
                local: true,
            };
        }
        let cluster = start_throwaway_cluster();
        let admin_url = cluster.url_for("postgres");
        Server {
            describe: format!("throwaway cluster {}", cluster.pgdata().display()),
            admin_url,
            local: true,
        }
    })
}

fn start_throwaway_cluster() -> &'static EmbeddedPostgres {
    CLUSTER.get_or_init(|| {
        let dir = tempfile::Builder::new()
            .prefix("ratiba-test-pg-")
            .tempdir_in("/tmp")
            .expect("temp dir")
            .keep();
        // The cluster may run as the `postgres` user, who must reach it.
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        let cluster = EmbeddedPostgres::new(&dir)
            .expect("no Postgres reachable and no server binaries to start one")
            .non_durable();
        cluster.start().expect("start throwaway cluster");
        // SAFETY: registering a plain extern "C" function with no captured
        // state; it runs once at process exit.
        unsafe {
            libc::atexit(stop_throwaway_cluster);
        }
        cluster
    })
}

extern "C" fn stop_throwaway_cluster() {
    if let Some(cluster) = CLUSTER.get() {
        let _ = cluster.stop();
        if let Some(dir) = cluster.pgdata().parent() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// `url` with its database replaced by `database`.
fn with_database(url: &str, database: &str) -> String {
    let mut parsed = url::Url::parse(url).expect("database URL");
    parsed.set_path(database);
    parsed.to_string()
}

/// Drops test databases left behind by test processes that no longer exist
/// (killed runs), once per process.
async fn sweep_leftovers(admin: &mut sqlx::PgConnection, local: bool) {
    static SWEPT: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if !local || SWEPT.swap(true, Ordering::Relaxed) {
        return;
    }
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT datname FROM pg_database WHERE datname LIKE 'ratiba\\_test\\_%'",
    )
    .fetch_all(&mut *admin)
    .await
    .unwrap_or_default();
    for name in names {
        let pid = name.split('_').nth(2).and_then(|p| p.parse::<u32>().ok());
        let Some(pid) = pid else { continue };
        if std::path::Path::new(&format!("/proc/{pid}")).exists() {
            continue;
        }
        let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
        )))
        .execute(&mut *admin)
        .await;
    }
}

/// WhatsApp messages the development capture (`{base}/dev/graph`) holds for
/// `to` (digits, as the Graph API addresses them).
pub async fn captured_whatsapp(base: &str, to: &str) -> Vec<serde_json::Value> {
    let v: serde_json::Value = reqwest::Client::new()
        .get(format!("{base}/dev/graph/messages"))
        .query(&[("to", to)])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v["messages"].as_array().cloned().unwrap_or_default()
}

/// The text a captured message shows: a text body, an interactive
/// message's body, or the update template's text parameter.
pub fn whatsapp_text(captured: &serde_json::Value) -> String {
    let m = &captured["message"];
    m["text"]["body"]
        .as_str()
        .or(m["interactive"]["body"]["text"].as_str())
        .or(m["template"]["components"][0]["parameters"][0]["text"].as_str())
        .unwrap_or("")
        .to_owned()
}

/// The texts sent to `to`, once there are at least `n` (or after `within`).
pub async fn wait_whatsapp_texts(
    base: &str,
    to: &str,
    n: usize,
    within: std::time::Duration,
) -> Vec<String> {
    let deadline = std::time::Instant::now() + within;
    loop {
        let got = captured_whatsapp(base, to).await;
        if got.len() >= n || std::time::Instant::now() > deadline {
            return got.iter().map(whatsapp_text).collect();
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// A private Postgres cluster of one test's own, to stop and restart
/// (fault tests: a database blip during a chat or a call).
pub struct PrivateCluster {
    pub pg: ratiba::storage::embedded::EmbeddedPostgres,
    _dir: tempfile::TempDir,
}

impl PrivateCluster {
    /// Fsync off (fast): for stop/start faults, where Postgres flushes on
    /// its way down.
    pub async fn start(prefix: &str) -> PrivateCluster {
        Self::start_with(prefix, false).await
    }

    /// The production settings (fsync and synchronous commit on): for a
    /// killed postmaster, where what was acknowledged must survive.
    pub async fn start_durable(prefix: &str) -> PrivateCluster {
        Self::start_with(prefix, true).await
    }

    async fn start_with(prefix: &str, durable: bool) -> PrivateCluster {
        let dir = tempfile::Builder::new()
            .prefix(prefix)
            .tempdir_in("/tmp")
            .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let mut pg = ratiba::storage::embedded::EmbeddedPostgres::new(dir.path()).unwrap();
        if !durable {
            pg = pg.non_durable();
        }
        let started = pg.clone();
        tokio::task::spawn_blocking(move || started.start())
            .await
            .unwrap()
            .unwrap();
        pg.ensure_database().await.unwrap();
        PrivateCluster { pg, _dir: dir }
    }

    pub async fn stop(&self) {
        let pg = self.pg.clone();
        tokio::task::spawn_blocking(move || pg.stop())
            .await
            .unwrap()
            .unwrap();
    }

    /// SIGKILL to the postmaster (no shutdown, no checkpoint), then waits
    /// until it and every backend it left are gone, so a restart can take
    /// the data directory. Returns the killed pid.
    pub async fn kill_postmaster(&self) -> u32 {
        let pid = self.pg.postmaster_pid().expect("postmaster running");
        // SAFETY: kill(2) on the postmaster of our own private cluster.
        unsafe {
            libc::kill(pid as i32, libc::SIGKILL);
        }
        let gone = |pid: u32| unsafe { libc::kill(pid as i32, 0) } != 0;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while !gone(pid) && std::time::Instant::now() < deadline {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        assert!(gone(pid), "postmaster {pid} survived SIGKILL");
        pid
    }

    /// Starts the cluster again, retrying while the backends of a killed
    /// postmaster still hold its shared memory (they exit once they notice
    /// their parent is gone).
    pub async fn restart_after_kill(&self) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            let pg = self.pg.clone();
            match tokio::task::spawn_blocking(move || pg.start())
                .await
                .unwrap()
            {
                Ok(_) => return,
                Err(e) if std::time::Instant::now() < deadline => {
                    eprintln!("restart after kill: {e}; trying again");
                    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                }
                Err(e) => panic!("cluster did not restart after the kill: {e}"),
            }
        }
    }

    pub async fn restart(&self) {
        let pg = self.pg.clone();
        tokio::task::spawn_blocking(move || pg.start())
            .await
            .unwrap()
            .unwrap();
    }
}

impl Drop for PrivateCluster {
    fn drop(&mut self) {
        let _ = self.pg.stop();
    }
}
