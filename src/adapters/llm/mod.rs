//! Optional OpenAI-compatible chat model (PROTOCOLS.md 7), used only for
//! turns the rules cannot understand.
//!
//! The model never writes anything itself. It is offered tools (find slots /
//! book, reschedule, cancel, answer a question, talk to a person) and its
//! tool call is turned back into a plain sentence the rule-based dialogue
//! understands ("book Cornrows 11/1/2030 at 14:00"), which then runs through
//! the same state machine, checks and confirmations as any other turn. Any
//! failure — no endpoint, timeout, HTTP error, bad JSON, a ceiling reached —
//! returns `None` and the rules' own answer stands: the customer never sees
//! an error.
//!
//! Cost: each call's tokens are priced (USD per million tokens, defaults
//! below, overridable per tenant in `llm_role_overrides`) and added to the
//! thread's spend. Past the tenant's `cost_ceiling_soft_usd` the cheaper
//! model is used; past `cost_ceiling_hard_usd` the model is not called.
//! `llm_role_overrides` may also name the models: `{"understand": "...",
//! "cheap": "...", "price_in_per_mtok": 0.15, "price_out_per_mtok": 0.6}`.
//! The spend lives in the thread's checkpointed dialog state (reset by a
//! booking); the caller passes it in and adds the cost this returns.

use std::time::Duration;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use rust_decimal::prelude::ToPrimitive;
use serde_json::{Value, json};
use thiserror::Error;

use crate::config::{LlmSettings, Secret};
use crate::core::dialog::Lang;
use crate::core::ids::ThreadId;
use crate::runtime::conversation::{BoxFuture, Interpretation, Interpreter};
use crate::storage::TenantRecord;

/// Default prices (USD per million tokens) when the tenant sets none.
pub const DEFAULT_PRICE_IN_PER_MTOK: f64 = 0.15;
pub const DEFAULT_PRICE_OUT_PER_MTOK: f64 = 0.60;

#[derive(Debug, Error)]
pub enum LlmError {
    #[error("model endpoint unreachable or slow: {0}")]
    Unreachable(String),
    #[error("model endpoint refused the request: http {0}")]
    Refused(u16),
    #[error("model answered something unusable: {0}")]
    Unusable(String),
}

/// One completion's useful parts.
#[derive(Debug, Clone, PartialEq)]
pub struct Completion {
    pub content: Option<String>,
    /// (function name, parsed arguments).
    pub tool_calls: Vec<(String, Value)>,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
}

/// A minimal non-streaming chat-completions client.
#[derive(Debug, Clone)]
pub struct LlmClient {
    http: reqwest::Client,
    base_url: String,
    api_key: Option<Secret>,
}

impl LlmClient {
    pub fn new(
        base_url: &str,
        api_key: Option<Secret>,
        timeout: Duration,
    ) -> Result<Self, LlmError> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(3)))
            .build()
            .map_err(|e| LlmError::Unusable(e.to_string()))?;
        Ok(LlmClient {
            http,
            base_url: base_url.trim_end_matches('/').to_owned(),
            api_key,
        })
    }

    /// `POST {base}/chat/completions` (the base includes `/v1`).
    pub async fn complete(
        &self,
        model: &str,
        messages: &[Value],
        tools: &[Value],
    ) -> Result<Completion, LlmError> {
        let body = json!({
            "model": model,
            "temperature": 0.0,
            "max_tokens": 200,
            "stream": false,
            "messages": messages,
            "tools": tools,
            "tool_choice": "auto",
            "parallel_tool_calls": false,
        });
        let mut req = self
            .http
            .post(format!("{}/chat/completions", self.base_url))
            .json(&body);
        if let Some(key) = &self.api_key {
            req = req.bearer_auth(key.expose());
        }
        let resp = req
            .send()
            .await
            .map_err(|e| LlmError::Unreachable(e.to_string()))?;
        let status = resp.status();
        if !status.is_success() {
            return Err(LlmError::Refused(status.as_u16()));
        }
        let v: Value = resp
            .json()
            .await
            .map_err(|e| LlmError::Unusable(e.to_string()))?;
        let message = &v["choices"][0]["message"];
        if message.is_null() {
            return Err(LlmError::Unusable("no choices[0].message".into()));
        }
        let mut tool_calls = Vec::new();
        for call in message["tool_calls"].as_array().into_iter().flatten() {
            let name = call["function"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            // `arguments` is a JSON string; models emit bad JSON sometimes.
            let args: Value = call["function"]["arguments"]
                .as_str()
                .and_then(|a| serde_json::from_str(a).ok())
                .ok_or_else(|| LlmError::Unusable(format!("arguments of {name} are not JSON")))?;
            tool_calls.push((name, args));
        }
        Ok(Completion {
            content: message["content"].as_str().map(str::to_owned),
            tool_calls,
            prompt_tokens: v["usage"]["prompt_tokens"].as_u64().unwrap_or(0),
            completion_tokens: v["usage"]["completion_tokens"].as_u64().unwrap_or(0),
        })
    }
}

/// The tools offered to the model.
pub fn tools() -> Vec<Value> {
    let f = |name: &str, description: &str, properties: Value, required: &[&str]| {
        json!({"type": "function", "function": {"name": name, "description": description,
            "parameters": {"type": "object", "properties": properties, "required": required, "additionalProperties": false}}})
    };
    vec![
        f(
            "book",
            "The customer wants to book (or check free times for) a service.",
            json!({"service": {"type": "string", "description": "service name from the catalog"},
                   "date": {"type": "string", "format": "date"},
                   "time": {"type": "string", "description": "HH:MM, 24-hour"}}),
            &["service"],
        ),
        f(
            "reschedule",
            "Move the customer's existing appointment.",
            json!({"date": {"type": "string", "format": "date"}, "time": {"type": "string"}}),
            &[],
        ),
        f(
            "cancel",
            "Cancel the customer's existing appointment.",
            json!({}),
            &[],
        ),
        f(
            "answer_question",
            "The customer asks about the business.",
            json!({"topic": {"type": "string", "enum": ["hours", "location", "services", "prices", "payment", "parking", "other"]}}),
            &["topic"],
        ),
        f(
            "talk_to_person",
            "The customer wants a human.",
            json!({}),
            &[],
        ),
    ]
}

/// Turns a tool call into a sentence the rules understand (English forms;
/// the reply language is kept by the caller).
pub fn canonical_text(name: &str, args: &Value) -> Option<String> {
    let date = args["date"]
        .as_str()
        .and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        .map(|d| d.format("%-d/%-m/%Y").to_string());
    let time = args["time"]
        .as_str()
        .and_then(|t| chrono::NaiveTime::parse_from_str(t, "%H:%M").ok())
        .map(|t| t.format("%H:%M").to_string());
    let when = match (date, time) {
        (Some(d), Some(t)) => format!(" {d} at {t}"),
        (Some(d), None) => format!(" {d}"),
        (None, Some(t)) => format!(" at {t}"),
        (None, None) => String::new(),
    };
    match name {
        "book" => {
            let service = args["service"].as_str()?.trim();
            (!service.is_empty()).then(|| format!("book {service}{when}"))
        }
        "reschedule" => Some(format!("reschedule my appointment{when}")),
        "cancel" => Some("cancel my appointment".into()),
        "answer_question" => Some(
            match args["topic"].as_str()? {
                "hours" => "what are your opening hours",
                "location" => "where are you located",
                "services" => "what services do you offer",
                "prices" => "price list",
                "payment" => "do you accept mpesa payment",
                "parking" => "is there parking",
                _ => return None,
            }
            .into(),
        ),
        "talk_to_person" => Some("talk to a real person".into()),
        _ => None,
    }
}

/// The [`Interpreter`] backed by the model, with per-thread cost tracking.
pub struct LlmInterpreter {
    client: LlmClient,
    model: String,
    cheap_model: String,
}

impl LlmInterpreter {
    pub fn from_settings(s: &LlmSettings) -> Option<Self> {
        let base = s.llm_base_url.as_ref()?;
        let model = s.llm_model.clone()?;
        let client = LlmClient::new(base.as_str(), s.llm_api_key.clone(), s.llm_timeout).ok()?;
        Some(LlmInterpreter {
            cheap_model: s.llm_cheap_model.clone().unwrap_or_else(|| model.clone()),
            client,
            model,
        })
    }

    pub fn new(client: LlmClient, model: &str, cheap_model: &str) -> Self {
        LlmInterpreter {
            client,
            model: model.to_owned(),
            cheap_model: cheap_model.to_owned(),
        }
    }

    /// Which model to call for this tenant and thread, or none.
    fn choose_model(&self, tenant: &TenantRecord, spent: f64) -> Option<String> {
        let hard = tenant.cost_ceiling_hard_usd.to_f64().unwrap_or(0.20);
        let soft = tenant.cost_ceiling_soft_usd.to_f64().unwrap_or(0.05);
        if spent >= hard {
            return None;
        }
        let overrides = &tenant.llm_role_overrides;
        let pick = |role: &str, default: &str| {
            overrides
                .get(role)
                .and_then(|v| v.as_str())
                .filter(|m| !m.trim().is_empty())
                .map(str::to_owned)
                .unwrap_or_else(|| default.to_owned())
        };
        Some(if spent >= soft {
            pick("cheap", &self.cheap_model)
        } else {
            pick("understand", &self.model)
        })
    }

    async fn run(
        &self,
        tenant: &TenantRecord,
        thread: &ThreadId,
        text: &str,
        lang: Lang,
        now: DateTime<Utc>,
        spent_micro_usd: u64,
    ) -> Interpretation {
        let spent = spent_micro_usd as f64 / 1e6;
        let Some(model) = self.choose_model(tenant, spent) else {
            tracing::info!(tenant = %tenant.slug, thread = %thread, spent, "LLM hard cost ceiling reached; rules only");
            return Interpretation::default();
        };
        let tz: Tz = tenant
            .timezone
            .parse()
            .unwrap_or(chrono_tz::Africa::Nairobi);
        let local = now.with_timezone(&tz);
        let system = format!(
            "You route messages for {}, a {} in Kenya. Today is {} ({}), time {}. The customer writes in {}. \
             Call exactly one tool that captures what they want; dates as YYYY-MM-DD, times as 24-hour HH:MM. \
             If nothing fits, answer with an empty message.",
            tenant.name,
            tenant.vertical,
            local.format("%Y-%m-%d"),
            local.format("%A"),
            local.format("%H:%M"),
            if lang == Lang::Sw {
                "Swahili (or mixed)"
            } else {
                "English (or mixed)"
            }
        );
        let messages = [
            json!({"role": "system", "content": system}),
            json!({"role": "user", "content": text}),
        ];
        let result = self.client.complete(&model, &messages, &tools()).await;
        let completion = match result {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(tenant = %tenant.slug, error = %e, "LLM call failed; rules answer");
                return Interpretation::default();
            }
        };
        let price = |key: &str, default: f64| {
            tenant
                .llm_role_overrides
                .get(key)
                .and_then(Value::as_f64)
                .unwrap_or(default)
        };
        let cost = completion.prompt_tokens as f64
            * price("price_in_per_mtok", DEFAULT_PRICE_IN_PER_MTOK)
            / 1e6
            + completion.completion_tokens as f64
                * price("price_out_per_mtok", DEFAULT_PRICE_OUT_PER_MTOK)
                / 1e6;
        tracing::debug!(model, cost_usd = cost, "LLM call");
        Interpretation {
            rewrite: completion
                .tool_calls
                .first()
                .and_then(|(name, args)| canonical_text(name, args)),
            // Rounded up: many tiny calls must not cost nothing.
            cost_micro_usd: (cost * 1e6).ceil().max(0.0) as u64,
        }
    }
}

impl Interpreter for LlmInterpreter {
    fn interpret<'a>(
        &'a self,
        tenant: &'a TenantRecord,
        thread: &'a ThreadId,
        text: &'a str,
        lang: Lang,
        now: DateTime<Utc>,
        spent_micro_usd: u64,
    ) -> BoxFuture<'a, Interpretation> {
        Box::pin(self.run(tenant, thread, text, lang, now, spent_micro_usd))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tool_calls_become_rule_sentences() {
        let c = |n: &str, a: Value| canonical_text(n, &a);
        assert_eq!(
            c(
                "book",
                json!({"service": "Cornrows", "date": "2030-01-11", "time": "14:00"})
            )
            .as_deref(),
            Some("book Cornrows 11/1/2030 at 14:00")
        );
        assert_eq!(c("book", json!({"service": ""})), None);
        assert_eq!(
            c("cancel", json!({})).as_deref(),
            Some("cancel my appointment")
        );
        assert_eq!(
            c("answer_question", json!({"topic": "hours"})).as_deref(),
            Some("what are your opening hours")
        );
        assert_eq!(c("answer_question", json!({"topic": "weather"})), None);
        assert_eq!(c("launch_rockets", json!({})), None);
    }
}
