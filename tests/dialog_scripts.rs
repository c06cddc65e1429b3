//! Scripted conversations (fixtures/dialogs/*.json) against a real database
//! seeded with the demo salon: each turn goes through
//! `ConversationService::handle_turn`, each reply is checked for its key
//! content, and each script ends with SQL checks of the rows written.
//!
//! Script format:
//! ```json
//! {"name": "...", "channel": "whatsapp" | "voice", "from": "+2547...",
//!  "now": "2030-01-07T05:00:00Z",            // optional; a Monday 08:00 EAT
//!  "setup": ["SQL run in the tenant schema before the first turn"],
//!  "turns": [{"say": "text", "tap": "slot_0", "expect": ["..."], "expect_not": ["..."],
//!             "expect_any": ["a", "b"], "silent": true, "advance_minutes": 5}],
//!  "rows": [["SELECT count(*) FROM appointments WHERE ...", 1]]}
//! ```
//! `expect` strings must all appear in the turn's replies (case-insensitive).

mod common;

use chrono::{DateTime, Duration, Utc};
use futures::StreamExt;
use ratiba::core::dialog::Channel;
use ratiba::core::ids::{ChannelIdentity, PhoneNumber};
use ratiba::runtime::conversation::{ConversationService, TurnText};
use serde::Deserialize;

#[derive(Deserialize)]
struct Script {
    name: String,
    #[serde(default)]
    channel: Option<String>,
    from: String,
    #[serde(default)]
    now: Option<DateTime<Utc>>,
    #[serde(default)]
    setup: Vec<String>,
    turns: Vec<Step>,
    #[serde(default)]
    rows: Vec<(String, i64)>,
}

#[derive(Deserialize)]
struct Step {
    #[serde(default)]
    say: String,
    #[serde(default)]
    tap: Option<String>,
    #[serde(default)]
    expect: Vec<String>,
    #[serde(default)]
    expect_not: Vec<String>,
    #[serde(default)]
    expect_any: Vec<String>,
    #[serde(default)]
    silent: bool,
    #[serde(default)]
    advance_minutes: i64,
}

fn scripts() -> Vec<(String, Script)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/dialogs");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("fixtures/dialogs")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let raw = std::fs::read_to_string(&p).unwrap();
            let s: Script =
                serde_json::from_str(&raw).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            (p.file_name().unwrap().to_string_lossy().into_owned(), s)
        })
        .collect()
}

async fn run_script(file: &str, script: &Script) {
    let db = common::TestDb::new().await;
    let tenant = db.seed_demo().await;
    {
        let mut tx = tenant.begin().await.unwrap();
        for sql in &script.setup {
            sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
                .execute(tx.conn())
                .await
                .unwrap_or_else(|e| panic!("{file}: setup {sql}: {e}"));
        }
        tx.commit().await.unwrap();
    }
    let service = ConversationService::new(db.db().clone());
    let channel = match script.channel.as_deref() {
        Some("voice") => Channel::Voice,
        _ => Channel::WhatsApp,
    };
    let phone = PhoneNumber::parse(&script.from).unwrap();
    let mut now = script
        .now
        .unwrap_or_else(|| "2030-01-07T05:00:00Z".parse().unwrap());
    let mut transcript = String::new();
    for (i, step) in script.turns.iter().enumerate() {
        now += Duration::minutes(step.advance_minutes);
        let outcome = service
            .handle_turn(
                &tenant,
                None,
                TurnText {
                    channel,
                    customer: if channel == Channel::Voice {
                        ChannelIdentity::Voice(phone.clone())
                    } else {
                        ChannelIdentity::WhatsApp(phone.clone())
                    },
                    customer_name: Some("Wanjiku Test".into()),
                    text: step.say.clone(),
                    language_hint: None,
                    dtmf: None,
                    choice_id: step.tap.clone(),
                    message_id: Some(format!("wamid.{file}.{i}")),
                    message_type: if step.tap.is_some() {
                        "interactive"
                    } else {
                        "text"
                    }
                    .into(),
                    now,
                },
            )
            .await
            .unwrap_or_else(|e| panic!("{file} turn {i}: {e}"));
        let text: String = outcome
            .replies
            .iter()
            .map(|r| r.reply.text())
            .collect::<Vec<_>>()
            .join(" | ");
        transcript.push_str(&format!(
            "> {}{}\n< {text}\n",
            step.say,
            step.tap
                .as_deref()
                .map(|t| format!(" [{t}]"))
                .unwrap_or_default()
        ));
        let lower = text.to_lowercase();
        for e in &step.expect {
            assert!(
                lower.contains(&e.to_lowercase()),
                "{file} ({}) turn {i}: expected {e:?}\n{transcript}",
                script.name
            );
        }
        for e in &step.expect_not {
            assert!(
                !lower.contains(&e.to_lowercase()),
                "{file} ({}) turn {i}: did not expect {e:?}\n{transcript}",
                script.name
            );
        }
        if !step.expect_any.is_empty() {
            assert!(
                step.expect_any
                    .iter()
                    .any(|e| lower.contains(&e.to_lowercase())),
                "{file} ({}) turn {i}: expected one of {:?}\n{transcript}",
                script.name,
                step.expect_any
            );
        }
        if step.silent {
            assert!(
                text.is_empty(),
                "{file} turn {i}: expected silence\n{transcript}"
            );
        } else {
            assert!(
                !text.is_empty(),
                "{file} turn {i}: expected a reply\n{transcript}"
            );
        }
    }
    let mut tx = tenant.begin().await.unwrap();
    // Every turn is an inbound interactions row on the thread.
    let inbound: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM interactions WHERE direction = 'inbound' AND channel = $1",
    )
    .bind(channel.as_str())
    .fetch_one(tx.conn())
    .await
    .unwrap();
    assert_eq!(
        inbound,
        script.turns.len() as i64,
        "{file}: inbound rows\n{transcript}"
    );
    let threads: i64 =
        sqlx::query_scalar("SELECT count(*) FROM conversation_threads WHERE customer_phone = $1")
            .bind(phone.expose())
            .fetch_one(tx.conn())
            .await
            .unwrap();
    assert!(threads >= 1, "{file}: no thread");
    for (sql, want) in &script.rows {
        let got: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql.clone()))
            .fetch_one(tx.conn())
            .await
            .unwrap_or_else(|e| panic!("{file}: {sql}: {e}"));
        assert_eq!(got, *want, "{file} ({}): {sql}\n{transcript}", script.name);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scripted_dialogs() {
    let all = scripts();
    // DIALOG=<part of a file name> runs only the matching scripts.
    let only = std::env::var("DIALOG").ok();
    if only.is_none() {
        assert!(all.len() >= 30, "only {} scripts", all.len());
    }
    // Each script has its own database; four at a time (most of a script's
    // time is Postgres creating and seeding that database).
    let chosen: Vec<_> = all
        .iter()
        .filter(|(file, _)| only.as_deref().is_none_or(|o| file.contains(o)))
        .collect();
    futures::stream::iter(chosen)
        .for_each_concurrent(4, |(file, script)| run_script(file, script))
        .await;
}
