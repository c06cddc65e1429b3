//! `ratiba chat`: A terminal WhatsApp user: posts signed webhooks to a running server and shows the replies.
//!
//! Each line of standard input becomes one WhatsApp text message from
//! `--from` to the business `--to`, posted to `<server>/wa/webhook` with a
//! correct `X-Hub-Signature-256` (secret: `WHATSAPP_APP_SECRET`, or the
//! development default the server also uses when its Graph API is the local
//! capture endpoint). The server's replies are read back from its capture
//! endpoint (`<server>/dev/graph/messages`), so the server must run with
//! `WHATSAPP_GRAPH_URL=<server>/dev/graph`. A line that is just the number of
//! an offered button or list row taps it. After the last line the command
//! waits for its replies and exits.

use std::io::BufRead;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Args as ClapArgs;
use serde_json::{Value, json};

use crate::adapters::whatsapp::codec::sign;
use crate::core::ids::PhoneNumber;
use crate::http::whatsapp::DEV_APP_SECRET;

/// The demo tenant's WhatsApp phone_number_id.
pub const DEMO_PHONE_NUMBER_ID: &str = "109876543210001";

/// A terminal WhatsApp user: posts signed webhooks to a running server and shows the replies.
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// Server base URL.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub server: String,
    /// The business's WhatsApp phone_number_id (default: the demo tenant's).
    #[arg(long)]
    pub to: Option<String>,
    /// The customer's phone number, E.164.
    #[arg(long)]
    pub from: String,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(chat(args))
}

/// A choice the server offered in its last message.
#[derive(Debug, Clone)]
struct Offered {
    id: String,
    title: String,
    list: bool,
}

async fn chat(args: Args) -> anyhow::Result<()> {
    let from = PhoneNumber::parse(&args.from)
        .context("--from must be a phone number like +254712345678")?;
    let to = args
        .to
        .clone()
        .unwrap_or_else(|| DEMO_PHONE_NUMBER_ID.to_owned());
    let server = args.server.trim_end_matches('/').to_owned();
    let secret = std::env::var("WHATSAPP_APP_SECRET").unwrap_or_else(|_| DEV_APP_SECRET.to_owned());
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(15))
        .build()?;
    let mut cursor = latest(&http, &server, from.digits()).await?;
    let mut offered: Vec<Offered> = Vec::new();
    let stdin = std::io::stdin();
    let mut n = 0u64;
    for line in stdin.lock().lines() {
        let line = line?;
        let text = line.trim();
        if text.is_empty() {
            continue;
        }
        n += 1;
        let message_id = format!(
            "wamid.chat.{}.{}.{n}",
            from.digits(),
            chrono::Utc::now().timestamp_millis()
        );
        let tapped = text
            .parse::<usize>()
            .ok()
            .and_then(|i| i.checked_sub(1))
            .and_then(|i| offered.get(i).cloned());
        let message = match &tapped {
            Some(o) => {
                let kind = if o.list { "list_reply" } else { "button_reply" };
                json!({"from": from.digits(), "id": message_id, "timestamp": chrono::Utc::now().timestamp().to_string(),
                       "type": "interactive", "interactive": {"type": kind, kind: {"id": o.id, "title": o.title}}})
            }
            None => {
                json!({"from": from.digits(), "id": message_id, "timestamp": chrono::Utc::now().timestamp().to_string(),
                           "type": "text", "text": {"body": text}})
            }
        };
        let body = json!({"object": "whatsapp_business_account", "entry": [{"id": "0", "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "", "phone_number_id": to},
            "contacts": [{"profile": {"name": "ratiba chat"}, "wa_id": from.digits()}],
            "messages": [message]}}]}]});
        let raw = serde_json::to_vec(&body)?;
        let response = http
            .post(format!("{server}/wa/webhook"))
            .header("content-type", "application/json")
            .header("x-hub-signature-256", sign(&secret, &raw))
            .body(raw)
            .send()
            .await
            .with_context(|| format!("posting to {server}/wa/webhook"))?;
        if !response.status().is_success() {
            anyhow::bail!("the server refused the message: HTTP {}", response.status());
        }
        if let Some(o) = &tapped {
            println!("you: [{}]", o.title);
        }
        let replies = wait_for_replies(&http, &server, from.digits(), &mut cursor).await?;
        if replies.is_empty() {
            println!("(no reply)");
        } else {
            offered.clear();
        }
        for message in replies {
            print_message(&message, &mut offered);
        }
    }
    Ok(())
}

/// The capture log's latest sequence number.
async fn latest(http: &reqwest::Client, server: &str, to: &str) -> anyhow::Result<u64> {
    let v: Value = http
        .get(format!("{server}/dev/graph/messages"))
        .query(&[("to", to), ("after", &u64::MAX.to_string())])
        .send()
        .await
        .with_context(|| format!("reading {server}/dev/graph/messages (is the server running with WHATSAPP_GRAPH_URL={server}/dev/graph?)"))?
        .error_for_status()
        .context("the server has no capture endpoint: start it with WHATSAPP_GRAPH_URL=<server>/dev/graph")?
        .json()
        .await?;
    Ok(v["last"].as_u64().unwrap_or(0))
}

/// Polls the capture log until replies have arrived and gone quiet.
async fn wait_for_replies(
    http: &reqwest::Client,
    server: &str,
    to: &str,
    cursor: &mut u64,
) -> anyhow::Result<Vec<Value>> {
    let started = Instant::now();
    let mut got: Vec<Value> = Vec::new();
    let mut last_new = Instant::now();
    loop {
        let v: Value = http
            .get(format!("{server}/dev/graph/messages"))
            .query(&[("to", to), ("after", &cursor.to_string())])
            .send()
            .await?
            .json()
            .await?;
        if let Some(items) = v["messages"].as_array() {
            for item in items {
                if let Some(seq) = item["seq"].as_u64() {
                    *cursor = (*cursor).max(seq);
                }
                got.push(item["message"].clone());
                last_new = Instant::now();
            }
        }
        let quiet = last_new.elapsed() > Duration::from_millis(600);
        if (!got.is_empty() && quiet) || started.elapsed() > Duration::from_secs(20) {
            return Ok(got);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn print_message(m: &Value, offered: &mut Vec<Offered>) {
    match m["type"].as_str() {
        Some("text") => println!("bot: {}", m["text"]["body"].as_str().unwrap_or("")),
        Some("interactive") => {
            let i = &m["interactive"];
            println!("bot: {}", i["body"]["text"].as_str().unwrap_or(""));
            let list = i["type"].as_str() == Some("list");
            let rows: Vec<Value> = if list {
                i["action"]["sections"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .flat_map(|s| s["rows"].as_array().cloned().unwrap_or_default())
                    .collect()
            } else {
                i["action"]["buttons"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|b| b["reply"].clone())
                    .collect()
            };
            for row in rows {
                let title = row["title"].as_str().unwrap_or("").to_owned();
                offered.push(Offered {
                    id: row["id"].as_str().unwrap_or("").to_owned(),
                    title: title.clone(),
                    list,
                });
                match row["description"].as_str() {
                    Some(d) => println!("     [{}] {title} — {d}", offered.len()),
                    None => println!("     [{}] {title}", offered.len()),
                }
            }
        }
        _ => {}
    }
}
