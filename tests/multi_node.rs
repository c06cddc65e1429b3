//! Several nodes: three `ratiba serve` processes sharing one Postgres, a
//! call paying on hold through node A, and the M-Pesa callback delivered
//! by the test (as Safaricom would, through a load balancer) to random
//! nodes, more than once.
//!
//! The providers are fakes on loopback speaking their real protocols: the
//! payment simulator as Daraja (`DARAJA_BASE_URL`, sandbox), told to send no
//! callback of its own so that the test delivers it, and a Graph API that
//! records what each node sends on WhatsApp (each node has its own path, so
//! the test knows who sent what).
//!
//! * The call's node stays up, the callbacks land on B and C: the caller
//!   hears the receipt on the line (LISTEN/NOTIFY wakes A), the payment is
//!   recorded once and confirmed on WhatsApp once.
//! * Node A is killed (SIGKILL) in the middle of the hold, and the node that
//!   then starts writing the confirmation is killed too while its message is
//!   in flight: the last node standing takes the unfinished notice over once
//!   its lease runs out. One completed payment, the appointment paid, one
//!   WhatsApp message to the customer, every callback accepted wherever it
//!   landed.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ratiba::adapters::payments::simulator::{SimConfig, SimOutcome, Simulator};
use ratiba::adapters::speech::scripted::Transcript;
use ratiba::adapters::telephony::Provider;
use ratiba::cli::call::{DEMO_VOICE_NUMBER, SimOptions, simulate};
use ratiba::core::audio::wav;
use serde_json::{Value, json};
use sqlx::Row;

const BIN: &str = env!("CARGO_BIN_EXE_ratiba");
/// The lease on a WhatsApp notice being sent: how long a node that died
/// mid-send holds it up.
const NOTICE_LEASE_MS: u64 = 3000;

/// One `ratiba serve` process.
struct Node {
    name: &'static str,
    child: Option<Child>,
    base: String,
    log: PathBuf,
}

impl Node {
    fn start(name: &'static str, env: &[(&str, String)], dir: &Path) -> Node {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let log = dir.join(format!("{name}.log"));
        let file = std::fs::File::create(&log).unwrap();
        let mut cmd = Command::new(BIN);
        cmd.args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--data-dir",
            dir.join(name).to_str().unwrap(),
        ]);
        for var in [
            "RATIBA_CONFIG",
            "RATIBA_PUBLIC_URL",
            "LLM_BASE_URL",
            "DEEPGRAM_API_KEY",
            "ELEVENLABS_API_KEY",
            "WHISPER_URL",
            "TWILIO_AUTH_TOKEN",
            "CALLBACK_IP_ALLOWLIST",
        ] {
            cmd.env_remove(var);
        }
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = cmd
            .env("RUST_LOG", "info")
            .stdout(Stdio::from(file.try_clone().unwrap()))
            .stderr(Stdio::from(file))
            .spawn()
            .unwrap();
        Node {
            name,
            child: Some(child),
            base: format!("http://127.0.0.1:{port}"),
            log,
        }
    }

    async fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            if let Ok(r) = reqwest::get(format!("{}/readyz", self.base)).await
                && r.status() == 200
            {
                return;
            }
            if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
                panic!("node {} exited ({status}):\n{}", self.name, self.log_tail());
            }
            assert!(Instant::now() < deadline, "node {} not ready", self.name);
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// SIGKILL: no shutdown, no draining, nothing flushed.
    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().unwrap();
            child.wait().unwrap();
        }
    }

    fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("--- node {} ---\n{}", self.name, self.log_tail());
        }
        self.kill();
    }
}

/// One message a node sent to the fake Graph API.
#[derive(Debug, Clone)]
struct Sent {
    node: String,
    to: String,
    text: String,
    /// Answered with a message id (the first one may be held unanswered).
    delivered: bool,
}

/// A Graph API on loopback. Each node talks to it under its own path
/// (`/{node}/{phone_number_id}/messages`). With `hold_first`, the first
/// message is never answered (the test kills its sender meanwhile).
#[derive(Clone, Default)]
struct Graph {
    sent: Arc<Mutex<Vec<Sent>>>,
    hold_first: Arc<std::sync::atomic::AtomicBool>,
}

impl Graph {
    async fn serve(&self) -> String {
        use axum::extract::{Path, State};
        use axum::routing::post;
        async fn send(
            State(g): State<Graph>,
            Path((node, _id)): Path<(String, String)>,
            axum::Json(body): axum::Json<Value>,
        ) -> axum::Json<Value> {
            let hold = g
                .hold_first
                .swap(false, std::sync::atomic::Ordering::SeqCst);
            let sent = Sent {
                node,
                to: body["to"].as_str().unwrap_or_default().to_owned(),
                text: common::whatsapp_text(&json!({ "message": body })),
                delivered: !hold,
            };
            g.sent.lock().unwrap().push(sent);
            if hold {
                // Never answered: the sender is killed while it waits.
                std::future::pending::<()>().await;
            }
            axum::Json(
                json!({"messaging_product": "whatsapp", "messages": [{"id": format!("wamid.{}", rand::random::<u32>())}]}),
            )
        }
        let app = axum::Router::new()
            .route("/{node}/{id}/messages", post(send))
            .with_state(self.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        base
    }

    fn sent_to(&self, to: &str) -> Vec<Sent> {
        self.sent
            .lock()
            .unwrap()
            .iter()
            .filter(|s| s.to == to)
            .cloned()
            .collect()
    }

    /// What was sent to `to` once `done` holds for it (or after `within`).
    async fn wait_for(
        &self,
        to: &str,
        within: Duration,
        done: impl Fn(&[Sent]) -> bool,
    ) -> Vec<Sent> {
        let deadline = Instant::now() + within;
        loop {
            let sent = self.sent_to(to);
            if done(&sent) || Instant::now() > deadline {
                return sent;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Three nodes on one fresh database, the fake Daraja and Graph API.
struct Cluster {
    db: common::TestDb,
    demo: ratiba::storage::TenantHandle,
    sim: Simulator,
    graph: Graph,
    nodes: Vec<Node>,
    _dir: tempfile::TempDir,
}

async fn cluster() -> Cluster {
    let db = common::TestDb::new().await;
    let demo = db.seed_demo().await;
    // The demo tenant writes on WhatsApp with a token of its own (the
    // Graph API is not a node's development capture here).
    sqlx::query("UPDATE public.tenants SET whatsapp_access_token = $1 WHERE slug = 'demo'")
        .bind(db.vault().encrypt_text("test-token"))
        .execute(db.db().pool())
        .await
        .unwrap();
    let sim = Simulator::new(SimConfig {
        callback_delay: Duration::from_millis(300),
        ..SimConfig::default()
    });
    let (sim_addr, _) = sim.serve_loopback().await.unwrap();
    let graph = Graph::default();
    let graph_base = graph.serve().await;
    let dir = tempfile::Builder::new()
        .prefix("ratiba-nodes-")
        .tempdir_in("/tmp")
        .unwrap();
    let mut nodes: Vec<Node> = ["a", "b", "c"]
        .into_iter()
        .map(|name| {
            let env = [
                ("DATABASE_URL", db.url().to_owned()),
                ("RATIBA_FERNET_KEY", common::TEST_FERNET_KEY.to_owned()),
                ("PAYMENT_ENVIRONMENT", "sandbox".to_owned()),
                ("DARAJA_BASE_URL", format!("http://{sim_addr}")),
                ("PESAPAL_BASE_URL", format!("http://{sim_addr}")),
                ("DARAJA_CONSUMER_KEY", "simulator".to_owned()),
                ("DARAJA_CONSUMER_SECRET", "simulator".to_owned()),
                ("WHATSAPP_GRAPH_URL", format!("{graph_base}/{name}")),
                ("PAYMENT_NOTICE_LEASE_MS", NOTICE_LEASE_MS.to_string()),
                ("PAYMENT_NOTICE_SWEEP_MS", "250".to_owned()),
                ("RATIBA_SHUTDOWN_GRACE_MS", "500".to_owned()),
            ];
            Node::start(name, &env, dir.path())
        })
        .collect();
    for node in &mut nodes {
        node.wait_ready().await;
    }
    Cluster {
        db,
        demo,
        sim,
        graph,
        nodes,
        _dir: dir,
    }
}

impl Cluster {
    fn node(&mut self, name: &str) -> &mut Node {
        self.nodes.iter_mut().find(|n| n.name == name).unwrap()
    }

    /// Places the demo paid-booking call from `from` through node A (the
    /// caller books, says yes to the prompt and holds).
    fn call_through_a(&self, from: &str) -> tokio::task::JoinHandle<anyhow::Result<String>> {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/calls");
        let audio = wav::parse(&std::fs::read(dir.join("en_pay_on_hold.wav")).unwrap()).unwrap();
        let transcript =
            Transcript::parse(&std::fs::read(dir.join("en_pay_on_hold.json")).unwrap()).unwrap();
        let options = SimOptions {
            server: self.nodes[0].base.clone(),
            provider: Provider::Twilio,
            to: DEMO_VOICE_NUMBER.into(),
            from: from.into(),
            audio,
            transcript: Some(transcript.clone()),
            fast: true,
            twilio_auth_token: None,
            max_duration: Duration::from_secs(120),
        };
        tokio::spawn(async move {
            let report = simulate(&options).await?;
            Ok(report.render(Some(&transcript)))
        })
    }

    /// Waits for the call's prompt to be pushed (the hold is on) and
    /// returns its CheckoutRequestID.
    async fn pushed(&self) -> String {
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            let mut tx = self.demo.begin().await.unwrap();
            let checkout: Option<String> = sqlx::query_scalar(
                "SELECT mpesa_checkout_id FROM payments WHERE status = 'pending' \
                 AND mpesa_checkout_id IS NOT NULL",
            )
            .fetch_optional(tx.conn())
            .await
            .unwrap();
            tx.commit().await.unwrap();
            if let Some(checkout) = checkout {
                return checkout;
            }
            assert!(Instant::now() < deadline, "no prompt was pushed");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The Daraja callback the simulated customer's action produced (the
    /// path on our side and the body), once they have acted.
    async fn callback(&self, checkout: &str) -> (String, Value) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some((url, body)) = self.sim.callback_of(checkout) {
                let path = url::Url::parse(&url).unwrap().path().to_owned();
                return (path, body);
            }
            assert!(Instant::now() < deadline, "the customer never acted");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Delivers the callback to each named node in turn; every node must
    /// accept it as Daraja expects.
    async fn deliver(&self, path: &str, body: &Value, to: &[&str]) {
        let http = reqwest::Client::new();
        for name in to {
            let node = self.nodes.iter().find(|n| n.name == *name).unwrap();
            let resp = http
                .post(format!("{}{path}", node.base))
                .json(body)
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), 200, "node {name}");
            let ack: Value = resp.json().await.unwrap();
            assert_eq!(ack["ResultCode"], 0, "node {name} answered {ack}");
        }
    }

    /// What the database holds after the payment: (status, receipt) of
    /// every payment, the voice appointments' payment_status, the callbacks
    /// recorded as processed, and how often a duplicate was traced.
    async fn rows(&self) -> (Vec<(String, Option<String>)>, Vec<String>, i64, i64) {
        let mut tx = self.demo.begin().await.unwrap();
        let payments = sqlx::query("SELECT status, mpesa_receipt FROM payments")
            .fetch_all(tx.conn())
            .await
            .unwrap()
            .iter()
            .map(|r| (r.get("status"), r.get("mpesa_receipt")))
            .collect();
        let appointments = sqlx::query_scalar(
            "SELECT payment_status FROM appointments WHERE booking_channel = 'voice'",
        )
        .fetch_all(tx.conn())
        .await
        .unwrap();
        let processed: i64 = sqlx::query_scalar("SELECT count(*) FROM processed_callbacks")
            .fetch_one(tx.conn())
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let duplicates: i64 = sqlx::query_scalar(
            "SELECT COALESCE(sum(times_received), 0)::bigint FROM public.payment_callbacks_unrouted \
             WHERE reason = 'duplicate'",
        )
        .fetch_one(self.db.db().pool())
        .await
        .unwrap();
        (payments, appointments, processed, duplicates)
    }
}

/// A random order of `names`, printed so a failure can be replayed.
fn shuffled<'a>(names: &[&'a str]) -> Vec<&'a str> {
    let mut names = names.to_vec();
    for i in (1..names.len()).rev() {
        let j = rand::random::<u32>() as usize % (i + 1);
        names.swap(i, j);
    }
    eprintln!("callbacks delivered to {names:?}");
    names
}

/// "NLJ7RT61SV" as the bot reads it: "N L J 7 R T 6 1 S V".
fn spelled(receipt: &str) -> String {
    receipt
        .chars()
        .map(String::from)
        .collect::<Vec<_>>()
        .join(" ")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_callback_on_another_node_reaches_the_caller_holding_on_node_a() {
    let c = cluster().await;
    let caller = "+254722000311";
    c.sim.force_next(SimOutcome::NoCallback);
    let call = c.call_through_a(caller);
    let checkout = c.pushed().await;
    let (path, body) = c.callback(&checkout).await;
    // B, C and one of them again: a provider retry lands anywhere.
    let mut to = shuffled(&["b", "c"]);
    to.push(to[0]);
    c.deliver(&path, &body, &to).await;

    let heard = tokio::time::timeout(Duration::from_secs(90), call)
        .await
        .expect("the call ends")
        .unwrap()
        .expect("the call ran");
    eprintln!("{heard}");
    let (payments, appointments, processed, duplicates) = c.rows().await;
    assert_eq!(payments.len(), 1, "{payments:?}");
    assert_eq!(payments[0].0, "completed");
    let receipt = payments[0].1.clone().expect("the receipt is recorded");
    assert_eq!(appointments, ["paid"]);
    assert_eq!((processed, duplicates), (1, 2));

    // Node A heard of it through LISTEN/NOTIFY and read the receipt out.
    let mut tx = c.demo.begin().await.unwrap();
    let said: Vec<String> = sqlx::query_scalar(
        "SELECT content FROM interactions WHERE channel = 'voice' AND direction = 'outbound'",
    )
    .fetch_all(tx.conn())
    .await
    .unwrap();
    tx.commit().await.unwrap();
    assert!(
        said.iter().any(|l| l.contains(&spelled(&receipt))),
        "the caller heard the receipt {receipt}: {said:?}"
    );

    // Confirmed in writing once, by whichever node claimed it.
    let to = caller.trim_start_matches('+');
    c.graph
        .wait_for(to, Duration::from_secs(20), |s| !s.is_empty())
        .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let sent = c.graph.sent_to(to);
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert!(
        sent[0].delivered && sent[0].text.contains(&receipt),
        "{sent:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_node_holding_the_call_and_then_the_one_writing_to_the_customer_die_and_it_is_paid_and_told_once()
 {
    let mut c = cluster().await;
    let caller = "+254722000312";
    let to = caller.trim_start_matches('+');
    c.sim.force_next(SimOutcome::NoCallback);
    c.graph
        .hold_first
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let call = c.call_through_a(caller);
    let checkout = c.pushed().await;

    // Mid-hold: the node holding the call dies.
    c.node("a").kill();
    let _ = tokio::time::timeout(Duration::from_secs(30), call).await;

    let (path, body) = c.callback(&checkout).await;
    let mut order = shuffled(&["b", "c"]);
    order.extend(shuffled(&["b", "c"]));
    c.deliver(&path, &body, &order).await;

    // The first node to write to the customer dies with its message in
    // flight (the Graph API never answered it).
    let first = c
        .graph
        .wait_for(to, Duration::from_secs(20), |s| !s.is_empty())
        .await;
    assert_eq!(first.len(), 1, "{first:?}");
    assert!(!first[0].delivered);
    let writer = first[0].node.clone();
    c.node(&writer).kill();
    let survivor = if writer == "b" { "c" } else { "b" };

    // The survivor takes the notice over once the dead writer's lease ran
    // out, and sends it.
    let sent = c
        .graph
        .wait_for(to, Duration::from_secs(30), |s| {
            s.iter().any(|m| m.delivered)
        })
        .await;
    // Two more leases: nothing is sent again.
    tokio::time::sleep(Duration::from_millis(2 * NOTICE_LEASE_MS)).await;
    let sent_later = c.graph.sent_to(to);
    assert_eq!(sent.len(), sent_later.len(), "{sent_later:?}");
    let delivered: Vec<&Sent> = sent_later.iter().filter(|m| m.delivered).collect();
    assert_eq!(delivered.len(), 1, "{sent_later:?}");
    assert_eq!(delivered[0].node, survivor);

    let (payments, appointments, processed, duplicates) = c.rows().await;
    assert_eq!(payments.len(), 1, "{payments:?}");
    assert_eq!(payments[0].0, "completed");
    let receipt = payments[0].1.clone().expect("the receipt is recorded");
    assert_eq!(appointments, ["paid"]);
    assert_eq!((processed, duplicates), (1, 3));
    assert!(
        delivered[0].text.contains(&receipt),
        "the customer was told of the payment: {:?}",
        delivered[0].text
    );
}
