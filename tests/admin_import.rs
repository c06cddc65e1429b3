//! Catalogue import through the admin API, against a real database over
//! loopback HTTP: a pasted price list (Swahili names, a malformed line)
//! read into a preview that changes nothing; the commit creating and
//! updating services with catalog_audits source 'import', seen by the
//! conversation at once; commit and rollback each happening once; the
//! rollback restoring prices and removing what the import created (a
//! booked service withdrawn instead); the 7-day window; CSV; tenant
//! isolation of the import ids.

mod common;

use common::TestDb;
use common::admin::{Api, OneTenant, book, catalogue, one_tenant, say, ten_am, tenant, token_for};
use ratiba::runtime::conversation::ConversationService;
use ratiba::storage::TenantHandle;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const LIST: &str = "NYWELE\n\
Box braids 4500 4hrs\n\
Kusuka mabutu - 1,200/= (1.5 hrs)\n\
Gel nails KES 1,800 1hr\n\
Pedicure 1000\n\
Wash and set 30 mins\n";

async fn services(api: &Api, token: &str) -> Vec<Value> {
    api.ok(
        StatusCode::OK,
        "/services",
        Method::GET,
        "/services",
        token,
        None,
    )
    .await
    .as_array()
    .unwrap()
    .clone()
}

fn by_name<'a>(services: &'a [Value], name: &str) -> Option<&'a Value> {
    services.iter().find(|s| s["name"] == name)
}

async fn import_audits(handle: &TenantHandle) -> Vec<(String, String)> {
    let mut tx = handle.begin().await.unwrap();
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT action, entity FROM catalog_audits WHERE source = 'import' ORDER BY created_at, action",
    )
    .fetch_all(tx.conn())
    .await
    .unwrap();
    tx.commit().await.unwrap();
    rows
}

async fn upload(api: &Api, token: &str, format: &str, content: &str) -> Value {
    api.ok(
        StatusCode::CREATED,
        "/catalog/imports",
        Method::POST,
        "/catalog/imports",
        token,
        Some(json!({"format": format, "content": content})),
    )
    .await
}

async fn act(api: &Api, token: &str, import: &str, what: &str) -> (StatusCode, Value) {
    api.call(
        &format!("/catalog/imports/{{id}}/{what}"),
        Method::POST,
        &format!("/catalog/imports/{import}/{what}"),
        token,
        None,
    )
    .await
}

fn line(preview: &Value, n: u64) -> &Value {
    preview["lines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["line"] == n)
        .unwrap_or_else(|| panic!("no line {n} in {preview}"))
}

#[tokio::test]
async fn a_pasted_price_list_is_previewed_committed_seen_and_rolled_back() {
    let db = TestDb::new().await;
    let OneTenant {
        handle,
        api,
        token,
        admin,
        ..
    } = one_tenant(&db, "alpha").await;
    let (gel, _) = catalogue(&api, &token, "Gel nails").await;

    // The preview: every line, what it gives and how sure; nothing changed.
    let preview = upload(&api, &token, "text", LIST).await;
    assert_eq!(preview["status"], "preview", "{preview}");
    assert_eq!(preview["modality"], "text");
    assert_eq!(preview["type"], "re-import");
    assert_eq!(preview["actor_admin_id"], admin.to_string());
    assert_eq!(preview["lines"].as_array().unwrap().len(), 5, "{preview}");
    let braids = line(&preview, 2);
    assert_eq!(braids["outcome"], "create");
    assert_eq!(braids["name"]["value"], "Box braids");
    assert_eq!(braids["price"]["value"], "4500.00");
    assert_eq!(braids["duration_min"]["value"], 240);
    assert_eq!(braids["category"]["value"], "braids");
    let swahili = line(&preview, 3);
    assert_eq!(swahili["outcome"], "create");
    assert_eq!(swahili["name"]["value"], "Kusuka mabutu");
    assert_eq!(swahili["price"]["value"], "1200.00");
    assert_eq!(swahili["duration_min"]["value"], 90);
    assert!(swahili["price"]["confidence"].as_f64().unwrap() > 0.9);
    let gel_line = line(&preview, 4);
    assert_eq!(gel_line["outcome"], "update");
    assert_eq!(gel_line["service_id"], gel);
    assert_eq!(gel_line["price"]["value"], "1800.00");
    // No duration: 60 minutes assumed, low confidence, flagged.
    let pedicure = line(&preview, 5);
    assert_eq!(pedicure["outcome"], "create");
    assert_eq!(pedicure["duration_min"]["value"], 60);
    assert!(pedicure["duration_min"]["confidence"].as_f64().unwrap() < 0.5);
    assert_eq!(pedicure["flagged"], json!(["duration_min"]));
    // The malformed line is shown with its reason, not dropped.
    let bad = line(&preview, 6);
    assert_eq!(bad["outcome"], "rejected");
    assert_eq!(bad["reason"], "no price");
    assert_eq!(bad["text"], "Wash and set 30 mins");
    let summary = &preview["summary"];
    assert_eq!(
        (
            &summary["create"],
            &summary["update"],
            &summary["rejected"],
            &summary["flagged"]
        ),
        (&json!(3), &json!(1), &json!(1), &json!(1))
    );
    assert_eq!(services(&api, &token).await.len(), 1);
    assert!(import_audits(&handle).await.is_empty());
    let import = preview["import_id"].as_str().unwrap().to_owned();
    let got = api
        .ok(
            StatusCode::OK,
            "/catalog/imports/{id}",
            Method::GET,
            &format!("/catalog/imports/{import}"),
            &token,
            None,
        )
        .await;
    assert_eq!(got["lines"], preview["lines"]);
    // A rollback of a preview is refused.
    let (status, v) = act(&api, &token, &import, "rollback").await;
    assert_eq!(status, StatusCode::CONFLICT, "{v}");

    // Before: the conversation knows only gel nails at 1,500.
    let conversation = ConversationService::new(db.db().clone());
    let now = ten_am(0);
    let before = say(
        &conversation,
        &handle,
        "+254712000101",
        "what are your prices?",
        now,
    )
    .await;
    assert!(
        before.contains("1,500") && !before.contains("Box braids"),
        "{before}"
    );

    // Commit, twice at once: one change, one refusal.
    let (first, second) = tokio::join!(
        act(&api, &token, &import, "commit"),
        act(&api, &token, &import, "commit")
    );
    let mut outcomes = [first.0, second.0];
    outcomes.sort();
    assert_eq!(
        outcomes,
        [StatusCode::OK, StatusCode::CONFLICT],
        "{first:?} {second:?}"
    );
    let committed = if first.0 == StatusCode::OK {
        first.1
    } else {
        second.1
    };
    assert_eq!(committed["status"], "committed", "{committed}");
    assert_eq!(committed["result"]["created"].as_array().unwrap().len(), 3);
    assert_eq!(committed["result"]["updated"], json!([gel]));
    assert!(committed["rollback_until"].is_string());
    let (status, again) = act(&api, &token, &import, "commit").await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(
        again["message"]
            .as_str()
            .unwrap()
            .contains("already committed"),
        "{again}"
    );

    let after = services(&api, &token).await;
    assert_eq!(after.len(), 4, "{after:?}");
    let b = by_name(&after, "Box braids").unwrap();
    assert_eq!(
        (&b["price"], &b["duration_min"]),
        (&json!("4500.00"), &json!(240))
    );
    assert_eq!(b["currency"], "KES");
    let k = by_name(&after, "Kusuka mabutu").unwrap();
    assert_eq!(
        (&k["price"], &k["duration_min"]),
        (&json!("1200.00"), &json!(90))
    );
    let g = by_name(&after, "Gel nails").unwrap();
    // The price changed; the duration (1hr) was already 60.
    assert_eq!(
        (&g["price"], &g["duration_min"]),
        (&json!("1800.00"), &json!(60))
    );
    let mut audits = import_audits(&handle).await;
    audits.sort();
    assert_eq!(
        audits,
        vec![
            ("insert".to_owned(), "service".to_owned()),
            ("insert".to_owned(), "service".to_owned()),
            ("insert".to_owned(), "service".to_owned()),
            ("update".to_owned(), "service".to_owned()),
        ]
    );
    let listed = api
        .ok(
            StatusCode::OK,
            "/catalog/audits",
            Method::GET,
            "/catalog/audits",
            &token,
            None,
        )
        .await;
    let gel_audit = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["row_id"] == gel && a["source"] == "import")
        .unwrap_or_else(|| panic!("{listed}"));
    assert_eq!(gel_audit["before"]["price"], json!(1500.0));
    assert_eq!(gel_audit["after"]["price"], json!(1800.0));
    assert_eq!(gel_audit["actor_admin_id"], admin.to_string());

    // The conversation offers the new prices at once.
    let seen = say(
        &conversation,
        &handle,
        "+254712000102",
        "what are your prices?",
        now,
    )
    .await;
    assert!(
        seen.contains("Box braids") && seen.contains("4,500") && seen.contains("1,800"),
        "{seen}"
    );

    // Rollback: prices back, created services gone; once only.
    let rolled = act(&api, &token, &import, "rollback").await;
    assert_eq!(rolled.0, StatusCode::OK, "{}", rolled.1);
    assert_eq!(rolled.1["status"], "rolled_back");
    assert_eq!(rolled.1["result"]["restored"], 1);
    assert_eq!(rolled.1["result"]["deleted"], 3);
    assert_eq!(rolled.1["result"]["rolled_back_by"], admin.to_string());
    let back = services(&api, &token).await;
    assert_eq!(back.len(), 1, "{back:?}");
    assert_eq!(back[0]["id"], gel);
    assert_eq!(back[0]["price"], "1500.00");
    assert_eq!(back[0]["duration_min"], 60);
    assert_eq!(import_audits(&handle).await.len(), 8);
    let (status, v) = act(&api, &token, &import, "rollback").await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("already rolled back"),
        "{v}"
    );
    let (status, _) = act(&api, &token, &import, "commit").await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(import_audits(&handle).await.len(), 8);
    assert_eq!(services(&api, &token).await, back);
    let gone = say(
        &conversation,
        &handle,
        "+254712000103",
        "what are your prices?",
        now,
    )
    .await;
    assert!(
        gone.contains("1,500") && !gone.contains("Box braids"),
        "{gone}"
    );
}

async fn set_committed_days_ago(handle: &TenantHandle, import: &str, days: i64, hours: i64) {
    let mut tx = handle.begin().await.unwrap();
    sqlx::query(
        "UPDATE catalog_imports SET committed_at = NOW() - make_interval(days => $2, hours => $3) \
         WHERE import_id = $1::uuid",
    )
    .bind(import)
    .bind(days as i32)
    .bind(hours as i32)
    .execute(tx.conn())
    .await
    .unwrap();
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn an_import_can_be_rolled_back_for_seven_days_only() {
    let db = TestDb::new().await;
    let OneTenant {
        handle, api, token, ..
    } = one_tenant(&db, "alpha").await;

    let old = upload(&api, &token, "text", "Box braids 4500 4hrs\n").await;
    assert_eq!(old["type"], "initial");
    let old = old["import_id"].as_str().unwrap().to_owned();
    let (status, _) = act(&api, &token, &old, "commit").await;
    assert_eq!(status, StatusCode::OK);
    set_committed_days_ago(&handle, &old, 7, 1).await;
    let (status, v) = act(&api, &token, &old, "rollback").await;
    assert_eq!(status, StatusCode::CONFLICT, "{v}");
    assert_eq!(v["error"], "conflict");
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("more than 7 days ago"),
        "{v}"
    );
    // Nothing was undone.
    let now = services(&api, &token).await;
    assert_eq!(now.len(), 1);
    assert_eq!(now[0]["name"], "Box braids");
    let audits = import_audits(&handle).await.len();
    assert_eq!(audits, 1);

    // Just inside the window it still works.
    let recent = upload(&api, &token, "text", "Box braids 5000 4hrs\n").await;
    assert_eq!(line(&recent, 1)["outcome"], "update");
    let recent = recent["import_id"].as_str().unwrap().to_owned();
    let (status, _) = act(&api, &token, &recent, "commit").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(services(&api, &token).await[0]["price"], "5000.00");
    set_committed_days_ago(&handle, &recent, 6, 23).await;
    let (status, v) = act(&api, &token, &recent, "rollback").await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(services(&api, &token).await[0]["price"], "4500.00");
}

#[tokio::test]
async fn a_csv_import_is_read_and_a_booked_service_is_withdrawn_not_deleted_on_rollback() {
    let db = TestDb::new().await;
    let OneTenant { api, token, .. } = one_tenant(&db, "alpha").await;
    let (gel, staff) = catalogue(&api, &token, "Gel nails").await;

    let csv = "Service,Price (KES),Duration,Category\n\
               Manicure,800,45,nails\n\
               \"Gel nails\",\"1,500\",60,nails\n\
               ,300,10,\n";
    let preview = upload(&api, &token, "csv", csv).await;
    assert_eq!(preview["modality"], "csv");
    assert_eq!(line(&preview, 2)["outcome"], "create");
    assert_eq!(line(&preview, 3)["outcome"], "unchanged");
    assert_eq!(line(&preview, 3)["service_id"], gel);
    assert_eq!(line(&preview, 4)["outcome"], "rejected");
    let import = preview["import_id"].as_str().unwrap().to_owned();
    let (status, committed) = act(&api, &token, &import, "commit").await;
    assert_eq!(status, StatusCode::OK, "{committed}");
    assert_eq!(committed["result"]["unchanged"], 1);
    let manicure = committed["result"]["created"][0]
        .as_str()
        .unwrap()
        .to_owned();

    // Someone books the new manicure.
    api.ok(
        StatusCode::OK,
        "/staff/{id}/services/{service_id}",
        Method::PUT,
        &format!("/staff/{staff}/services/{manicure}"),
        &token,
        None,
    )
    .await;
    let appt = book(&api, &token, "0712000001", &manicure, &staff, ten_am(1)).await;

    let (status, rolled) = act(&api, &token, &import, "rollback").await;
    assert_eq!(status, StatusCode::OK, "{rolled}");
    assert_eq!(rolled["result"]["deactivated"], 1);
    assert_eq!(rolled["result"]["deleted"], 0);
    let after = services(&api, &token).await;
    let m = by_name(&after, "Manicure").unwrap();
    assert_eq!(m["is_active"], false);
    // The appointment still has its service.
    let kept = api
        .ok(
            StatusCode::OK,
            "/appointments/{id}",
            Method::GET,
            &format!("/appointments/{appt}"),
            &token,
            None,
        )
        .await;
    assert_eq!(kept["service_id"], manicure, "{kept}");
}

#[tokio::test]
async fn another_tenants_token_gets_404_on_import_ids() {
    let db = TestDb::new().await;
    let a = tenant(&db, "alpha", "1001").await;
    let b = tenant(&db, "beta", "2002").await;
    let api = Api::start(&db, None).await;
    let (ta, _) = token_for(&db, &a, "+254722000001").await;
    let (tb, _) = token_for(&db, &b, "+254722000002").await;
    let committed = upload(&api, &tb, "text", "Box braids 4500 4hrs\n").await;
    let committed = committed["import_id"].as_str().unwrap().to_owned();
    assert_eq!(act(&api, &tb, &committed, "commit").await.0, StatusCode::OK);
    let previewed = upload(&api, &tb, "text", "Manicure 800 45min\n").await;
    let previewed = previewed["import_id"].as_str().unwrap().to_owned();
    upload(&api, &ta, "text", "Pedicure 1000 1h\n").await;

    for import in [&committed, &previewed] {
        let (status, v) = api
            .call(
                "/catalog/imports/{id}",
                Method::GET,
                &format!("/catalog/imports/{import}"),
                &ta,
                None,
            )
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{v}");
        for what in ["commit", "rollback"] {
            let (status, v) = act(&api, &ta, import, what).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{what} {import}: {v}");
        }
    }
    let listed = api
        .ok(
            StatusCode::OK,
            "/catalog/imports",
            Method::GET,
            "/catalog/imports",
            &ta,
            None,
        )
        .await;
    assert_eq!(listed.as_array().unwrap().len(), 1);
    let text = listed.to_string();
    assert!(!text.contains(&committed) && !text.contains(&previewed));
    // B's imports are as B left them.
    let mine = api
        .ok(
            StatusCode::OK,
            "/catalog/imports",
            Method::GET,
            "/catalog/imports",
            &tb,
            None,
        )
        .await;
    let states: Vec<&str> = mine
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["status"].as_str().unwrap())
        .collect();
    assert_eq!(states, vec!["preview", "committed"]);
    let b_services = services(&api, &tb).await;
    assert_eq!(b_services.len(), 1);
    assert_eq!(b_services[0]["name"], "Box braids");
}
