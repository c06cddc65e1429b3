//! `ratiba chat`: a terminal WhatsApp, Instagram or Messenger user: posts
//! signed webhooks to a running server and shows the replies.
//!
//! Each line of standard input becomes one text message from `--from` to
//! the business `--to`, posted as the platform posts it (`--channel
//! whatsapp`: a Cloud API webhook to `<server>/wa/webhook`; `instagram` /
//! `messenger`: a `messaging` webhook to `<server>/webhooks/instagram` or
//! `/webhooks/messenger`) with a correct `X-Hub-Signature-256` (secret:
//! `WHATSAPP_APP_SECRET` or `META_APP_SECRET`, or the development default
//! the server also uses when its Graph API is the local capture endpoint).
//! The server's replies are read back from its capture endpoint
//! (`<server>/dev/graph/messages`), so the server must run with
//! `WHATSAPP_GRAPH_URL=<server>/dev/graph` (the embedded default does). A
//! line that is just the number of an offered button, list row or quick
//! reply taps it. After the last line the command waits for its replies
//! and exits.

use std::io::BufRead;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::{Args as ClapArgs, ValueEnum};
use serde_json::{Value, json};

use crate::adapters::whatsapp::codec::sign;
use crate::core::ids::{MetaUserId, PhoneNumber};
use crate::http::whatsapp::DEV_APP_SECRET;

/// The demo tenant's WhatsApp phone_number_id.
pub const DEMO_PHONE_NUMBER_ID: &str = "109876543210001";
/// The demo tenant's Instagram professional account id.
pub const DEMO_INSTAGRAM_ACCOUNT_ID: &str = "17841400000000001";
/// The demo tenant's Facebook page id.
pub const DEMO_FACEBOOK_PAGE_ID: &str = "110000000000001";

/// Which platform to impersonate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ChatChannel {
    Whatsapp,
    Instagram,
    Messenger,
}

/// A terminal WhatsApp, Instagram or Messenger user: posts signed webhooks to a running server and shows the replies.
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// Server base URL.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub server: String,
    /// The platform.
    #[arg(long, value_enum, default_value = "whatsapp")]
    pub channel: ChatChannel,
    /// The business: its WhatsApp phone_number_id, Instagram account id or
    /// page id (default: the demo tenant's).
    #[arg(long)]
    pub to: Option<String>,
    /// The customer: a phone number, E.164 (WhatsApp), or an IGSID / PSID
    /// (default 6100000000000001).
    #[arg(long)]
    pub from: Option<String>,
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

/// Who writes, as the platform names them, and where its webhooks go.
enum Customer {
    Phone(PhoneNumber),
    /// An IGSID / PSID, the webhook's path and its `object`.
    Scoped(MetaUserId, &'static str, &'static str),
}

impl Customer {
    /// The capture's `to` of the replies.
    fn id(&self) -> &str {
        match self {
            Customer::Phone(p) => p.digits(),
            Customer::Scoped(id, _, _) => id.expose(),
        }
    }
}

async fn chat(args: Args) -> anyhow::Result<()> {
    let scoped = |path, object| -> anyhow::Result<Customer> {
        let raw = args.from.as_deref().unwrap_or("6100000000000001");
        let id = MetaUserId::parse(raw)
            .context("--from must be an IGSID / PSID like 6100000000000001")?;
        Ok(Customer::Scoped(id, path, object))
    };
    let (from, default_to) = match args.channel {
        ChatChannel::Whatsapp => {
            let raw = args
                .from
                .as_deref()
                .context("--from: the customer's phone number, like +254712345678")?;
            let phone = PhoneNumber::parse(raw)
                .context("--from must be a phone number like +254712345678")?;
            (Customer::Phone(phone), DEMO_PHONE_NUMBER_ID)
        }
        ChatChannel::Instagram => (
            scoped("webhooks/instagram", "instagram")?,
            DEMO_INSTAGRAM_ACCOUNT_ID,
        ),
        ChatChannel::Messenger => (scoped("webhooks/messenger", "page")?, DEMO_FACEBOOK_PAGE_ID),
    };
    let to = args.to.clone().unwrap_or_else(|| default_to.to_owned());
    let server = args.server.trim_end_matches('/').to_owned();
    let secret = std::env::var("WHATSAPP_APP_SECRET")
        .or_else(|_| std::env::var("META_APP_SECRET"))
        .unwrap_or_else(|_| DEV_APP_SECRET.to_owned());
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(15))
        .build()?;
    let mut cursor = latest(&http, &server, from.id()).await?;
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
        let tapped = text
            .parse::<usize>()
            .ok()
            .and_then(|i| i.checked_sub(1))
            .and_then(|i| offered.get(i).cloned());
        let (path, body) = match &from {
            Customer::Phone(phone) => (
                "wa/webhook",
                whatsapp_body(phone, &to, n, text, tapped.as_ref()),
            ),
            Customer::Scoped(id, path, object) => {
                (*path, meta_body(object, id, &to, n, text, tapped.as_ref()))
            }
        };
        let raw = serde_json::to_vec(&body)?;
        let response = http
            .post(format!("{server}/{path}"))
            .header("content-type", "application/json")
            .header("x-hub-signature-256", sign(&secret, &raw))
            .body(raw)
            .send()
            .await
            .with_context(|| format!("posting to {server}/{path}"))?;
        if !response.status().is_success() {
            anyhow::bail!("the server refused the message: HTTP {}", response.status());
        }
        if let Some(o) = &tapped {
            println!("you: [{}]", o.title);
        }
        let replies = wait_for_replies(&http, &server, from.id(), &mut cursor).await?;
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

/// A Cloud API webhook carrying one text or tapped button / list row.
fn whatsapp_body(
    from: &PhoneNumber,
    to: &str,
    n: u64,
    text: &str,
    tapped: Option<&Offered>,
) -> Value {
    let now = chrono::Utc::now();
    let id = format!(
        "wamid.chat.{}.{}.{n}",
        from.digits(),
        now.timestamp_millis()
    );
    let ts = now.timestamp().to_string();
    let message = match tapped {
        Some(o) => {
            let kind = if o.list { "list_reply" } else { "button_reply" };
            json!({"from": from.digits(), "id": id, "timestamp": ts,
                   "type": "interactive", "interactive": {"type": kind, kind: {"id": o.id, "title": o.title}}})
        }
        None => {
            json!({"from": from.digits(), "id": id, "timestamp": ts, "type": "text", "text": {"body": text}})
        }
    };
    json!({"object": "whatsapp_business_account", "entry": [{"id": "0", "changes": [{"field": "messages", "value": {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "", "phone_number_id": to},
        "contacts": [{"profile": {"name": "ratiba chat"}, "wa_id": from.digits()}],
        "messages": [message]}}]}]})
}

/// An Instagram (`object` instagram) or Messenger (`page`) messaging
/// webhook carrying one text or tapped quick reply.
fn meta_body(
    object: &str,
    from: &MetaUserId,
    to: &str,
    n: u64,
    text: &str,
    tapped: Option<&Offered>,
) -> Value {
    let ms = chrono::Utc::now().timestamp_millis();
    let mid = format!("m_chat.{}.{ms}.{n}", from.expose());
    let message = match tapped {
        Some(o) => json!({"mid": mid, "text": o.title, "quick_reply": {"payload": o.id}}),
        None => json!({"mid": mid, "text": text}),
    };
    json!({"object": object, "entry": [{"id": to, "time": ms, "messaging": [{
        "sender": {"id": from.expose()}, "recipient": {"id": to}, "timestamp": ms, "message": message}]}]})
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
    // A Send API message (Instagram, Messenger): text and quick replies.
    if let Some(message) = m.get("message") {
        println!("bot: {}", message["text"].as_str().unwrap_or(""));
        for q in message["quick_replies"].as_array().into_iter().flatten() {
            let title = q["title"].as_str().unwrap_or("").to_owned();
            offered.push(Offered {
                id: q["payload"].as_str().unwrap_or("").to_owned(),
                title: title.clone(),
                list: false,
            });
            println!("     [{}] {title}", offered.len());
        }
        return;
    }
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
