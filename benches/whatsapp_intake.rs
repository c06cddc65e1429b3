//! Load bench of the WhatsApp intake: CUSTOMERS customers x TURNS turns,
//! signed webhooks over loopback HTTP to an in-process router (the real
//! inbox, dialog and database), replies caught by a fake Graph API on
//! loopback. Each customer sends a turn, waits for the first reply (up to
//! 10 s), lets the turn's other replies land, and sends the next. Runs
//! RUNS times in a row on one server and one database, so the inbox and
//! interactions tables grow run to run.
//!
//! ```text
//! cargo bench --bench whatsapp_intake -- [CUSTOMERS] [TURNS] [RUNS]   # default 1000 5 3
//! ```
//! Postgres: `DATABASE_URL` (a server; a fresh database is made on it and
//! dropped after), else `postgres://postgres@127.0.0.1:5432`.
//!
//! Per run it prints: lost (answered 200 but never processed: no inbound
//! row for its message id), duplicated (more than one inbound row for one
//! message id), unanswered (no reply within 10 s), refused (non-200
//! answers, delivered again), reply latency p50 / p99, and throughput;
//! then the run's CPU per turn: the bench process's (server and harness,
//! utime + stime from `/proc/self/stat`) and, when Postgres runs on this
//! machine and its `/proc` is readable, the postmaster's with its live
//! and reaped backends (shared with anything else using that server); and
//! with `pg_stat_statements` loaded, the statements per turn and the
//! round trips (a tenant transaction's BEGIN, its scoping and a turn's
//! locks go in one round trip).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Json;
use axum::routing::post;
use ratiba::adapters::whatsapp::codec::sign;
use ratiba::config::Secret;
use ratiba::core::ids::TenantSlug;
use ratiba::http::whatsapp::{WhatsAppConfig, router};
use ratiba::runtime::conversation::ConversationService;
use ratiba::storage::{Db, Vault, migrate, seed};
use serde_json::{Value, json};
use sqlx::Connection;
use tokio::sync::Notify;

const SECRET: &str = "bench-app-secret";
const KEY: &str = "dGVzdC1rZXktZm9yLXJhdGliYS10ZXN0cy0xMjM0NTY=";
const DEMO_ID: &str = "109876543210001";
const TURNS_TEXT: [&str; 5] = [
    "Hello",
    "What time do you open?",
    "How much are box braids?",
    "Asante",
    "Bye",
];
const REPLY_WITHIN: Duration = Duration::from_secs(10);
/// After a turn's first reply, how long its other replies may take.
const SETTLE: Duration = Duration::from_millis(150);

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    // `cargo test --all-targets` runs this without `--bench`: a smoke run
    // that proves the bench works, not the measurement.
    let measuring = std::env::args().any(|a| a == "--bench");
    let (c, t, r) = if measuring { (1000, 5, 3) } else { (20, 2, 1) };
    let customers = args.first().copied().unwrap_or(c);
    let turns = args.get(1).copied().unwrap_or(t).clamp(1, TURNS_TEXT.len());
    let runs = args.get(2).copied().unwrap_or(r).max(1);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(bench(customers, turns, runs));
}

/// Replies the fake Graph API got, per recipient.
#[derive(Default)]
struct Replies {
    count: Mutex<HashMap<String, (usize, Arc<Notify>)>>,
}

impl Replies {
    fn notifier(&self, to: &str) -> (usize, Arc<Notify>) {
        let mut map = self.count.lock().expect("lock");
        let entry = map.entry(to.to_owned()).or_default();
        (entry.0, entry.1.clone())
    }

    fn got(&self, to: &str) {
        let mut map = self.count.lock().expect("lock");
        let entry = map.entry(to.to_owned()).or_default();
        entry.0 += 1;
        entry.1.notify_waiters();
    }
}

async fn bench(customers: usize, turns: usize, runs: usize) {
    let server = std::env::var("DATABASE_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
        .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let name = format!("ratiba_bench_{}", std::process::id());
    let mut admin = sqlx::PgConnection::connect(&with_database(&server, "postgres"))
        .await
        .expect("Postgres reachable");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await
        .expect("create bench database");
    let url = with_database(&server, &name);
    let db = Db::connect(&url).await.expect("connect");
    migrate::migrate_public(&db).await.expect("public chain");
    // For the statement counts (absent unless preloaded: then not shown).
    let statements = sqlx::query("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        .execute(db.pool())
        .await
        .is_ok()
        && sqlx::query("SELECT pg_stat_statements_reset()")
            .execute(db.pool())
            .await
            .is_ok();
    let postmaster = postmaster_pid(&db).await;
    let vault = Vault::new(&Secret::new(KEY)).expect("key");
    seed::seed_demo(&db, Some(&vault)).await.expect("seed");
    sqlx::query("UPDATE public.tenants SET whatsapp_access_token = $1 WHERE slug = 'demo'")
        .bind(vault.encrypt_text("bench-token"))
        .execute(db.pool())
        .await
        .expect("token");

    // The fake Graph API.
    let replies = Arc::new(Replies::default());
    let log = replies.clone();
    let graph = axum::Router::new().route(
        "/{phone_number_id}/messages",
        post(move |Json(body): Json<Value>| {
            let log = log.clone();
            async move {
                if let Some(to) = body["to"].as_str() {
                    log.got(to);
                }
                Json(json!({"messaging_product": "whatsapp", "messages": [{"id": "wamid.bench"}], "success": true}))
            }
        }),
    );
    let graph_base = serve(graph).await;

    let config = WhatsAppConfig {
        db: db.clone(),
        vault: Some(vault),
        app_secret: Some(Secret::new(SECRET)),
        verify_token: None,
        graph_base_url: graph_base,
        service: ConversationService::new(db.clone()),
        reminder_sweep_every: Duration::from_secs(60),
    };
    let base = serve(router(config)).await;
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client");

    println!("whatsapp intake: {customers} customers x {turns} turns, {runs} runs");
    for run in 1..=runs {
        let cpu_before = (
            cpu_of(std::process::id(), false),
            postmaster.and_then(postgres_cpu),
        );
        let calls_before = if statements { calls(&db).await } else { None };
        let started = Instant::now();
        let tasks: Vec<_> = (0..customers)
            .map(|i| {
                let (http, base, replies) = (http.clone(), base.clone(), replies.clone());
                tokio::spawn(customer(http, base, replies, run, i, turns))
            })
            .collect();
        let mut latencies = Vec::new();
        let (mut unanswered, mut refused) = (0usize, 0usize);
        for task in tasks {
            let outcome = task.await.expect("customer task");
            latencies.extend(outcome.latencies);
            unanswered += outcome.unanswered;
            refused += outcome.refused;
        }
        let elapsed = started.elapsed();
        // Messages still queued are not lost: wait for the inbox to drain.
        let drained = Instant::now();
        let parked = drain(&db).await;
        let (lost, duplicated) = audit(&db, run, customers * turns).await;
        latencies.sort();
        let pct = |p: f64| -> f64 {
            if latencies.is_empty() {
                return f64::NAN;
            }
            let i = ((latencies.len() as f64 - 1.0) * p).round() as usize;
            latencies[i].as_secs_f64() * 1000.0
        };
        println!(
            "run {run}: sent {} lost {lost} duplicated {duplicated} unanswered {unanswered} refused {refused} \
             parked {parked} reply p50 {:.0} ms p99 {:.0} ms max {:.0} ms; {:.0} msg/s over {:.1} s \
             (+{:.1} s to drain the inbox)",
            customers * turns,
            pct(0.5),
            pct(0.99),
            pct(1.0),
            (customers * turns) as f64 / elapsed.as_secs_f64(),
            elapsed.as_secs_f64(),
            drained.elapsed().as_secs_f64(),
        );
        let turns_sent = (customers * turns) as f64;
        let per_turn = |before: Option<f64>, after: Option<f64>| -> String {
            match (before, after) {
                (Some(b), Some(a)) => format!("{:.2} ms", (a - b) * 1000.0 / turns_sent),
                _ => "n/a".into(),
            }
        };
        let cpu_after = (
            cpu_of(std::process::id(), false),
            postmaster.and_then(postgres_cpu),
        );
        let counted = match (
            calls_before,
            if statements { calls(&db).await } else { None },
        ) {
            (Some((c0, b0)), Some((c1, b1))) => format!(
                "; {:.1} statements, {:.1} round trips per turn",
                (c1 - c0) / turns_sent,
                ((c1 - c0) - (b1 - b0)) / turns_sent
            ),
            _ => String::new(),
        };
        println!(
            "run {run}: CPU per turn: bench process {}, Postgres {}{counted}",
            per_turn(cpu_before.0, cpu_after.0),
            per_turn(cpu_before.1, cpu_after.1),
        );
    }
    db.close().await;
    let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
    )))
    .execute(&mut admin)
    .await;
}

struct CustomerOutcome {
    latencies: Vec<Duration>,
    unanswered: usize,
    refused: usize,
}

async fn customer(
    http: reqwest::Client,
    base: String,
    replies: Arc<Replies>,
    run: usize,
    i: usize,
    turns: usize,
) -> CustomerOutcome {
    let from = phone(run, i);
    let mut outcome = CustomerOutcome {
        latencies: Vec::new(),
        unanswered: 0,
        refused: 0,
    };
    for (turn, text) in TURNS_TEXT.iter().take(turns).enumerate() {
        let wamid = format!("wamid.bench.{run}.{i}.{turn}");
        let body = serde_json::to_vec(&json!({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "254711000200", "phone_number_id": DEMO_ID},
            "contacts": [{"profile": {"name": "Bench"}, "wa_id": from}],
            "messages": [{"from": from, "id": wamid, "timestamp": "1749416383", "type": "text", "text": {"body": text}}]}}]}]}))
            .expect("json");
        let signature = sign(SECRET, &body);
        let (before, notify) = replies.notifier(&from);
        let sent_at = Instant::now();
        // Delivered again after anything but a 200, as Meta does.
        loop {
            let answer = http
                .post(format!("{base}/wa/webhook"))
                .header("content-type", "application/json")
                .header("x-hub-signature-256", &signature)
                .body(body.clone())
                .send()
                .await;
            if answer.is_ok_and(|a| a.status() == 200) {
                break;
            }
            outcome.refused += 1;
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let deadline = sent_at + REPLY_WITHIN;
        loop {
            let waiting = notify.notified();
            if replies.notifier(&from).0 > before {
                outcome.latencies.push(sent_at.elapsed());
                break;
            }
            if tokio::time::timeout_at(deadline.into(), waiting)
                .await
                .is_err()
            {
                outcome.unanswered += 1;
                break;
            }
        }
        tokio::time::sleep(SETTLE).await;
    }
    outcome
}

/// A run's customer numbers: 2547, the run's digit, seven of the index.
fn phone(run: usize, i: usize) -> String {
    format!("2547{}{:07}", run % 10, i)
}

/// Waits (up to 5 min) until no inbox row is pending or processing;
/// returns how many are parked.
async fn drain(db: &Db) -> i64 {
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let (open, parked): (i64, i64) = sqlx::query_as(
            "SELECT count(*) FILTER (WHERE status IN ('pending', 'processing')), \
                    count(*) FILTER (WHERE status = 'parked') FROM public.whatsapp_inbox",
        )
        .fetch_one(db.pool())
        .await
        .expect("inbox counts");
        if open == 0 || Instant::now() > deadline {
            return parked;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// (lost, duplicated) of a run: message ids with no inbound row, and with
/// more than one.
async fn audit(db: &Db, run: usize, sent: usize) -> (i64, i64) {
    let mut tx = db
        .tenant(&TenantSlug::parse("demo").expect("slug"))
        .begin()
        .await
        .expect("tenant");
    let rows: Vec<(i64,)> = sqlx::query_as(
        "SELECT count(*) FROM interactions WHERE direction = 'inbound' \
           AND metadata->>'wamid' LIKE $1 GROUP BY metadata->>'wamid'",
    )
    .bind(format!("wamid.bench.{run}.%"))
    .fetch_all(tx.conn())
    .await
    .expect("audit");
    let seen = i64::try_from(rows.len()).unwrap_or(0);
    let duplicated = rows.iter().filter(|(n,)| *n > 1).count();
    (
        i64::try_from(sent).unwrap_or(0) - seen,
        i64::try_from(duplicated).unwrap_or(0),
    )
}

/// utime + stime (with `reaped`, also of waited-for children) of a
/// process, in seconds; `None` when its `/proc` entry cannot be read.
fn cpu_of(pid: u32, reaped: bool) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces), from field 3.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<u64> = rest.split(' ').map(|f| f.parse().unwrap_or(0)).collect();
    let take = if reaped { 4 } else { 2 };
    let ticks: u64 = fields.get(11..11 + take)?.iter().sum();
    // SAFETY: sysconf reads a constant.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    Some(ticks as f64 / hz)
}

/// The parent (field 4) of a process.
fn parent_of(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat[stat.rfind(')')? + 2..].split(' ').nth(1)?.parse().ok()
}

/// The postmaster of the bench's server, if it runs here.
async fn postmaster_pid(db: &Db) -> Option<u32> {
    let backend: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
        .fetch_one(db.pool())
        .await
        .ok()?;
    parent_of(u32::try_from(backend).ok()?)
}

/// The postmaster's CPU with its reaped children, and its live children's.
fn postgres_cpu(postmaster: u32) -> Option<f64> {
    let mut total = cpu_of(postmaster, true)?;
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|s| s.parse().ok()) else {
            continue;
        };
        if parent_of(pid) == Some(postmaster) {
            total += cpu_of(pid, false).unwrap_or(0.0);
        }
    }
    Some(total)
}

/// Statements run so far in this database, and how many of them went in
/// the same round trip as another: a tenant transaction's scoping (sent
/// with its BEGIN, or before its one statement) and a chat turn's locks
/// (sent with its BEGIN and scoping, `conversation::begin_turn`).
async fn calls(db: &Db) -> Option<(f64, f64)> {
    sqlx::query_as(
        "SELECT COALESCE(sum(calls), 0)::float8, \
                COALESCE(sum(calls) FILTER (WHERE query LIKE '%::regnamespace, set_config(%' \
                  OR query LIKE 'SELECT pg_advisory_xact_lock(hashtextextended($1 || $2, $3))%'), 0)::float8 \
         FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())",
    )
    .fetch_one(db.pool())
    .await
    .ok()
}

async fn serve(app: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
    base
}

fn with_database(url: &str, database: &str) -> String {
    let mut parsed = url::Url::parse(url).expect("database URL");
    parsed.set_path(database);
    parsed.to_string()
}
