//! Tenancy against a real Postgres: onboarding is idempotent and atomic,
//! tenant handles cannot see or touch each other's rows, pooled connections
//! carry no scope over, slugs are validated, the registry routes inbound
//! traffic, and the demo seed loads.

mod common;

use common::TestDb;
use ratiba::core::ids::{PhoneNumber, TenantSlug};
use ratiba::storage::{Db, NewTenant, StorageError, Vertical, seed};
use sqlx::postgres::PgPoolOptions;

fn slug(s: &str) -> TenantSlug {
    TenantSlug::parse(s).unwrap()
}

async fn schema_exists(db: &Db, schema: &str) -> bool {
    sqlx::query_scalar("SELECT to_regnamespace($1) IS NOT NULL")
        .bind(schema)
        .fetch_one(db.pool())
        .await
        .unwrap()
}

async fn registered(db: &Db, s: &str) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM public.tenants WHERE slug = $1")
        .bind(s)
        .fetch_one(db.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn onboarding_is_idempotent() {
    let db = TestDb::new().await;
    let mut new = NewTenant::new(slug("kinyozi"), "Kinyozi Poa", Vertical::Barbershop);
    new.voice_number = Some(PhoneNumber::parse("0711000900").unwrap());
    let first = db.db().onboard_tenant(&new).await.unwrap();
    assert!(first.created());
    let rec = first.record();
    assert_eq!(rec.schema_name.as_deref(), Some("tenant_kinyozi"));
    assert_eq!(rec.status.as_deref(), Some("active"));
    assert_eq!(rec.vertical, "barbershop");
    assert_eq!(rec.voice_number.as_deref(), Some("+254711000900"));

    // Put a row in, onboard again: same tenant, the row survives.
    let handle = db.db().tenant(&slug("kinyozi"));
    let mut tx = handle.begin().await.unwrap();
    sqlx::query("INSERT INTO services (name, duration_min, price) VALUES ('Fade', 30, 400)")
        .execute(tx.conn())
        .await
        .unwrap();
    tx.commit().await.unwrap();

    new.name = "A different name".into();
    let second = db.db().onboard_tenant(&new).await.unwrap();
    assert!(!second.created());
    assert_eq!(second.record().id, rec.id);
    assert_eq!(second.record().name, "Kinyozi Poa");
    assert_eq!(registered(db.db(), "kinyozi").await, 1);
    let mut tx = handle.begin().await.unwrap();
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM services")
        .fetch_one(tx.conn())
        .await
        .unwrap();
    assert_eq!(n, 1);
}

#[tokio::test]
async fn onboarding_is_atomic() {
    let db = TestDb::new().await;
    let mut first = NewTenant::new(slug("first"), "First", Vertical::Spa);
    first.voice_number = Some(PhoneNumber::parse("+254711000777").unwrap());
    first.whatsapp_phone_number_id = Some("555000111".into());
    db.db().onboard_tenant(&first).await.unwrap();

    // Same voice number: refused as a conflict, and nothing of the second
    // tenant remains (its schema was created before the registry insert).
    let mut clash = NewTenant::new(slug("second"), "Second", Vertical::Spa);
    clash.voice_number = first.voice_number.clone();
    match db.db().onboard_tenant(&clash).await {
        Err(StorageError::Conflict { constraint }) => {
            assert_eq!(constraint, "uq_tenants_voice_number")
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert!(!schema_exists(db.db(), "tenant_second").await);
    assert_eq!(registered(db.db(), "second").await, 0);

    let mut clash = NewTenant::new(slug("third"), "Third", Vertical::Spa);
    clash.whatsapp_phone_number_id = Some("555000111".into());
    assert!(matches!(
        db.db().onboard_tenant(&clash).await,
        Err(StorageError::Conflict { .. })
    ));
    assert!(!schema_exists(db.db(), "tenant_third").await);

    // A bad time zone is refused before anything is written.
    let mut bad_tz = NewTenant::new(slug("fourth"), "Fourth", Vertical::Spa);
    bad_tz.timezone = Some("Africa/Atlantis".into());
    assert!(matches!(
        db.db().onboard_tenant(&bad_tz).await,
        Err(StorageError::Invalid(_))
    ));
    assert!(!schema_exists(db.db(), "tenant_fourth").await);

    // The failed attempts left the first tenant intact and onboarding works.
    let ok = NewTenant::new(slug("second"), "Second", Vertical::Spa);
    assert!(db.db().onboard_tenant(&ok).await.unwrap().created());
    assert!(schema_exists(db.db(), "tenant_second").await);
}

#[tokio::test]
async fn a_tenant_handle_never_reaches_another_tenants_rows() {
    let test = TestDb::new().await;
    test.create_tenant("alpha").await;
    test.create_tenant("beta").await;
    // One connection, so every transaction below reuses the same session:
    // any scope leaking past a transaction would show.
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .connect(test.url())
        .await
        .unwrap();
    let db = Db::from_pool(pool);
    let alpha = db.tenant(&slug("alpha"));
    let beta = db.tenant(&slug("beta"));

    let mut tx = alpha.begin().await.unwrap();
    sqlx::query("INSERT INTO services (name, duration_min, price) VALUES ('Alpha cut', 30, 100)")
        .execute(tx.conn())
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let mut tx = beta.begin().await.unwrap();
    let names: Vec<String> = sqlx::query_scalar("SELECT name FROM services")
        .fetch_all(tx.conn())
        .await
        .unwrap();
    assert!(names.is_empty(), "beta saw {names:?}");
    // Beta's writes land in beta.
    sqlx::query("INSERT INTO services (name, duration_min, price) VALUES ('Beta cut', 30, 100)")
        .execute(tx.conn())
        .await
        .unwrap();
    let updated = sqlx::query("UPDATE services SET price = 1 WHERE name = 'Alpha cut'")
        .execute(tx.conn())
        .await
        .unwrap()
        .rows_affected();
    assert_eq!(updated, 0);
    // The registry is not on a tenant's path.
    let err = sqlx::query("SELECT count(*) FROM tenants")
        .execute(tx.conn())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("does not exist"), "{err}");
    tx.rollback().await.unwrap();

    // Naming another schema outright does not get past the database either:
    // the transaction runs as beta's role, which has alpha's tables and the
    // registry withheld.
    for sql in [
        "SELECT name FROM tenant_alpha.services",
        "UPDATE tenant_alpha.services SET price = 1",
        "SELECT count(*) FROM public.tenants",
    ] {
        let mut tx = beta.begin().await.unwrap();
        let err = sqlx::query(sql).execute(tx.conn()).await.unwrap_err();
        assert!(
            err.to_string().contains("permission denied"),
            "{sql}: {err}"
        );
        tx.rollback().await.unwrap();
    }

    let mut tx = beta.begin().await.unwrap();
    sqlx::query("INSERT INTO services (name, duration_min, price) VALUES ('Beta cut', 30, 100)")
        .execute(tx.conn())
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let mut tx = alpha.begin().await.unwrap();
    let names: Vec<String> = sqlx::query_scalar("SELECT name FROM services ORDER BY name")
        .fetch_all(tx.conn())
        .await
        .unwrap();
    assert_eq!(names, ["Alpha cut"]);
    // A dropped (uncommitted) transaction rolls back and resets the scope.
    drop(tx);

    // After tenant transactions, the pooled session is back to the default
    // path: no tenant schema on it.
    let path: String = sqlx::query_scalar("SHOW search_path")
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert!(!path.contains("tenant_"), "scope leaked: {path}");
    let role: String = sqlx::query_scalar("SELECT current_user::text")
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert!(!role.starts_with("ratiba_tenant_"), "role leaked: {role}");
    let err = sqlx::query("SELECT count(*) FROM services")
        .execute(db.pool())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("does not exist"), "{err}");
}

#[tokio::test]
async fn unknown_tenants_and_bad_slugs_are_refused() {
    let db = TestDb::new().await;
    match db.db().tenant(&slug("ghost")).begin().await {
        Err(StorageError::UnknownTenant(s)) => assert_eq!(s.as_str(), "ghost"),
        other => panic!("expected UnknownTenant, got {other:?}"),
    }
    for bad in [
        "",
        "Acme",
        "acme-salon",
        "a;drop schema public",
        "public",
        "x\"y",
        "_hidden",
        &"a".repeat(49),
    ] {
        let parsed = TenantSlug::parse(bad);
        if bad == "public" {
            // A valid slug: it names tenant_public, never the registry.
            assert_eq!(parsed.unwrap().schema_name(), "tenant_public");
            continue;
        }
        assert!(parsed.is_err(), "{bad:?} accepted");
    }
    // Slugs arriving as JSON are validated by deserialisation too.
    assert!(serde_json::from_str::<TenantSlug>("\"Bad Slug\"").is_err());
}

#[tokio::test]
async fn the_registry_routes_inbound_traffic() {
    let db = TestDb::new().await;
    let mut new = NewTenant::new(slug("route"), "Route Spa", Vertical::Spa);
    new.voice_number = Some(PhoneNumber::parse("+254711000500").unwrap());
    new.whatsapp_phone_number_id = Some("900000000000001".into());
    db.db().onboard_tenant(&new).await.unwrap();

    let by_voice = db
        .db()
        .tenant_by_voice_number(&PhoneNumber::parse("0711000500").unwrap())
        .await
        .unwrap()
        .expect("routed by voice number");
    assert_eq!(by_voice.slug.as_str(), "route");
    let by_wa = db
        .db()
        .tenant_by_whatsapp_phone_number_id("900000000000001")
        .await
        .unwrap()
        .expect("routed by phone_number_id");
    assert_eq!(by_wa.id, by_voice.id);
    assert!(
        db.db()
            .tenant_by_whatsapp_phone_number_id("123")
            .await
            .unwrap()
            .is_none()
    );

    // A deleted tenant is no longer routable, but still found by slug.
    sqlx::query(
        "UPDATE public.tenants SET status = 'deleted', deleted_at = now() WHERE slug = 'route'",
    )
    .execute(db.db().pool())
    .await
    .unwrap();
    assert!(
        db.db()
            .tenant_by_voice_number(&PhoneNumber::parse("+254711000500").unwrap())
            .await
            .unwrap()
            .is_none()
    );
    let rec = db
        .db()
        .tenant_by_slug(&slug("route"))
        .await
        .unwrap()
        .unwrap();
    assert!(!rec.serves(chrono::Utc::now()));
    assert_eq!(db.db().list_tenants().await.unwrap().len(), 1);
}

#[tokio::test]
async fn the_demo_seed_loads_once() {
    let db = TestDb::new().await;
    let demo = db.seed_demo().await;
    assert_eq!(demo.slug().as_str(), seed::DEMO_SLUG);

    let rec = db
        .db()
        .tenant_by_voice_number(&PhoneNumber::parse("+254711000100").unwrap())
        .await
        .unwrap()
        .expect("demo routed by voice");
    assert_eq!(rec.name, "Nywele Bora Salon");
    assert_eq!(rec.currency, "KES");
    assert_eq!(rec.timezone, "Africa/Nairobi");
    assert!(rec.voice_enabled && rec.voice_full_duplex_enabled && rec.voice_backchannel_filter);
    assert!(rec.voice_hard_interrupt && rec.voice_streaming && rec.voice_listening_ack);
    assert!(rec.voice_adaptive_speed);
    assert!(rec.payment_enabled);
    assert_eq!(rec.preferred_payment_provider, "mpesa");
    assert_eq!(rec.mpesa_shortcode.as_deref(), Some("174379"));
    assert_eq!(
        rec.whatsapp_phone_number_id.as_deref(),
        Some("109876543210001")
    );
    // Daraja credentials are stored encrypted and decrypt with the key.
    let token = rec.daraja_credentials.expect("encrypted credentials");
    assert!(token.expose().starts_with("gAAAAA"));
    let creds: serde_json::Value = db.vault().decrypt_json(token.expose().as_bytes()).unwrap();
    assert_eq!(creds["shortcode"], "174379");
    assert!(!format!("{:?}", rec.mpesa_passkey).contains("bfb279"));

    let counts = |sql: &'static str| {
        let demo = demo.clone();
        async move {
            let mut tx = demo.begin().await.unwrap();
            let n: i64 = sqlx::query_scalar(sql).fetch_one(tx.conn()).await.unwrap();
            n
        }
    };
    let services = counts("SELECT count(*) FROM services").await;
    assert!(services >= 10);
    assert!(counts("SELECT count(*) FROM services WHERE name_sw IS NULL").await == 0);
    assert!((3..=4).contains(&counts("SELECT count(*) FROM staff").await));
    assert!(counts("SELECT count(*) FROM staff_schedules").await >= 18);
    assert!(counts("SELECT count(*) FROM staff_services").await >= 12);
    assert_eq!(
        counts("SELECT count(*) FROM staff_blocks WHERE start_at > now()").await,
        1
    );
    assert!(counts("SELECT count(*) FROM knowledge_snippets WHERE language = 'sw'").await >= 5);
    assert_eq!(
        counts("SELECT count(*) FROM tenant_personality_config").await,
        1
    );

    // Seeding again changes nothing.
    let again = seed::seed_demo(db.db(), Some(db.vault())).await.unwrap();
    assert!(!again.created_tenant && !again.seeded_rows);
    assert_eq!(counts("SELECT count(*) FROM services").await, services);
}

#[tokio::test]
async fn concurrent_tenant_transactions_on_a_small_pool_stay_in_their_lane() {
    let test = TestDb::new().await;
    let slugs = ["lane_a", "lane_b", "lane_c"];
    for s in slugs {
        test.create_tenant(s).await;
    }
    let pool = PgPoolOptions::new()
        .max_connections(3)
        .connect(test.url())
        .await
        .unwrap();
    let db = Db::from_pool(pool);
    let mut tasks = Vec::new();
    for round in 0..20 {
        for s in slugs {
            let handle = db.tenant(&slug(s));
            tasks.push(tokio::spawn(async move {
                let mut tx = handle.begin().await.unwrap();
                sqlx::query("INSERT INTO services (name, duration_min, price) VALUES ($1, 30, 1)")
                    .bind(format!("{s}-{round}"))
                    .execute(tx.conn())
                    .await
                    .unwrap();
                let foreign: i64 =
                    sqlx::query_scalar("SELECT count(*) FROM services WHERE name NOT LIKE $1")
                        .bind(format!("{s}-%"))
                        .fetch_one(tx.conn())
                        .await
                        .unwrap();
                assert_eq!(foreign, 0, "{s} saw another tenant's rows");
                // Every other round rolls back instead of committing.
                if round % 2 == 0 {
                    tx.commit().await.unwrap();
                }
            }));
        }
    }
    for t in tasks {
        t.await.unwrap();
    }
    for s in slugs {
        let mut tx = db.tenant(&slug(s)).begin().await.unwrap();
        let names: Vec<String> = sqlx::query_scalar("SELECT name FROM services")
            .fetch_all(tx.conn())
            .await
            .unwrap();
        assert_eq!(names.len(), 10, "{s}: {names:?}");
        assert!(names.iter().all(|n| n.starts_with(s)));
    }
}
