//! Two customers racing for the same staff member's time can never both get
//! it: 50 rounds of 6 concurrent bookings of one slot (and of overlapping
//! slots), each round exactly one winner.

mod common;

use chrono::{DateTime, Duration, Utc};
use ratiba::core::dialog::Channel;
use ratiba::core::ids::PhoneNumber;
use ratiba::storage::TenantHandle;
use ratiba::storage::booking::{self, BookingError, NewBooking};
use uuid::Uuid;

async fn ids(demo: &TenantHandle) -> (Uuid, Uuid) {
    let mut tx = demo.begin().await.unwrap();
    let staff: Uuid = sqlx::query_scalar("SELECT id FROM staff WHERE name = 'Wanjiku Kamau'")
        .fetch_one(tx.conn())
        .await
        .unwrap();
    let service: Uuid = sqlx::query_scalar("SELECT id FROM services WHERE name = 'Cornrows'")
        .fetch_one(tx.conn())
        .await
        .unwrap();
    (staff, service)
}

async fn try_book(
    demo: TenantHandle,
    n: usize,
    staff: Uuid,
    service: Uuid,
    start: DateTime<Utc>,
) -> bool {
    let phone = PhoneNumber::parse(&format!("+2547130{n:05}")).unwrap();
    let mut tx = demo.begin().await.unwrap();
    let contact = booking::ensure_contact(&mut tx, &phone, None, "en")
        .await
        .unwrap();
    let result = booking::book(
        &mut tx,
        &NewBooking {
            contact_id: contact,
            service_id: service,
            staff_id: staff,
            start,
            channel: Channel::WhatsApp,
            customer: &phone,
        },
    )
    .await;
    match result {
        Ok(_) => {
            tx.commit().await.unwrap();
            true
        }
        Err(BookingError::SlotTaken) => false,
        Err(e) => panic!("unexpected booking error: {e}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_bookings_of_one_slot_have_one_winner() {
    let db = common::TestDb::new().await;
    let demo = db.seed_demo().await;
    let (staff, service) = ids(&demo).await;
    // Tuesday 2030-01-08 08:00 EAT; each round a later day.
    let base: DateTime<Utc> = "2030-01-08T05:00:00Z".parse().unwrap();
    for round in 0..50i64 {
        let start = base + Duration::days(round * 7);
        let mut tasks = Vec::new();
        for k in 0..6usize {
            // Half the racers ask for 08:00, half for 08:30: a Cornrows
            // (90 min + 15 min buffer) at either overlaps the other.
            let at = if k % 2 == 0 {
                start
            } else {
                start + Duration::minutes(30)
            };
            tasks.push(tokio::spawn(try_book(
                demo.clone(),
                round as usize * 10 + k,
                staff,
                service,
                at,
            )));
        }
        let mut winners = 0;
        for t in tasks {
            if t.await.unwrap() {
                winners += 1;
            }
        }
        assert_eq!(
            winners, 1,
            "round {round}: {winners} bookings of one staff member's overlapping time"
        );
    }
    let mut tx = demo.begin().await.unwrap();
    let rows: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM appointments WHERE staff_id = $1 AND status <> 'cancelled'",
    )
    .bind(staff)
    .fetch_one(tx.conn())
    .await
    .unwrap();
    assert_eq!(rows, 50);
    // No two non-cancelled appointments of the staff member overlap.
    let overlaps: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM appointments a JOIN appointments b ON a.staff_id = b.staff_id AND a.id < b.id \
         WHERE a.staff_id = $1 AND a.status <> 'cancelled' AND b.status <> 'cancelled' \
           AND a.start_at < b.end_at AND b.start_at < a.end_at",
    )
    .bind(staff)
    .fetch_one(tx.conn())
    .await
    .unwrap();
    assert_eq!(overlaps, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn different_staff_do_not_block_each_other() {
    let db = common::TestDb::new().await;
    let demo = db.seed_demo().await;
    let (wanjiku, cornrows) = ids(&demo).await;
    let brian: Uuid = {
        let mut tx = demo.begin().await.unwrap();
        sqlx::query_scalar("SELECT id FROM staff WHERE name = 'Brian Mwangi'")
            .fetch_one(tx.conn())
            .await
            .unwrap()
    };
    let start: DateTime<Utc> = "2030-01-08T08:00:00Z".parse().unwrap(); // 11:00 EAT
    let a = tokio::spawn(try_book(demo.clone(), 1, wanjiku, cornrows, start));
    let b = tokio::spawn(try_book(demo.clone(), 2, brian, cornrows, start));
    assert!(a.await.unwrap() && b.await.unwrap());
}

/// The 15-minute turnover is between customers: one customer's second
/// service may start when their first ends; another customer's may not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_customers_services_need_no_turnover_between_them() {
    let db = common::TestDb::new().await;
    let demo = db.seed_demo().await;
    let (wanjiku, cornrows) = ids(&demo).await;
    // Tuesday 2030-01-08 08:00 EAT; Cornrows take 90 minutes.
    let first: DateTime<Utc> = "2030-01-08T05:00:00Z".parse().unwrap();
    let ends = first + Duration::minutes(90);
    assert!(try_book(demo.clone(), 7, wanjiku, cornrows, first).await);
    // Another customer at its end: inside the turnover.
    assert!(!try_book(demo.clone(), 8, wanjiku, cornrows, ends).await);
    // The same customer (same phone, same contact) at its end.
    assert!(try_book(demo.clone(), 7, wanjiku, cornrows, ends).await);
    // And right before the first, ending at its start.
    assert!(
        try_book(
            demo.clone(),
            7,
            wanjiku,
            cornrows,
            first - Duration::minutes(90)
        )
        .await
    );
    // Another customer still cannot start in the last one's turnover.
    assert!(
        !try_book(
            demo.clone(),
            9,
            wanjiku,
            cornrows,
            ends + Duration::minutes(90)
        )
        .await
    );
}
