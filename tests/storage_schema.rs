//! The two migration chains against a real Postgres: they apply to an empty
//! database, re-apply as a no-op, and the schema enforces the reference's
//! constraints.

mod common;

use common::TestDb;
use ratiba::storage::{TenantTx, migrate};
use sqlx::Row;

const TENANT_TABLES: [&str; 24] = [
    "appointments",
    "catalog_audits",
    "catalog_imports",
    "commission_period",
    "commission_rules",
    "contacts",
    "conversation_threads",
    "customer_identities",
    "customer_sessions",
    "customers",
    "dial_audits",
    "handoff_log",
    "handoff_log_archive",
    "interactions",
    "knowledge_snippets",
    "payments",
    "service_relations",
    "services",
    "staff",
    "staff_blocks",
    "staff_schedules",
    "staff_services",
    "tenant_personality_config",
    "web_phone_codes",
];

async fn tables_in(db: &TestDb, schema: &str) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables \
         WHERE table_schema = $1 AND table_type = 'BASE TABLE' ORDER BY 1",
    )
    .bind(schema)
    .fetch_all(db.db().pool())
    .await
    .unwrap()
}

#[tokio::test]
async fn both_chains_apply_to_an_empty_database_and_reapply_as_no_op() {
    let db = TestDb::new().await;
    let public = tables_in(&db, "public").await;
    assert_eq!(
        public,
        [
            "_sqlx_migrations",
            "admin_api_tokens",
            "admin_briefings",
            "inbound_quarantine",
            "payment_callbacks_unrouted",
            "payment_routing",
            "tenant_admins",
            "tenants",
            "whatsapp_inbox"
        ]
    );
    // TestDb already applied the public chain: a second run applies nothing.
    assert!(migrate::migrate_public(db.db()).await.unwrap().is_empty());

    let acme = db.create_tenant("acme").await;
    let mut expected: Vec<String> = TENANT_TABLES.iter().map(|s| s.to_string()).collect();
    expected.extend(
        [
            "_sqlx_migrations",
            "checkpoint_blobs",
            "checkpoint_blobs_archive",
            "checkpoint_writes",
            "checkpoint_writes_archive",
            "checkpoints",
            "checkpoints_archive",
            "payment_deadlines",
            "processed_callbacks",
        ]
        .map(String::from),
    );
    expected.sort();
    assert_eq!(tables_in(&db, "tenant_acme").await, expected);

    // The tenant's history lives in its own schema, complete.
    let history: Vec<i64> =
        sqlx::query_scalar("SELECT version FROM tenant_acme._sqlx_migrations ORDER BY version")
            .fetch_all(db.db().pool())
            .await
            .unwrap();
    assert_eq!(history, migrate::tenant_chain_versions());
    assert!(history.len() >= 6);

    // Re-applying everything is a no-op, and public's history holds only
    // the public chain.
    let report = migrate::migrate_all(db.db()).await.unwrap();
    assert!(report.public_applied.is_empty());
    assert_eq!(report.tenants.len(), 1);
    assert_eq!(report.tenants[0].0, *acme.slug());
    assert!(report.tenants[0].1.is_empty());
    let public_history: Vec<i64> =
        sqlx::query_scalar("SELECT version FROM public._sqlx_migrations ORDER BY version")
            .fetch_all(db.db().pool())
            .await
            .unwrap();
    assert_eq!(public_history, migrate::public_chain_versions());
}

#[tokio::test]
async fn a_tenant_missing_migrations_catches_up_alone() {
    let db = TestDb::new().await;
    let a = db.create_tenant("aa").await;
    let b = db.create_tenant("bb").await;
    // Simulate a tenant created before migration 7 (payment records) and
    // the ones after it.
    let missing: Vec<i64> = migrate::tenant_chain_versions()
        .into_iter()
        .filter(|v| *v >= 7)
        .collect();
    sqlx::query(
        "DROP TABLE tenant_aa.processed_callbacks, tenant_aa.checkpoints_archive, \
         tenant_aa.checkpoint_blobs_archive, tenant_aa.checkpoint_writes_archive, \
         tenant_aa.payment_deadlines",
    )
    .execute(db.db().pool())
    .await
    .unwrap();
    sqlx::query("DROP INDEX IF EXISTS tenant_aa.idx_interactions_wamid")
        .execute(db.db().pool())
        .await
        .unwrap();
    sqlx::query("DELETE FROM tenant_aa._sqlx_migrations WHERE version >= 7")
        .execute(db.db().pool())
        .await
        .unwrap();
    assert_eq!(
        migrate::migrate_tenant(db.db(), a.slug()).await.unwrap(),
        missing
    );
    assert!(
        migrate::migrate_tenant(db.db(), b.slug())
            .await
            .unwrap()
            .is_empty()
    );
    let mut tx = a.begin().await.unwrap();
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM processed_callbacks")
        .fetch_one(tx.conn())
        .await
        .unwrap();
    assert_eq!(n, 0);
}

/// Runs `sql` in a savepoint and says whether the database accepted it,
/// returning the violated constraint's name if refused.
async fn attempt(tx: &mut TenantTx, sql: &str) -> Result<(), String> {
    sqlx::query("SAVEPOINT attempt")
        .execute(tx.conn())
        .await
        .unwrap();
    match sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
        .execute(tx.conn())
        .await
    {
        Ok(_) => {
            sqlx::query("RELEASE SAVEPOINT attempt")
                .execute(tx.conn())
                .await
                .unwrap();
            Ok(())
        }
        Err(sqlx::Error::Database(e)) => {
            sqlx::query("ROLLBACK TO SAVEPOINT attempt")
                .execute(tx.conn())
                .await
                .unwrap();
            Err(e.constraint().unwrap_or(e.message()).to_owned())
        }
        Err(e) => panic!("{e}"),
    }
}

#[tokio::test]
async fn registry_checks_reject_bad_values() {
    let db = TestDb::new().await;
    let pool = db.db().pool();
    let insert = |vertical: &'static str, status: &'static str, provider: &'static str| async move {
        sqlx::query(
            "INSERT INTO public.tenants (name, slug, vertical, status, preferred_payment_provider) \
             VALUES ('x', $1, $2, $3, $4)",
        )
        .bind(format!("t{}", rand::random::<u32>()))
        .bind(vertical)
        .bind(status)
        .bind(provider)
        .execute(pool)
        .await
        .map(|_| ())
        .map_err(|e| {
            e.as_database_error()
                .and_then(|d| d.constraint().map(str::to_owned))
                .unwrap_or_default()
        })
    };
    assert_eq!(insert("salon", "active", "mpesa").await, Ok(()));
    assert_eq!(insert("dental", "trial", "pesapal").await, Ok(()));
    assert_eq!(
        insert("carwash", "active", "mpesa").await,
        Err("ck_tenants_vertical".into())
    );
    assert_eq!(
        insert("salon", "paused", "mpesa").await,
        Err("ck_tenants_status".into())
    );
    assert_eq!(
        insert("salon", "active", "airtel").await,
        Err("ck_tenants_preferred_payment_provider".into())
    );

    let r = sqlx::query(
        "INSERT INTO public.payment_routing \
           (merchant_reference, tenant_id, schema_name, thread_id, provider, expires_at) \
         SELECT 'ref1', id, 'tenant_x', 't', 'bitcoin', now() FROM public.tenants LIMIT 1",
    )
    .execute(pool)
    .await
    .unwrap_err();
    assert_eq!(
        r.as_database_error().unwrap().constraint(),
        Some("ck_payment_routing_provider")
    );

    // Defaults from the reference.
    let row = sqlx::query(
        "SELECT timezone, currency, locale, cost_ceiling_soft_usd::text AS soft, \
                handoff_escalation_seconds, voice_stk_max_hold_seconds, widget_primary_color, \
                reminder_lead_seconds, preferred_payment_provider, payment_enabled \
         FROM public.tenants WHERE vertical = 'salon'",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    assert_eq!(row.get::<String, _>("timezone"), "Africa/Nairobi");
    assert_eq!(row.get::<String, _>("currency"), "KES");
    assert_eq!(row.get::<String, _>("locale"), "en");
    assert_eq!(row.get::<String, _>("soft"), "0.0500");
    assert_eq!(row.get::<i32, _>("handoff_escalation_seconds"), 3600);
    assert_eq!(row.get::<i32, _>("voice_stk_max_hold_seconds"), 90);
    assert_eq!(row.get::<String, _>("widget_primary_color"), "#0F766E");
    assert_eq!(row.get::<i32, _>("reminder_lead_seconds"), 86400);
    assert!(!row.get::<bool, _>("payment_enabled"));
}

#[tokio::test]
async fn registry_partial_unique_indexes_ignore_nulls_only() {
    let db = TestDb::new().await;
    let pool = db.db().pool();
    for slug in ["n1", "n2"] {
        // Two tenants without numbers: NULLs never collide.
        sqlx::query("INSERT INTO public.tenants (name, slug, vertical) VALUES ('x', $1, 'spa')")
            .bind(slug)
            .execute(pool)
            .await
            .unwrap();
    }
    for (column, index) in [
        ("voice_number", "uq_tenants_voice_number"),
        ("whatsapp_number", "uq_tenants_whatsapp_number"),
        (
            "whatsapp_phone_number_id",
            "uq_tenants_whatsapp_phone_number_id",
        ),
        ("schema_name", "uq_tenants_schema_name"),
    ] {
        let set = format!("UPDATE public.tenants SET {column} = 'same' WHERE slug = $1");
        sqlx::query(sqlx::AssertSqlSafe(set.clone()))
            .bind("n1")
            .execute(pool)
            .await
            .unwrap();
        let err = sqlx::query(sqlx::AssertSqlSafe(set))
            .bind("n2")
            .execute(pool)
            .await
            .unwrap_err();
        assert_eq!(err.as_database_error().unwrap().constraint(), Some(index));
    }
    let status_index: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM pg_indexes WHERE schemaname = 'public' \
         AND indexname = 'idx_tenants_status')",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    assert!(status_index);
}

#[tokio::test]
async fn tenant_checks_reject_bad_values() {
    let db = TestDb::new().await;
    let t = db.create_tenant("checks").await;
    let mut tx = t.begin().await.unwrap();

    // kra_pin: ^[AP][0-9]{9}[A-Z]$
    for good in ["A012345678K", "P987654321Z"] {
        let sql = format!("INSERT INTO staff (name, kra_pin) VALUES ('s', '{good}')");
        assert_eq!(attempt(&mut tx, &sql).await, Ok(()), "{good}");
    }
    for bad in [
        "B012345678K",
        "A01234567K",
        "A012345678k",
        "A0123456789K",
        "",
    ] {
        let sql = format!("INSERT INTO staff (name, kra_pin) VALUES ('s', '{bad}')");
        assert_eq!(
            attempt(&mut tx, &sql).await,
            Err("ck_staff_kra_pin".into()),
            "{bad:?}"
        );
    }

    // employment_type
    assert_eq!(
        attempt(
            &mut tx,
            "INSERT INTO staff (name, employment_type) VALUES ('s', 'apprentice')"
        )
        .await,
        Ok(())
    );
    assert_eq!(
        attempt(
            &mut tx,
            "INSERT INTO staff (name, employment_type) VALUES ('s', 'intern')"
        )
        .await,
        Err("ck_staff_employment_type".into())
    );
    let default: String =
        sqlx::query_scalar("INSERT INTO staff (name) VALUES ('d') RETURNING employment_type::text")
            .fetch_one(tx.conn())
            .await
            .unwrap();
    assert_eq!(default, "permanent");

    // commission XOR: exactly one of staff_id, service_category.
    let staff_id: uuid::Uuid =
        sqlx::query_scalar("INSERT INTO staff (name) VALUES ('c') RETURNING id")
            .fetch_one(tx.conn())
            .await
            .unwrap();
    let rule = |staff: &str, category: &str| {
        format!(
            "INSERT INTO commission_rules (staff_id, service_category, rule_type, value) \
             VALUES ({staff}, {category}, 'pct', '10')"
        )
    };
    let sid = format!("'{staff_id}'");
    assert_eq!(attempt(&mut tx, &rule(&sid, "NULL")).await, Ok(()));
    assert_eq!(attempt(&mut tx, &rule("NULL", "'braids'")).await, Ok(()));
    assert_eq!(
        attempt(&mut tx, &rule(&sid, "'braids'")).await,
        Err("ck_commission_rules_staff_xor_category".into())
    );
    assert_eq!(
        attempt(&mut tx, &rule("NULL", "NULL")).await,
        Err("ck_commission_rules_staff_xor_category".into())
    );
    assert_eq!(
        attempt(
            &mut tx,
            "INSERT INTO commission_rules (service_category, rule_type, value) \
             VALUES ('x', 'percent', '1')"
        )
        .await,
        Err("ck_commission_rules_rule_type".into())
    );

    // Enumerations across the tenant tables.
    let cases = [
        (
            "INSERT INTO payments (amount, provider) VALUES (100, 'paypal')",
            "ck_payments_provider",
        ),
        (
            "INSERT INTO payments (amount, status) VALUES (100, 'lost')",
            "ck_payments_status",
        ),
        (
            "INSERT INTO staff_schedules (staff_id, day_of_week, start_time, end_time) \
             SELECT id, 7, '08:00', '17:00' FROM staff LIMIT 1",
            "ck_staff_schedules_day_of_week",
        ),
        (
            "INSERT INTO appointments (start_at, end_at, status) VALUES (now(), now(), 'maybe')",
            "ck_appointments_status",
        ),
        (
            "INSERT INTO appointments (start_at, end_at, booking_channel) \
             VALUES (now(), now(), 'fax')",
            "ck_appointments_booking_channel",
        ),
        (
            "INSERT INTO interactions (channel, direction) VALUES ('sms', 'inbound')",
            "ck_interactions_channel",
        ),
        (
            "INSERT INTO conversation_threads (customer_phone, thread_id, channel_started, actor_type) \
             VALUES ('+254700000000', 't', 'voice', 'robot')",
            "ck_conversation_threads_actor_type",
        ),
        (
            "INSERT INTO handoff_log (thread_id, actor, actor_phone, content, claimed_via) \
             VALUES ('t', 'admin', 'p', 'c', 'email')",
            "ck_handoff_log_claimed_via",
        ),
        (
            "INSERT INTO handoff_log_archive (thread_id, actor, actor_phone, content) \
             VALUES ('t', 'bot', 'p', 'c')",
            "ck_handoff_log_actor",
        ),
        (
            "INSERT INTO dial_audits (dial) VALUES ('volume')",
            "ck_dial_audits_dial",
        ),
        (
            "INSERT INTO commission_period (staff_id, period_start, period_end) \
             SELECT id, '2026-02-01', '2026-01-01' FROM staff LIMIT 1",
            "ck_commission_period_range",
        ),
    ];
    for (sql, constraint) in cases {
        assert_eq!(
            attempt(&mut tx, sql).await,
            Err(constraint.to_owned()),
            "{sql}"
        );
    }
}

#[tokio::test]
async fn tenant_unique_indexes_behave() {
    let db = TestDb::new().await;
    let t = db.create_tenant("uniq").await;
    let mut tx = t.begin().await.unwrap();

    // Partial unique on customers.phone_e164: NULLs repeat, values do not.
    for _ in 0..2 {
        assert_eq!(
            attempt(&mut tx, "INSERT INTO customers (phone_e164) VALUES (NULL)").await,
            Ok(())
        );
    }
    assert_eq!(
        attempt(
            &mut tx,
            "INSERT INTO customers (phone_e164) VALUES ('+254700000001')"
        )
        .await,
        Ok(())
    );
    assert_eq!(
        attempt(
            &mut tx,
            "INSERT INTO customers (phone_e164) VALUES ('+254700000001')"
        )
        .await,
        Err("uq_customers_phone_e164".into())
    );

    // Partial unique on customer_sessions.handoff_token.
    for sql in [
        "INSERT INTO customer_sessions (handoff_token) VALUES (NULL)",
        "INSERT INTO customer_sessions (handoff_token) VALUES (NULL)",
        "INSERT INTO customer_sessions (handoff_token) VALUES ('tok')",
    ] {
        assert_eq!(attempt(&mut tx, sql).await, Ok(()));
    }
    assert_eq!(
        attempt(
            &mut tx,
            "INSERT INTO customer_sessions (handoff_token) VALUES ('tok')"
        )
        .await,
        Err("uq_customer_sessions_handoff_token".into())
    );

    // Personality is a singleton, but non-singleton rows may repeat.
    assert_eq!(
        attempt(
            &mut tx,
            "INSERT INTO tenant_personality_config (tone) VALUES ('warm')"
        )
        .await,
        Ok(())
    );
    assert_eq!(
        attempt(
            &mut tx,
            "INSERT INTO tenant_personality_config (tone) VALUES ('formal')"
        )
        .await,
        Err("uq_tenant_personality_singleton".into())
    );
    for _ in 0..2 {
        assert_eq!(
            attempt(
                &mut tx,
                "INSERT INTO tenant_personality_config (is_singleton) VALUES (FALSE)"
            )
            .await,
            Ok(())
        );
    }

    // Commission period idempotency key.
    let period = "INSERT INTO commission_period (staff_id, period_start, period_end) \
                  SELECT id, '2026-01-01', '2026-01-31' FROM staff WHERE name = 'p'";
    sqlx::query("INSERT INTO staff (name) VALUES ('p')")
        .execute(tx.conn())
        .await
        .unwrap();
    assert_eq!(attempt(&mut tx, period).await, Ok(()));
    assert_eq!(
        attempt(&mut tx, period).await,
        Err("uq_commission_period_idempotency".into())
    );
    tx.commit().await.unwrap();

    // payments.mpesa_receipt is unique DEFERRABLE INITIALLY DEFERRED: the
    // duplicate is only refused at commit.
    let mut tx = t.begin().await.unwrap();
    for _ in 0..2 {
        sqlx::query("INSERT INTO payments (amount, mpesa_receipt) VALUES (100, 'QK12ABC')")
            .execute(tx.conn())
            .await
            .expect("deferred: accepted until commit");
    }
    let err = tx.commit().await.unwrap_err().to_string();
    assert!(err.contains("uq_payments_mpesa_receipt"), "{err}");
    let deferrable: (bool, bool) = sqlx::query_as(
        "SELECT condeferrable, condeferred FROM pg_constraint c \
         JOIN pg_namespace n ON n.oid = c.connamespace \
         WHERE n.nspname = 'tenant_uniq' AND conname = 'uq_payments_mpesa_receipt'",
    )
    .fetch_one(db.db().pool())
    .await
    .unwrap();
    assert_eq!(deferrable, (true, true));
}

#[tokio::test]
async fn every_named_index_exists() {
    let db = TestDb::new().await;
    db.create_tenant("idx").await;
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT indexname::text FROM pg_indexes WHERE schemaname IN ('public', 'tenant_idx')",
    )
    .fetch_all(db.db().pool())
    .await
    .unwrap();
    for index in [
        "idx_tenants_status",
        "idx_tenant_admins_phone",
        "idx_payment_routing_tenant",
        "idx_payment_routing_expires",
        "idx_payment_callbacks_unrouted_unreviewed",
        "idx_inbound_quarantine_unreviewed",
        "idx_appointments_staff_date",
        "idx_appointments_contact",
        "idx_appointments_status_date",
        "idx_interactions_contact",
        "idx_payments_checkout",
        "idx_payments_appointment",
        "idx_threads_active_customer",
        "idx_threads_active_admin",
        "idx_handoff_log_thread",
        "uq_customers_phone_e164",
        "uq_customer_sessions_handoff_token",
        "ix_customer_identities_alias",
        "idx_service_relations_complementary",
        "idx_catalog_imports_actor",
        "idx_catalog_audits_service_time",
        "uq_tenant_personality_singleton",
        "idx_dial_audits_time",
        "idx_commission_rules_staff_active",
        "uq_commission_period_idempotency",
        "idx_commission_period_staff_period",
        "idx_knowledge_snippets_category",
        "uq_payments_mpesa_receipt",
    ] {
        assert!(names.iter().any(|n| n == index), "missing index {index}");
    }
    // Partial indexes carry their predicate.
    let def: String = sqlx::query_scalar(
        "SELECT indexdef FROM pg_indexes WHERE schemaname = 'tenant_idx' \
         AND indexname = 'idx_appointments_staff_date'",
    )
    .fetch_one(db.db().pool())
    .await
    .unwrap();
    assert!(def.contains("WHERE") && def.contains("cancelled"), "{def}");
}

#[tokio::test]
async fn handoff_log_archive_clones_handoff_log() {
    let db = TestDb::new().await;
    db.create_tenant("arch").await;
    let columns = |table: &'static str| {
        let pool = db.db().pool().clone();
        async move {
            sqlx::query(
                "SELECT column_name::text, data_type::text, is_nullable::text, \
                        coalesce(column_default, '') AS dflt \
                 FROM information_schema.columns \
                 WHERE table_schema = 'tenant_arch' AND table_name = $1 ORDER BY ordinal_position",
            )
            .bind(table)
            .fetch_all(&pool)
            .await
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r.get::<String, _>(0),
                    r.get::<String, _>(1),
                    r.get::<String, _>(2),
                    r.get::<String, _>(3),
                )
            })
            .collect::<Vec<_>>()
        }
    };
    let live = columns("handoff_log").await;
    let archive = columns("handoff_log_archive").await;
    assert_eq!(live.len(), 12);
    assert_eq!(live, archive);
    let claim: Vec<&str> = live
        .iter()
        .map(|c| c.0.as_str())
        .filter(|c| c.starts_with("claimed") || *c == "admin_replied_at")
        .collect();
    assert_eq!(
        claim,
        [
            "claimed_by_admin_id",
            "claimed_at",
            "admin_replied_at",
            "claimed_via"
        ]
    );

    // The reaper's move works column-for-column.
    let t = db.db().tenant(&"arch".parse().unwrap());
    let mut tx = t.begin().await.unwrap();
    sqlx::query(
        "INSERT INTO handoff_log (thread_id, actor, actor_phone, content, sent_at) \
         VALUES ('t1', 'customer', '+254700000002', 'Habari', now() - interval '100 days')",
    )
    .execute(tx.conn())
    .await
    .unwrap();
    let moved = sqlx::query(
        "WITH old AS (DELETE FROM handoff_log WHERE sent_at < now() - interval '90 days' RETURNING *) \
         INSERT INTO handoff_log_archive SELECT * FROM old",
    )
    .execute(tx.conn())
    .await
    .unwrap()
    .rows_affected();
    assert_eq!(moved, 1);
}
