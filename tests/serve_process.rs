//! The `ratiba` binary as an operator runs it: the embedded cluster's
//! life cycle, `serve` on the embedded default and on DATABASE_URL (ready,
//! seeded, and leaving no postgres process behind on SIGTERM / Ctrl-C), and
//! the onboarding CLI.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::TestDb;
use ratiba::storage::embedded::EmbeddedPostgres;
use sqlx::Connection;

const BIN: &str = env!("CARGO_BIN_EXE_ratiba");

/// A temporary directory the `postgres` system user can reach (we may be
/// root, and then the cluster runs as that user).
fn reachable_tempdir() -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix("ratiba-serve-")
        .tempdir_in("/tmp")
        .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn pid_alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
        && !std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .map(|s| s.contains(") Z "))
            .unwrap_or(true)
}

/// A `ratiba` command with a clean environment for our variables.
fn ratiba(args: &[&str]) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.args(args);
    for var in [
        "DATABASE_URL",
        "RATIBA_DATA_DIR",
        "RATIBA_LISTEN",
        "RATIBA_FERNET_KEY",
        "RATIBA_CONFIG",
        "RATIBA_PG_BIN_DIR",
        "PAYMENT_ENVIRONMENT",
        "LLM_BASE_URL",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("RUST_LOG", "info");
    cmd
}

fn run_ok(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{cmd:?} failed: {}", text(&out));
    String::from_utf8(out.stdout).unwrap()
}

fn text(out: &Output) -> String {
    format!(
        "status {}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A running `ratiba serve`, killed if the test fails before stopping it.
struct Server {
    child: Option<Child>,
    base: String,
    log: PathBuf,
}

impl Server {
    fn start(mut cmd: Command, port: u16, log: PathBuf) -> Server {
        let file = std::fs::File::create(&log).unwrap();
        let child = cmd
            .stdout(Stdio::from(file.try_clone().unwrap()))
            .stderr(Stdio::from(file))
            .spawn()
            .unwrap();
        Server {
            child: Some(child),
            base: format!("http://127.0.0.1:{port}"),
            log,
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    async fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(180);
        let client = reqwest::Client::new();
        loop {
            if let Ok(resp) = client.get(format!("{}/readyz", self.base)).send().await
                && resp.status() == 200
            {
                return;
            }
            if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
                panic!("serve exited early ({status}):\n{}", self.log());
            }
            assert!(
                Instant::now() < deadline,
                "not ready in time:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Sends `signal` and waits for a clean exit.
    fn stop_with(&mut self, signal: i32) {
        let mut child = self.child.take().unwrap();
        // SAFETY: kill(2) on our own child's pid.
        unsafe {
            libc::kill(child.id() as i32, signal);
        }
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                assert!(
                    status.success(),
                    "serve exited with {status}:\n{}",
                    self.log()
                );
                return;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("serve did not stop:\n{}", self.log());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Stops a cluster even when the test panics half-way.
struct StopOnDrop(EmbeddedPostgres);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        let _ = self.0.stop();
    }
}

#[test]
fn embedded_cluster_starts_stops_and_keeps_its_data() {
    let dir = reachable_tempdir();
    let cluster = EmbeddedPostgres::new(&dir.path().join("data"))
        .unwrap()
        .non_durable();
    let _guard = StopOnDrop(cluster.clone());
    assert!(!cluster.is_running());
    assert!(cluster.start().unwrap(), "first start starts it");
    assert!(cluster.is_running());
    assert!(!cluster.start().unwrap(), "second start finds it running");
    let pid = cluster.postmaster_pid().expect("postmaster.pid");
    assert!(pid_alive(pid));

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        cluster.ensure_database().await.unwrap();
        cluster.ensure_database().await.unwrap();
        let mut conn = sqlx::PgConnection::connect(&cluster.url()).await.unwrap();
        sqlx::raw_sql("CREATE TABLE kept (v int); INSERT INTO kept VALUES (42)")
            .execute(&mut conn)
            .await
            .unwrap();
        conn.close().await.unwrap();
    });

    cluster.stop().unwrap();
    assert!(!cluster.is_running());
    assert!(!pid_alive(pid), "postmaster {pid} still alive");
    cluster.stop().unwrap();

    assert!(cluster.start().unwrap());
    let v: i32 = rt.block_on(async {
        let mut conn = sqlx::PgConnection::connect(&cluster.url()).await.unwrap();
        sqlx::query_scalar("SELECT v FROM kept")
            .fetch_one(&mut conn)
            .await
            .unwrap()
    });
    assert_eq!(v, 42);
    cluster.stop().unwrap();
    assert!(!cluster.is_running());
}

#[tokio::test]
async fn serve_on_the_embedded_default_is_ready_seeded_and_stops_its_postgres() {
    let dir = reachable_tempdir();
    let data = dir.path().join("data");
    let port = free_port();
    let mut cmd = ratiba(&[
        "serve",
        "--listen",
        &format!("127.0.0.1:{port}"),
        "--data-dir",
        data.to_str().unwrap(),
    ]);
    cmd.env("RATIBA_SHUTDOWN_GRACE_MS", "2000");
    // Declared before the server so it drops after it: a failing test still
    // stops the cluster the killed server left.
    let cluster = EmbeddedPostgres::new(&data).unwrap();
    let _guard = StopOnDrop(cluster.clone());
    let mut server = Server::start(cmd, port, dir.path().join("serve.log"));
    server.wait_ready().await;

    let health = reqwest::get(format!("{}/healthz", server.base))
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    let ready: serde_json::Value = reqwest::get(format!("{}/readyz", server.base))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ready["database"], "ok");

    // A demo call into the shipped process (espeak-ng, the scripted
    // recognizer, rules): `ratiba call --json` ends its stdout with the
    // voice-to-voice latency, and the server's own end of turn -> first
    // audio histogram counts at least the answers the caller measured.
    let call = run_ok(&mut ratiba(&[
        "call",
        "--server",
        &server.base,
        "--provider",
        "twilio",
        "--fast",
        "--json",
        concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/calls/en_booking.wav"),
    ]));
    let last = call.lines().last().unwrap_or_default();
    let latency: serde_json::Value =
        serde_json::from_str(last).unwrap_or_else(|e| panic!("{e}: {call}"));
    let turns = latency["turns"].as_array().expect("turns");
    assert!(!turns.is_empty(), "{call}");
    let mut answers = Vec::new();
    for t in turns {
        let (end, bot, response) = (
            t["caller_end_ms"].as_u64().unwrap(),
            t["bot_audio_ms"].as_u64().unwrap(),
            t["response_ms"].as_u64().unwrap(),
        );
        assert_eq!(bot - end, response, "{t}");
        answers.push(response);
    }
    answers.sort_unstable();
    let rank = |q: usize| answers[(answers.len() * q).div_ceil(10).max(1) - 1];
    assert_eq!(latency["response_ms_p50"], rank(5));
    assert_eq!(latency["response_ms_p90"], rank(9));
    let metrics = reqwest::get(format!("{}/metrics", server.base))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let answered: usize = metrics
        .lines()
        .find_map(|l| l.strip_prefix("ratiba_eot_to_first_audio_seconds_count "))
        .expect("the end-of-turn to first-audio histogram")
        .parse()
        .unwrap();
    assert!(answered >= turns.len(), "{answered} < {}", turns.len());

    // `db url` finds the running cluster; the demo tenant is there with its
    // 23 tables, the 3 checkpoint tables and their 3 archive twins,
    // processed_callbacks, payment_deadlines, web_phone_codes and its
    // migration history.
    let url = run_ok(&mut ratiba(&[
        "db",
        "url",
        "--data-dir",
        data.to_str().unwrap(),
    ]));
    let url = url.trim();
    assert!(url.starts_with("postgres://"), "{url}");
    let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
    let demo_tables: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'tenant_demo'",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(demo_tables, 23 + 3 + 3 + 1 + 1 + 1 + 1);
    let registry: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public' \
         AND table_name IN ('tenants', 'tenant_admins', 'payment_routing', \
                            'payment_callbacks_unrouted', 'inbound_quarantine')",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(registry, 5);
    let name: String =
        sqlx::query_scalar("SELECT name FROM public.tenants WHERE voice_number = '+254711000100'")
            .fetch_one(&mut conn)
            .await
            .unwrap();
    assert_eq!(name, "Nywele Bora Salon");
    conn.close().await.unwrap();

    // The supervisor restarts a cluster that stops underneath the server.
    let first_pid = cluster.postmaster_pid().expect("cluster running");
    cluster.stop().unwrap();
    assert!(!pid_alive(first_pid));
    let deadline = Instant::now() + Duration::from_secs(60);
    let pid = loop {
        if let Some(pid) = cluster.postmaster_pid()
            && pid_alive(pid)
            && pid != first_pid
            && server.log().contains("embedded Postgres restarted")
        {
            break pid;
        }
        assert!(
            Instant::now() < deadline,
            "not restarted:\n{}",
            server.log()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    server.wait_ready().await;

    server.stop_with(libc::SIGTERM);
    assert!(!pid_alive(pid), "postgres {pid} left behind");
    assert!(!cluster.is_running());
    assert!(!cluster.pgdata().join("postmaster.pid").exists());
    assert!(server.log().contains("embedded Postgres stopped"));

    // A second start reuses the cluster and does not seed again.
    let port = free_port();
    let cmd = ratiba(&[
        "serve",
        "--listen",
        &format!("127.0.0.1:{port}"),
        "--data-dir",
        data.to_str().unwrap(),
    ]);
    let mut server = Server::start(cmd, port, dir.path().join("serve2.log"));
    server.wait_ready().await;
    let pid = cluster.postmaster_pid().expect("cluster running");
    server.stop_with(libc::SIGINT);
    assert!(!pid_alive(pid), "postgres {pid} left behind after Ctrl-C");
    assert!(!server.log().contains("demo tenant seeded"));
}

#[tokio::test]
async fn serve_uses_database_url_when_set() {
    let db = TestDb::new().await;
    let dir = reachable_tempdir();
    let port = free_port();
    let mut cmd = ratiba(&[
        "serve",
        "--listen",
        &format!("127.0.0.1:{port}"),
        "--data-dir",
        dir.path().join("data").to_str().unwrap(),
    ]);
    cmd.env("DATABASE_URL", db.url())
        .env("RATIBA_FERNET_KEY", common::TEST_FERNET_KEY);
    let mut server = Server::start(cmd, port, dir.path().join("serve.log"));
    server.wait_ready().await;

    // Migrated and seeded into that database; no cluster of its own.
    let rec = db
        .db()
        .tenant_by_whatsapp_phone_number_id("109876543210001")
        .await
        .unwrap()
        .expect("demo seeded into DATABASE_URL");
    let creds = rec
        .daraja_credentials
        .expect("encrypted with RATIBA_FERNET_KEY");
    let creds: serde_json::Value = db.vault().decrypt_json(creds.expose().as_bytes()).unwrap();
    assert_eq!(creds["shortcode"], "174379");
    assert!(!dir.path().join("data").join("postgres").exists());
    server.stop_with(libc::SIGTERM);
    assert!(server.log().contains("SIGTERM"));
}

#[tokio::test]
async fn tenant_cli_onboards_idempotently_and_refuses_bad_input() {
    let db = TestDb::new().await;
    let dir = reachable_tempdir();
    let with_db = |args: &[&str]| {
        let mut cmd = ratiba(args);
        cmd.env("DATABASE_URL", db.url())
            .env("RATIBA_DATA_DIR", dir.path());
        cmd
    };
    let create = [
        "tenant",
        "create",
        "--slug",
        "kinyozi_poa",
        "--name",
        "Kinyozi Poa",
        "--vertical",
        "barbershop",
        "--voice-number",
        "+254711000901",
        "--whatsapp-phone-number-id",
        "200000000000001",
    ];
    let first = run_ok(&mut with_db(&create));
    assert!(first.contains("created tenant kinyozi_poa"), "{first}");
    let second = run_ok(&mut with_db(&create));
    assert!(second.contains("already exists"), "{second}");
    let list = run_ok(&mut with_db(&["tenant", "list"]));
    assert_eq!(
        list.lines().filter(|l| l.contains("kinyozi_poa")).count(),
        1
    );
    assert!(list.contains("+254711000901"), "{list}");

    for (bad, why) in [
        (["--slug", "Kinyozi-Poa", "--vertical", "salon"], "slug"),
        (["--slug", "ok_slug", "--vertical", "carwash"], "vertical"),
    ] {
        let mut cmd = with_db(&["tenant", "create", "--name", "X"]);
        cmd.args(bad);
        let out = cmd.output().unwrap();
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(why), "{err}");
    }
    assert!(
        db.db()
            .tenant_by_slug(&"ok_slug".parse().unwrap())
            .await
            .unwrap()
            .is_none()
    );

    let migrated = run_ok(&mut with_db(&["migrate"]));
    assert!(
        migrated.contains("tenant_kinyozi_poa: 0 applied"),
        "{migrated}"
    );
    let seeded = run_ok(&mut with_db(&["seed", "demo"]));
    assert!(seeded.contains("Nywele Bora Salon"), "{seeded}");
}

#[test]
fn missing_postgres_binaries_say_what_to_install() {
    let dir = reachable_tempdir();
    let out = ratiba(&["db", "url", "--data-dir", dir.path().to_str().unwrap()])
        .env("RATIBA_PG_BIN_DIR", dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("apt-get install -y postgresql"), "{err}");
}

#[tokio::test]
async fn readyz_reports_an_unreachable_database_and_draining() {
    use ratiba::http::{AppState, router};
    use ratiba::runtime::shutdown::Shutdown;
    use ratiba::storage::{Db, Vault};
    use std::sync::Arc;

    let unreachable = sqlx::postgres::PgPoolOptions::new()
        .acquire_timeout(Duration::from_millis(500))
        .connect_lazy("postgres://postgres@127.0.0.1:1/nowhere")
        .unwrap();
    let test = TestDb::new().await;
    let shutdown = Shutdown::new();
    let app = |db: Db| {
        let state = AppState::new(
            db,
            Arc::new(test.settings()),
            Vault::new(&ratiba::config::Secret::new(common::TEST_FERNET_KEY)).unwrap(),
            shutdown.clone(),
        );
        router(state)
    };
    let serve = |app: axum::Router| async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        format!("http://{addr}")
    };
    let down = serve(app(Db::from_pool(unreachable))).await;
    let up = serve(app(test.db().clone())).await;

    assert_eq!(
        reqwest::get(format!("{down}/healthz"))
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        reqwest::get(format!("{down}/readyz"))
            .await
            .unwrap()
            .status(),
        503
    );
    assert_eq!(
        reqwest::get(format!("{up}/readyz")).await.unwrap().status(),
        200
    );
    shutdown.trigger();
    let draining = reqwest::get(format!("{up}/readyz")).await.unwrap();
    assert_eq!(draining.status(), 503);
    let body: serde_json::Value = draining.json().await.unwrap();
    assert_eq!(body["status"], "draining");
}

#[tokio::test]
async fn a_second_serve_on_the_same_data_dir_is_refused_and_stops_nothing() {
    let dir = reachable_tempdir();
    let data = dir.path().join("data");
    let cluster = EmbeddedPostgres::new(&data).unwrap();
    let _guard = StopOnDrop(cluster.clone());
    let port = free_port();
    let serve = |port: u16| {
        ratiba(&[
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--data-dir",
            data.to_str().unwrap(),
        ])
    };
    let mut first = Server::start(serve(port), port, dir.path().join("first.log"));
    first.wait_ready().await;
    let pid = cluster.postmaster_pid().unwrap();

    let out = serve(free_port()).output().unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("already running"),
        "{}",
        text(&out)
    );
    // The same port but another data dir: refused before any cluster starts.
    let other = dir.path().join("other");
    let out = ratiba(&[
        "serve",
        "--listen",
        &format!("127.0.0.1:{port}"),
        "--data-dir",
        other.to_str().unwrap(),
    ])
    .output()
    .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot listen"));
    assert!(!EmbeddedPostgres::new(&other).unwrap().is_running());

    // The first server and its database are untouched.
    assert_eq!(cluster.postmaster_pid(), Some(pid));
    assert!(pid_alive(pid));
    assert_eq!(
        reqwest::get(format!("{}/readyz", first.base))
            .await
            .unwrap()
            .status(),
        200
    );
    first.stop_with(libc::SIGTERM);
    assert!(!pid_alive(pid));
}
