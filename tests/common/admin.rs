//! Helpers for the admin API tests: the API served on loopback, tenants,
//! tokens, a small catalogue made through the API.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};
use ratiba::core::dialog::Channel;
use ratiba::core::ids::{PhoneNumber, TenantSlug};
use ratiba::core::throttle::FailureLimiter;
use ratiba::http::admin::{AdminState, router};
use ratiba::runtime::conversation::{BoxFuture, ConversationService, TurnText};
use ratiba::runtime::handoff::AdminNotifier;
use ratiba::storage::admin::tokens::{self, Scope};
use ratiba::storage::{TenantHandle, TenantRecord, Vault};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use super::TestDb;

/// Records what would have been sent on WhatsApp.
#[derive(Default)]
pub struct Outbox(pub Mutex<Vec<(String, String)>>);

impl AdminNotifier for Outbox {
    fn notify<'a>(
        &'a self,
        _t: &'a TenantRecord,
        to: &'a str,
        text: String,
    ) -> BoxFuture<'a, Result<(), String>> {
        self.0.lock().unwrap().push((to.to_owned(), text));
        Box::pin(async { Ok(()) })
    }
}

pub struct Api {
    pub base: String,
    http: reqwest::Client,
    /// Every (method, path template) called, for the isolation coverage.
    pub seen: Mutex<BTreeSet<(String, String)>>,
}

impl Api {
    pub async fn start(db: &TestDb, sender: Option<Arc<dyn AdminNotifier>>) -> Api {
        Api::serve(AdminState::new(db.db().clone(), sender, vault())).await
    }

    /// The API with no limit on failed bearer attempts: a fuzzer sends many
    /// on purpose and must still reach every operation after them.
    pub async fn start_unthrottled(db: &TestDb) -> Api {
        let mut state = AdminState::new(db.db().clone(), None, vault());
        state.auth_failures = Arc::new(Mutex::new(FailureLimiter::new(
            u32::MAX,
            std::time::Duration::from_secs(60),
            16,
        )));
        Api::serve(state).await
    }

    async fn serve(state: AdminState) -> Api {
        let app = router(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            axum::serve(
                listener,
                app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
            )
            .await
            .unwrap()
        });
        Api {
            base: format!("http://{addr}"),
            http: reqwest::Client::new(),
            seen: Mutex::new(BTreeSet::new()),
        }
    }

    /// Calls `path` (under /api/v1) and returns the status and JSON body
    /// (Null when empty). `template` names the route for coverage.
    pub async fn call_as(
        &self,
        template: &str,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        self.seen
            .lock()
            .unwrap()
            .insert((method.as_str().to_lowercase(), format!("/api/v1{template}")));
        let mut req = self
            .http
            .request(method, format!("{}/api/v1{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        let text = resp.text().await.unwrap();
        let value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
        };
        if status.is_client_error() || status.is_server_error() {
            // One error shape everywhere.
            assert!(
                value["error"].is_string() && value["message"].is_string(),
                "error body {value}"
            );
        }
        (status, value)
    }

    pub async fn call(
        &self,
        template: &str,
        method: Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        self.call_as(template, method, path, Some(token), body)
            .await
    }

    /// A call that must succeed with `want`.
    pub async fn ok(
        &self,
        want: StatusCode,
        template: &str,
        method: Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> Value {
        let (status, v) = self.call(template, method.clone(), path, token, body).await;
        assert_eq!(status, want, "{method} {path}: {v}");
        v
    }
}

/// The vault every test API encrypts with (one key per process).
pub fn vault() -> Vault {
    static KEY: std::sync::OnceLock<ratiba::config::Secret> = std::sync::OnceLock::new();
    Vault::new(KEY.get_or_init(Vault::generate_key)).unwrap()
}

pub async fn tenant(db: &TestDb, slug: &str, wa_id: &str) -> TenantRecord {
    db.create_tenant(slug).await;
    sqlx::query("UPDATE public.tenants SET whatsapp_phone_number_id = $2 WHERE slug = $1")
        .bind(slug)
        .bind(wa_id)
        .execute(db.db().pool())
        .await
        .unwrap();
    db.db()
        .tenant_by_slug(&TenantSlug::parse(slug).unwrap())
        .await
        .unwrap()
        .unwrap()
}

/// A token for the admin with `phone` of `rec` (added if missing).
pub async fn token_for(db: &TestDb, rec: &TenantRecord, phone: &str) -> (String, Uuid) {
    let phone = PhoneNumber::parse(phone).unwrap();
    let (admin, _) = tokens::admin_for_phone(db.db(), rec.id, &phone, true)
        .await
        .unwrap()
        .unwrap();
    let t = tokens::create(
        db.db(),
        Scope::Tenant {
            tenant: rec.id,
            admin,
        },
        Some("test"),
        Utc::now() + Duration::days(1),
    )
    .await
    .unwrap();
    (t.token, admin)
}

/// One tenant with the API started and a token for its first admin.
pub struct OneTenant {
    pub rec: TenantRecord,
    pub handle: TenantHandle,
    pub api: Api,
    pub token: String,
    pub admin: Uuid,
}

/// Tenant `slug` (WhatsApp phone_number_id 1001), the API, an admin's token.
pub async fn one_tenant(db: &TestDb, slug: &str) -> OneTenant {
    let rec = tenant(db, slug, "1001").await;
    let handle = db.db().tenant(&rec.slug);
    let api = Api::start(db, None).await;
    let (token, admin) = token_for(db, &rec, "+254722000001").await;
    OneTenant {
        rec,
        handle,
        api,
        token,
        admin,
    }
}

pub fn id(v: &Value) -> String {
    v["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no id in {v}"))
        .to_owned()
}

/// A service, a staff member who offers it and works 09:00-18:00 every
/// day, through the API. Returns (service id, staff id).
pub async fn catalogue(api: &Api, token: &str, name: &str) -> (String, String) {
    let sv = service(api, token, name, "1500.00").await;
    let st = staff_member(api, token, "Amina", "0722000111", &[&sv]).await;
    (sv, st)
}

/// A one-hour service at `price` (e.g. "1500.00"), through the API.
pub async fn service(api: &Api, token: &str, name: &str, price: &str) -> String {
    id(&api
        .ok(
            StatusCode::CREATED,
            "/services",
            Method::POST,
            "/services",
            token,
            Some(json!({"name": name, "duration_min": 60, "price": price, "buffer_min": 0})),
        )
        .await)
}

/// A staff member who offers `services` and works 09:00-18:00 every day,
/// through the API.
pub async fn staff_member(
    api: &Api,
    token: &str,
    name: &str,
    phone: &str,
    services: &[&str],
) -> String {
    let st = id(&api
        .ok(
            StatusCode::CREATED,
            "/staff",
            Method::POST,
            "/staff",
            token,
            Some(json!({"name": name, "phone_number": phone})),
        )
        .await);
    for sv in services {
        api.ok(
            StatusCode::OK,
            "/staff/{id}/services/{service_id}",
            Method::PUT,
            &format!("/staff/{st}/services/{sv}"),
            token,
            None,
        )
        .await;
    }
    for day in 0..7 {
        api.ok(
            StatusCode::OK,
            "/staff/{id}/schedule/{day_of_week}",
            Method::PUT,
            &format!("/staff/{st}/schedule/{day}"),
            token,
            Some(json!({"start_time": "09:00:00", "end_time": "18:00:00"})),
        )
        .await;
    }
    st
}

/// Books `customer` in through the API; returns the appointment id.
pub async fn book(
    api: &Api,
    token: &str,
    customer: &str,
    service: &str,
    staff: &str,
    start_at: DateTime<Utc>,
) -> String {
    id(&api
        .ok(
            StatusCode::CREATED,
            "/appointments",
            Method::POST,
            "/appointments",
            token,
            Some(json!({"customer_phone": customer, "service_id": service,
                        "staff_id": staff, "start_at": start_at})),
        )
        .await)
}

/// Marks appointment `appt` completed through the API with `visit`
/// (actual times, tip, notes).
pub async fn complete(api: &Api, token: &str, appt: &str, visit: Value) -> Value {
    api.ok(
        StatusCode::OK,
        "/appointments/{id}/complete",
        Method::POST,
        &format!("/appointments/{appt}/complete"),
        token,
        Some(visit),
    )
    .await
}

/// 10:00 Nairobi time (07:00 UTC), `days` from 2030-01-07.
pub fn ten_am(days: i64) -> DateTime<Utc> {
    "2030-01-07T07:00:00Z".parse::<DateTime<Utc>>().unwrap() + Duration::days(days)
}

/// Makes a handed-off WhatsApp thread for `customer` in `rec`'s schema.
pub async fn handed_off_thread(db: &TestDb, rec: &TenantRecord, customer: &str) -> String {
    let thread = format!("t-{}", Uuid::new_v4());
    let mut tx = db.db().tenant(&rec.slug).begin().await.unwrap();
    sqlx::query(
        "INSERT INTO conversation_threads (customer_phone, thread_id, channel_started, actor_type) \
         VALUES ($1, $2, 'whatsapp', 'customer')",
    )
    .bind(customer)
    .bind(&thread)
    .execute(tx.conn())
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO handoff_log (thread_id, actor, actor_phone, content, message_metadata) \
         VALUES ($1, 'customer', $2, 'I want a person', '{\"kind\": \"handoff_started\"}')",
    )
    .bind(&thread)
    .bind(customer)
    .execute(tx.conn())
    .await
    .unwrap();
    tx.commit().await.unwrap();
    thread
}

/// One WhatsApp turn from `from` to the conversation of `tenant`; the
/// replies joined with " | ".
pub async fn say(
    service: &ConversationService,
    tenant: &TenantHandle,
    from: &str,
    text: &str,
    now: DateTime<Utc>,
) -> String {
    let phone = PhoneNumber::parse(from).unwrap();
    let out = service
        .handle_turn(
            tenant,
            None,
            TurnText {
                channel: Channel::WhatsApp,
                customer: ratiba::core::ids::ChannelIdentity::WhatsApp(phone.clone()),
                customer_name: None,
                text: text.into(),
                language_hint: None,
                dtmf: None,
                choice_id: None,
                message_id: Some(format!("wamid.{}", Uuid::new_v4())),
                message_type: "text".into(),
                now,
            },
        )
        .await
        .unwrap();
    out.replies
        .iter()
        .map(|r| r.reply.text())
        .collect::<Vec<_>>()
        .join(" | ")
}
